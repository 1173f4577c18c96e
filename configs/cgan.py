"""Conditional GAN (Mirza & Osindero 2014): MLP players that both see the one-hot label, G on
[z, y] and D on [x, y]; non-saturating G loss, Adam(2e-4, beta1 0.5).

  python -m ganjax.main --config=configs/cgan.py --workdir=/tmp/cgan
  python -m ganjax.main --config=configs/cgan.py --workdir=/tmp/cgan_mnist --config.data.name=idx:../shared/data/mnist
  python -m ganjax.main --config=configs/cgan.py --workdir=/tmp/cgan --mode=sample   # classes.png: a row per class
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("cgan.py", arg)
  c = base_config.get_gan_config()
  c.algorithm = "cgan"
  c.num_steps = 20_000
  c.model.generator = c.model.discriminator = "mlp"
  c.model.num_classes = 10
  return c
