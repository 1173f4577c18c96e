"""DiscoGAN (Kim et al. 2017): two generators G_AB, G_BA and two discriminators, the GAN loss plus an
MSE reconstruction in both directions, Adam(2e-4, beta1 0.5, beta2 0.999). The default is the
paper's toy experiment (Sec. 4.1) with Sec. 3.2's objective on the mixtures that ship with ganjax:
2-D points of ring8 (A, 8 modes on a circle) mapped onto grid25 (B, 25 modes on a grid), fully
connected players; evaluation reports the B modes the mapped points cover and how many distinct B
modes the 8 A modes go to. `:released` / `:released_images` train the authors' released recipe
(github.com/SKTBrain/DiscoGAN, `ganjax.algorithms.discogan`): G's loss (1 - r) * (0.1 GAN + 0.9
feature matching) + r * reconstruction with r 0.01 for 10,000 iterations then 0.5, D updated on every
third iteration and G on the others, D's loss halved, Adam's coupled weight decay 1e-5; 15,000
iterations, so that G takes the toy default's 10,000 updates and r switches within the run. The
default keeps Sec. 3.2: the toy is the paper's own experiment, which the released code does not
cover, and the figures in docs/results.md are Sec. 3.2's. Add `--config.data.mixture_std=0.02` to
reproduce those figures (the grid's sigma before it became VEEGAN's 0.05).

  python -m ganjax.main --config=configs/discogan.py     --workdir=/tmp/discogan       # with reconstruction
  python -m ganjax.main --config=configs/discogan.py:gan --workdir=/tmp/discogan_gan   # without (standard GAN)
  python -m ganjax.main --config=configs/discogan.py:released --workdir=/tmp/discogan_rel  # the released recipe
  python -m ganjax.main --config=configs/discogan.py:images --workdir=/tmp/discogan_img  # digits <-> MNIST-M-style
  python -m ganjax.main --config=configs/discogan.py:released_images --workdir=/tmp/discogan_rel_img
"""

import ml_collections

from ganjax import base_config

ARGS = (None, "gan", "images", "released", "released_images")


def paper_block(reconstruction_weight: float):
  """Sec. 3.2's objective: L_G = L_GAN + reconstruction_weight * L_CONST, D then G on every step."""
  p = ml_collections.ConfigDict()
  p.reconstruction_weight = reconstruction_weight  # L_CONST's weight (0: the standard GAN baseline)
  p.distance = "mse"  # d of L_CONST: mse | l1
  p.weighting = "sum"  # sum: L_GAN + w * L_CONST (Sec. 3.2) | rate: (1 - r) * adv + r * L_CONST (released code)
  p.starting_rate = 0.01  # r for the first gan_curriculum iterations (weighting=rate)
  p.default_rate = 0.5  # r after them
  p.gan_curriculum = 10_000
  p.feature_matching = 0.0  # w: adv = (1 - w) * L_GAN + w * feature matching of D's hidden blocks (released: 0.9)
  p.feature_from = 1  # the matched blocks: D's hidden blocks from this index on (released: relu2-relu4 at 64 px)
  p.update_interval = 1  # > 1: Ds on the iterations t % update_interval == 0, Gs on the others (released: 3)
  p.d_loss_scale = 1.0  # each D's loss times this (released: 0.5, their BCE halves both terms)
  p.unit_pixels = False  # L_CONST on [0, 1] pixels, as the released code's sigmoid generators (images)
  p.bottleneck = "dense"  # G's code: dense (model.latent_dim units) | conv (fully convolutional, the authors')
  return p


def released(c, images: bool):
  """The released code's recipe (`ganjax.algorithms.discogan` lists where ganjax departs from it)."""
  p = c.discogan
  p.weighting, p.starting_rate, p.default_rate, p.gan_curriculum = "rate", 0.01, 0.5, 10_000
  p.feature_matching, p.feature_from = 0.9, 1
  p.update_interval, p.d_loss_scale, p.unit_pixels = 3, 0.5, images
  for player in c.optim.values():  # optim.Adam(lr=2e-4, betas=(0.5, 0.999), weight_decay=1e-5), coupled L2
    player.lr, player.b1, player.b2, player.weight_decay = 2e-4, 0.5, 0.999, 1e-5
  c.num_steps = 15_000  # (batch 64 for images, their default; their script.sh runs 500)


def get_config(arg=None):
  arg = base_config.argument("discogan.py", arg, tuple(a for a in ARGS if a))
  c = base_config.get_gan_config()
  c.algorithm = "discogan"
  c.data.name = "ring8"
  c.data.streams = ml_collections.ConfigDict({"a": "ring8", "b": "grid25"})
  c.data.holdout = 0.025  # 2,500 held-out points per mixture
  c.batch_size = 256
  c.num_steps = 10_000
  c.model.g_output = "none"  # 2-D points: a linear output
  c.model.g_hidden = (128, 128)
  c.model.d_hidden = (128, 128)
  c.model.latent_dim = 64  # the encoder-decoder's code
  c.eval.num_samples = 2500
  c.sample.num = 2500
  c.optim = ml_collections.ConfigDict({p: base_config.adam(2e-4, b1=0.5) for p in ("g", "f", "d_b", "d_a")})
  c.discogan = paper_block(0.0 if arg == "gan" else 1.0)
  if arg in ("images", "released_images"):
    c.data.name = "blend:digits"
    c.data.streams = ml_collections.ConfigDict({"a": "blend:digits", "b": "blend:digits"})
    c.data.holdout = 0.0
    c.data.image_size = 32
    c.batch_size = 64
    c.num_steps = 5000
    c.model.generator = c.model.discriminator = "dcgan"
    c.model.g_output = "tanh"
    c.model.latent_dim = 100  # the code of bottleneck=dense
    c.discogan.bottleneck = "conv"  # the authors' fully convolutional encoder-decoder (their model.py)
    c.eval.num_samples = 2000
    c.sample.num = 64
  if arg in ("released", "released_images"):
    released(c, images=arg == "released_images")
  return c
