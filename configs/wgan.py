"""WGAN (Arjovsky et al. 2017, Algorithm 1): DCGAN players, the critic's Wasserstein loss, critic
weights clipped to [-0.01, 0.01], RMSProp with lr 5e-5, 5 critic updates per generator update.
`d/wasserstein` in metrics.jsonl is the critic's estimate of the Wasserstein distance.

  python -m ganjax.main --config=configs/wgan.py --workdir=/tmp/wgan
  python -m ganjax.main --config=configs/wgan.py --workdir=/tmp/wgan_mnist --config.data.name=idx:../shared/data/mnist
"""

from ganjax import base_config


def rmsprop(lr):
  return base_config.optimizer("rmsprop", lr, decay=0.99, eps=1e-8)


def get_config(arg=None):
  base_config.argument("wgan.py", arg)
  c = base_config.get_dcgan_config()
  c.gan.loss = "wasserstein"
  c.gan.clip = 0.01
  c.gan.d_steps = 5
  c.optim.g = rmsprop(5e-5)
  c.optim.d = rmsprop(5e-5)
  return c
