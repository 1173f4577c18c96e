"""GMAN (Durugkar, Gemp & Mahadevan 2017): one DCGAN generator against N = 5 DCGAN discriminators
at 32x32, each trained on its own loss; the generator minimises the soft mean
sum_i softmax(lambda V)_i V_i of their generator losses (Sec. 3.2; lambda = 0: the mean, GMAN-0;
large lambda: the max). Adam(2e-4, beta1 0.5).

  python -m ganjax.main --config=configs/gman.py --workdir=/tmp/gman
  python -m ganjax.main --config=configs/gman.py --workdir=/tmp/gman_max --config.gman.softness=1000
  python -m ganjax.main --config=configs/gman.py:ring8 --workdir=/tmp/gman_ring8   # MLP players on the 2-D mixture
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("gman.py", arg, ("ring8", "grid25"))
  if arg:
    c = base_config.get_gan_config()
    c.model.generator = c.model.discriminator = "mlp"
    base_config.mixture_settings(c, arg)
  else:
    c = base_config.get_dcgan_config()
  c.algorithm = "gman"
  c.gman = ml_collections.ConfigDict()
  c.gman.num_discriminators = 5  # N
  c.gman.softness = 0.0  # lambda of the soft mean (0: the mean of the N generator losses)
  return c
