"""GAN (Goodfellow et al. 2014): MLP generator and discriminator, non-saturating generator loss.

  python -m ganjax.main --config=configs/gan.py --workdir=/tmp/gan
  python -m ganjax.main --config=configs/gan.py:ring8 --workdir=/tmp/gan_ring8   # mode-collapse benchmark
  python -m ganjax.main --config=configs/gan.py --config.gan.loss=minimax --workdir=/tmp/gan_minimax
"""

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("gan.py", arg, ("ring8", "grid25"))
  c = base_config.get_gan_config()
  c.algorithm = "gan"
  c.num_steps = 20_000
  c.model.generator = c.model.discriminator = "mlp"
  if arg:  # the 2-D mixtures of Metz et al. 2016 / Srivastava et al. 2017
    base_config.mixture_settings(c, arg)
  return c
