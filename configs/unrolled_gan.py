"""Unrolled GAN (Metz et al. 2017) on the 8-Gaussian ring of its Sec. 3.1: MLP players (two hidden
layers of 128, 256-d latents), K = 5 unrolled discriminator steps, Adam with the paper's rates
(lr 1e-4 for D, 1e-3 for G; beta1 0.5), batch 512, 25,000 steps. G minimises f_K(theta_G, theta_D)
= f(theta_G, theta_D^K(theta_G, theta_D)), the value function at the unrolled discriminator
(Eq. 4-6; `ganjax.algorithms.unrolled_gan`).

  python -m ganjax.main --config=configs/unrolled_gan.py --workdir=/tmp/unrolled
  python -m ganjax.main --config=configs/unrolled_gan.py --workdir=/tmp/unrolled10 --config.unrolled.steps=10
  python -m ganjax.main --config=configs/unrolled_gan.py:grid25 --workdir=/tmp/unrolled_grid
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("unrolled_gan.py", arg, ("ring8", "grid25"))
  c = base_config.get_gan_config()
  c.algorithm = "unrolled_gan"
  c.model.generator = c.model.discriminator = "mlp"
  base_config.mixture_settings(c, arg or "ring8")
  c.optim.d.lr = 1e-4
  c.optim.g.lr = 1e-3
  c.unrolled = ml_collections.ConfigDict()
  c.unrolled.steps = 5  # K: unrolled discriminator updates G looks through (0: the plain GAN's gradient)
  return c
