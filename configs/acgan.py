"""AC-GAN (Odena et al. 2017): DCGAN players at 32x32, D with 1 + K outputs (source and class),
G on [z, one_hot(c)]; Adam(2e-4, beta1 0.5) as in the paper.

  python -m ganjax.main --config=configs/acgan.py --workdir=/tmp/acgan
  python -m ganjax.main --config=configs/acgan.py --workdir=/tmp/acgan_mnist --config.data.name=idx:../shared/data/mnist
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("acgan.py", arg)
  c = base_config.get_dcgan_config()
  c.algorithm = "acgan"
  c.model.num_classes = 10
  return c
