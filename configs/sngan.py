"""SN-GAN (Miyato et al. 2018): spectral normalisation of every discriminator weight (Sec. 2.1,
Eq. 8; one power iteration per update), the hinge loss, and ResNet players with its ResNets' block
structure (`ganjax.networks.resnet`: batch norm in G, none in D; channels doubling per block rather
than its CIFAR networks' constant width), its ResNet settings Adam(lr 2e-4, beta1 0, beta2 0.9),
5 discriminator updates per generator update (n_dis = 5), batch 64, z ~ N(0, I) of 128 dims, 50,000
generator updates, 32x32 images.

  python -m ganjax.main --config=configs/sngan.py --workdir=/tmp/sngan
  python -m ganjax.main --config=configs/sngan.py --workdir=/tmp/sngan_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000
  python -m ganjax.main --config=configs/sngan.py --workdir=/tmp/sngan128 --config.data.image_size=128
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("sngan.py", arg)
  c = base_config.get_dcgan_config()
  c.num_steps = 50_000
  c.gan.loss = "hinge"
  c.gan.d_steps = 5
  c.model.generator = c.model.discriminator = "resnet"
  c.gan.spectral_norm = True
  c.model.latent_dim = 128
  c.optim.g = base_config.adam(2e-4, b1=0.0, b2=0.9)
  c.optim.d = base_config.adam(2e-4, b1=0.0, b2=0.9)
  return c
