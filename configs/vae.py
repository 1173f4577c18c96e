"""VAE (Kingma & Welling 2013): MLP encoder/decoder (hidden 500, 20 latents, as the Flax VAE example),
Bernoulli decoder on dynamically binarised pixels, Adam 1e-3. Reports the ELBO in nats.

  python -m ganjax.main --config=configs/vae.py --workdir=/tmp/vae
  python -m ganjax.main --config=configs/vae.py --workdir=/tmp/vae_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000
  python -m ganjax.main --config=configs/vae.py:gaussian --workdir=/tmp/vae_gauss   # Gaussian decoder
  python -m ganjax.main --config=configs/vae.py:practical --workdir=/tmp/vae_fixed   # q = N(mu, I), KL = |mu|^2 / 2
  python -m ganjax.main --config=configs/vae.py:conv --workdir=/tmp/vae_conv         # DCGAN-style conv encoder/decoder, 32x32
  python -m ganjax.main --config=configs/vae.py:beta --workdir=/tmp/vae_beta4        # beta-VAE, beta = 4
  # the IWAE bound (Burda et al. 2016) with k = 5000 at evaluation:
  python -m ganjax.main --config=configs/vae.py --workdir=/tmp/vae_mnist --mode=eval --config.vae.iwae_samples=5000
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("vae.py", arg, ("gaussian", "practical", "conv", "beta"))
  c = base_config.get_config()
  c.algorithm = "vae"
  c.batch_size = 128
  c.num_steps = 10_000
  c.model.latent_dim = 20
  c.model.encoder = c.model.generator = "mlp"
  c.model.e_hidden = (500,)
  c.model.g_hidden = (500,)
  c.optim = ml_collections.ConfigDict({"vae": base_config.adam(1e-3)})
  c.vae = ml_collections.ConfigDict()
  c.vae.likelihood = "bernoulli"  # bernoulli | gaussian (learned global sigma)
  c.vae.binarize = True  # dynamic binarisation of [0, 1] pixels (Bernoulli only)
  c.vae.beta = 1.0  # weight of the KL term (1: the ELBO)
  c.vae.posterior = "gaussian"  # gaussian (learned variance) | fixed_sigma (N(mu, I): KL = |mu|^2 / 2)
  c.vae.iwae_samples = 0  # > 0: also evaluate the IWAE bound with this many samples per image
  if arg == "gaussian":
    c.vae.likelihood = "gaussian"
    c.vae.binarize = False
  elif arg == "practical":
    c.vae.posterior = "fixed_sigma"
  elif arg == "conv":
    c.data.image_size = 32
    c.model.encoder = c.model.generator = "dcgan"
    c.model.width = 32
  elif arg == "beta":
    c.vae.beta = 4.0
  return c
