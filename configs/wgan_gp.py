"""WGAN-GP (Gulrajani et al. 2017, Algorithm 1): the Wasserstein critic loss plus lambda = 10 times
the gradient penalty at random interpolates, Adam(lr 1e-4, beta1 0, beta2 0.9), 5 critic updates
per generator update, and no batch norm in the critic (Sec. 4: it would make the penalty invalid).

  python -m ganjax.main --config=configs/wgan_gp.py --workdir=/tmp/wgan_gp
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("wgan_gp.py", arg)
  c = base_config.get_dcgan_config()
  c.gan.loss = "wasserstein"
  c.gan.penalty = "gradient"
  c.gan.penalty_weight = 10.0
  c.gan.d_steps = 5
  c.model.d_batch_norm = False
  c.optim.g = base_config.adam(1e-4, b1=0.0, b2=0.9)
  c.optim.d = base_config.adam(1e-4, b1=0.0, b2=0.9)
  return c
