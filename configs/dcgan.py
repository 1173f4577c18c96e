"""DCGAN (Radford et al. 2015): strided-conv D with LeakyReLU(0.2), transposed-conv G with batch norm,
N(0, 0.02) init, Adam(lr 2e-4, beta1 0.5), batch 64, z ~ N(0, I) of 100 dims, 32x32 images.

  python -m ganjax.main --config=configs/dcgan.py --workdir=/tmp/dcgan
  python -m ganjax.main --config=configs/dcgan.py --workdir=/tmp/dcgan_mnist \
      --config.data.name=idx:../shared/data/mnist
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("dcgan.py", arg)
  c = base_config.get_dcgan_config()
  c.optim.g = base_config.adam(2e-4, b1=0.5)
  c.optim.d = base_config.adam(2e-4, b1=0.5)
  return c
