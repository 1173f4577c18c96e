"""Autoencoder (the seeds' stacked autoencoder, trained end to end): MLP 784-512-256-32-256-512-784
with leaky-ReLU encoder and ReLU decoder, Bernoulli cross-entropy on [0, 1] pixels, Adam 1e-3.

  python -m ganjax.main --config=configs/ae.py --workdir=/tmp/ae
  python -m ganjax.main --config=configs/ae.py --workdir=/tmp/ae_mnist --config.data.name=idx:../shared/data/mnist
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("ae.py", arg)
  c = base_config.get_config()
  c.algorithm = "ae"
  c.batch_size = 128
  c.num_steps = 10_000
  c.model.encoder = "mlp"
  c.model.e_hidden = (512, 256)
  c.model.latent_dim = 32
  c.optim = ml_collections.ConfigDict({"ae": base_config.adam(1e-3)})
  c.ae = ml_collections.ConfigDict()
  c.ae.loss = "bce"  # bce (Bernoulli cross-entropy on [0, 1] pixels) | mse (on [-1, 1])
  c.ae.noise = "none"  # none | gaussian | masking | salt_pepper | uniform_mix (configs/dae.py)
  c.ae.noise_level = 0.0  # sigma (gaussian) or the corrupted fraction p (masking, salt_pepper)
  return c
