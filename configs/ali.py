"""ALI (Dumoulin et al. 2016) / BiGAN (Donahue et al. 2016): MLP generator, Gaussian MLP encoder
(`ali.stochastic_encoder=False` for BiGAN's deterministic one), and a joint discriminator on (x, z);
Adam(2e-4, beta1 0.5) for all three players, 64-d latents.

  python -m ganjax.main --config=configs/ali.py --workdir=/tmp/ali
  python -m ganjax.main --config=configs/ali.py --workdir=/tmp/ali_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000
  python -m ganjax.main --config=configs/ali.py --workdir=/tmp/ali --mode=sample   # + reconstructions.png
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_gan_config()
  c.algorithm = "ali"
  c.num_steps = 20_000
  c.model.generator = c.model.discriminator = c.model.encoder = "mlp"
  c.model.latent_dim = 64
  c.model.e_hidden = (512, 512)
  c.optim.e = base_config.adam(2e-4, b1=0.5)
  c.ali = ml_collections.ConfigDict()
  c.ali.stochastic_encoder = True  # ALI's Gaussian encoder; False: BiGAN's deterministic one
  c.ali.joint_hidden = 512  # width of D's x embedding and of its joint layer
  return c
