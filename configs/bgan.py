"""Boundary-seeking GAN (Hjelm et al. 2018).

Default: the continuous BGAN on DCGAN players -- the GAN step with G minimising
1/2 (log D(G(z)) - log(1 - D(G(z))))^2 (Eq. 8), Adam(2e-4, beta1 0.5).
`:discrete`: the discrete BGAN on dynamically binarised images -- G outputs Bernoulli logits, M = 20
samples per z, normalised importance weights w = D / (1 - D) (Algorithm 1), MLP players on 28x28.

  python -m ganjax.main --config=configs/bgan.py --workdir=/tmp/bgan
  python -m ganjax.main --config=configs/bgan.py:discrete --workdir=/tmp/bgan_discrete \
      --config.data.name=idx:../shared/data/mnist
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  if arg in (None, "", "continuous"):
    c = base_config.get_dcgan_config()
    c.gan.loss = "boundary_seeking"
    return c
  if arg != "discrete":
    raise ValueError(f"configs/bgan.py takes no argument, continuous or discrete, got {arg!r}")
  c = base_config.get_gan_config()
  c.algorithm = "bgan"
  c.num_steps = 10_000
  c.model.generator = c.model.discriminator = "mlp"
  c.bgan = ml_collections.ConfigDict()
  c.bgan.num_samples = 20  # M samples per z, over which the importance weights are normalised
  return c
