"""GAN (Goodfellow et al. 2014): MLP generator and discriminator, non-saturating generator loss.

  python -m ganjax.main --config=configs/gan.py --workdir=/tmp/gan
  python -m ganjax.main --config=configs/gan.py:ring8 --workdir=/tmp/gan_ring8   # mode-collapse benchmark
  python -m ganjax.main --config=configs/gan.py --config.loss=minimax --workdir=/tmp/gan_minimax
"""

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_config()
  c.algorithm = "gan"
  c.num_steps = 20_000
  c.model.generator = c.model.discriminator = "mlp"
  if arg in ("ring8", "grid25"):  # the 2-D mixtures of Metz et al. 2016 / Srivastava et al. 2017
    c.data.name = arg
    c.data.holdout = 0.1
    c.batch_size = 512
    c.num_steps = 25_000
    c.model.latent_dim = 256
    c.model.g_output = "none"  # the mixtures span [-4, 4]: a linear output layer
    c.model.g_hidden = (128, 128)
    c.model.d_hidden = (128, 128)
    c.optim.g.lr = c.optim.d.lr = 1e-4
    c.eval.num_samples = 2500  # as in VEEGAN's protocol
    c.sample.num = 2500
  elif arg:
    raise ValueError(f"configs/gan.py takes no argument or ring8 | grid25, got {arg!r}")
  return c
