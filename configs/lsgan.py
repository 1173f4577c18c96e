"""LSGAN (Mao et al. 2017, Eq. 2 with a = 0, b = c = 1): DCGAN players with least-squares losses on
D's raw outputs; Adam(lr 2e-4, beta1 0.5) as in the paper's DCGAN-style experiments.

  python -m ganjax.main --config=configs/lsgan.py --workdir=/tmp/lsgan
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("lsgan.py", arg)
  c = base_config.get_dcgan_config()
  c.gan.loss = "least_squares"
  return c
