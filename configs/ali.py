"""ALI (Dumoulin et al. 2016) / BiGAN (Donahue et al. 2016): MLP generator, Gaussian MLP encoder
(`ali.stochastic_encoder=False` for BiGAN's deterministic one), and a joint discriminator on (x, z);
Adam(2e-4, beta1 0.5) for all three players, 64-d latents.

  python -m ganjax.main --config=configs/ali.py --workdir=/tmp/ali
  python -m ganjax.main --config=configs/ali.py --workdir=/tmp/ali_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000
  python -m ganjax.main --config=configs/ali.py --workdir=/tmp/ali --mode=sample   # + reconstructions.png
  python -m ganjax.main --config=configs/ali.py:bigan --workdir=/tmp/bigan_mnist \
      --config.data.name=idx:../shared/data/mnist15k --config.data.holdout=2000

`:bigan` is BiGAN's permutation-invariant MNIST recipe (Donahue et al. 2016, App. C.1, and its
released train_mnist.sh / net.py `mnist_mlp`): a deterministic encoder, z ~ U[-1, 1]^50, G, E and
D's x path with two hidden layers of 1,024, batch norm in G, batch 128, Adam(2e-4, beta1 0.5) with
L2 weight decay 2.5e-5 on the weights, the rate constant for the first half and then linear to 0.
Not the code's: D's joint (x, z) layer is ganjax's (`ali.joint_hidden`, here 1,024), G ends in tanh
on [-1, 1] (the code: a sigmoid on [0, 1]), and the budget is 20,000 steps (the code: 400 epochs of
60,000, about 187,500).
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("ali.py", arg, ("bigan",))
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
  if arg == "bigan":
    c.ali.stochastic_encoder = False
    c.model.latent_dim, c.model.latent_dist = 50, "uniform"
    c.model.g_hidden = c.model.e_hidden = c.model.d_hidden = (1024, 1024)
    c.model.g_batch_norm = True
    c.ali.joint_hidden = 1024
    c.batch_size = 128
    for player in ("g", "e", "d"):
      c.optim[player] = base_config.adam(2e-4, b1=0.5)
      c.optim[player].weight_decay, c.optim[player].lr_decay_start = 2.5e-5, 0.5
  return c
