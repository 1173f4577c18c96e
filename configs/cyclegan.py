"""CycleGAN (Zhu et al. 2017): ResNet-block generators G: A -> B and F: B -> A, 70 x 70 PatchGANs with
instance norm, least-squares GAN loss, cycle loss lambda = 10, identity loss 0.5 * lambda, a history of
50 generated images per discriminator, Adam(2e-4, beta1 0.5) constant for half the run and then
linearly decayed to 0. Here on digits <-> MNIST-M-style digits (the bundled digits blended with
photo patches, `blend:digits`) at 32 x 32, unpaired: two streams of the same pairs, each shuffled on
its own, the step reading A images from one and B images from the other; evaluation scores both
directions against the known partners. 6 residual blocks (the paper's choice below 256 x 256).

  python -m ganjax.main --config=configs/cyclegan.py --workdir=/tmp/cyclegan
  python -m ganjax.main --config=configs/cyclegan.py --workdir=/tmp/cyclegan_mnist \
      --config.data.streams.a=mnist_m --config.data.streams.b=mnist_m      # MNIST <-> MNIST-M
  python -m ganjax.main --config=configs/cyclegan.py --workdir=/tmp/horse2zebra --config.batch_size=1 \
      --config.data.streams.a=unaligned:~/horse2zebra:a --config.data.streams.b=unaligned:~/horse2zebra:b \
      --config.data.image_size=286 --config.data.crop=256 --config.data.flip=True --config.model.width=64 \
      --config.cyclegan.blocks=9 --config.gan.replay_rows=random     # the paper's pool at batch 1
  python -m ganjax.main --config=configs/cyclegan.py --workdir=/tmp/cyclegan --mode=translate \
      --input=DIR --output=OUT [--direction=BtoA]
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("cyclegan.py", arg)
  c = base_config.get_gan_config()
  c.algorithm = "cyclegan"
  c.data.name = "blend:digits"  # what the loop's single-stream tools (bench) read; training reads the streams
  c.data.streams = ml_collections.ConfigDict({"a": "blend:digits", "b": "blend:digits"})
  c.data.image_size = 32
  c.batch_size = 8
  c.num_steps = 4000
  c.model.width = 32
  c.gan.loss = "least_squares"
  c.gan.replay_size = 50  # the image history of Sec. 4 (Shrivastava et al. 2017) ...
  c.gan.replay_fraction = 0.5  # ... half of each discriminator batch drawn from it
  c.optim = ml_collections.ConfigDict()
  for player in ("g", "f", "d_b", "d_a"):
    c.optim[player] = base_config.adam(2e-4, b1=0.5)
    c.optim[player].lr_decay_start = 0.5  # constant, then linearly to 0 (100 + 100 epochs in the paper)
  c.cyclegan = ml_collections.ConfigDict()
  c.cyclegan.cycle_weight = 10.0  # lambda of Eq. 3
  c.cyclegan.identity_weight = 0.5  # the identity loss's weight, a multiple of lambda (0: off)
  c.cyclegan.blocks = 6  # residual blocks (6 for 128 x 128, 9 for 256 x 256 in the paper)
  c.cyclegan.patch_layers = 3  # PatchGAN strided layers: 3 -> 70 x 70 patches
  return c
