"""GAN (Goodfellow et al. 2014): MLP generator and discriminator, non-saturating generator loss.

  python -m ganjax.main --config=configs/gan.py --workdir=/tmp/gan
  python -m ganjax.main --config=configs/gan.py:ring8 --workdir=/tmp/gan_ring8   # mode-collapse benchmark
  python -m ganjax.main --config=configs/gan.py --config.gan.loss=minimax --workdir=/tmp/gan_minimax
"""

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_gan_config()
  c.algorithm = "gan"
  c.num_steps = 20_000
  c.model.generator = c.model.discriminator = "mlp"
  if arg in ("ring8", "grid25"):  # the 2-D mixtures of Metz et al. 2016 / Srivastava et al. 2017
    base_config.mixture_settings(c, arg)
  elif arg:
    raise ValueError(f"configs/gan.py takes no argument or ring8 | grid25, got {arg!r}")
  return c
