"""DiscoGAN (Kim et al. 2017): two generators G_AB, G_BA and two discriminators, the GAN loss plus an
MSE reconstruction in both directions, Adam(2e-4, beta1 0.5, beta2 0.999). The default is the
paper's toy experiment (Sec. 4.1) on the mixtures that ship with ganjax: 2-D points of ring8 (A, 8
modes on a circle) mapped onto grid25 (B, 25 modes on a grid), fully connected players; evaluation
reports the B modes the mapped points cover and how many distinct B modes the 8 A modes go to.

  python -m ganjax.main --config=configs/discogan.py     --workdir=/tmp/discogan       # with reconstruction
  python -m ganjax.main --config=configs/discogan.py:gan --workdir=/tmp/discogan_gan   # without (standard GAN)
  python -m ganjax.main --config=configs/discogan.py:images --workdir=/tmp/discogan_img  # digits <-> MNIST-M-style
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  if arg not in (None, "gan", "images"):
    raise ValueError(f"configs/discogan.py takes no argument or gan | images, got {arg!r}")
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
  c.discogan = ml_collections.ConfigDict()
  c.discogan.reconstruction_weight = 0.0 if arg == "gan" else 1.0  # L_CONST's weight (0: the standard GAN baseline)
  c.discogan.distance = "mse"  # d of L_CONST: mse | l1
  if arg == "images":
    c.data.name = "blend:digits"
    c.data.streams = ml_collections.ConfigDict({"a": "blend:digits", "b": "blend:digits"})
    c.data.holdout = 0.0
    c.data.image_size = 32
    c.batch_size = 64
    c.num_steps = 5000
    c.model.generator = c.model.discriminator = "dcgan"
    c.model.g_output = "tanh"
    c.model.latent_dim = 100
    c.eval.num_samples = 2000
    c.sample.num = 64
  return c
