"""PixelDA (Bousmalis et al. 2017) with the authors' released MNIST -> MNIST-M configuration (their
README's hparams on the defaults of tensorflow/models' pixel_domain_adaptation/hparams.py): G with 6
residual blocks of 64 filters and a 10-dimensional U[-1, 1] noise channel; D of 64 - 128 - 256 - 512
filters with dropout 0.1 and Gaussian noise 0.2 after each layer (none on its input image); the
task classifier (the DANN MNIST network with a private first layer per domain) trained in D's step;
weights D 0.1356, G 0.01132, task in G's step 0.01010, task in D's step 1; Adam(1e-3, beta1 0.5)
with each gradient tensor clipped at norm 5 and the rate x 0.95 every 10,000 updates of a player
(the released 20,000 global steps, one D and one G op each); batch 32; 250,000 steps (the released
16M examples / batch 32 = 500,000 global steps). `:cpu` is the same method sized for a CPU: G 2 blocks of 16 filters,
D 32 - 256, 3,000 steps. Offline default: digits -> digits-M.

  python -m ganjax.main --config=configs/pixelda.py --workdir=/tmp/pixelda               # digits -> digits-M
  python -m ganjax.main --config=configs/pixelda.py:cpu --workdir=/tmp/pixelda_cpu       # the CPU size
  python -m ganjax.main --config=configs/pixelda.py --workdir=/tmp/pixelda_mnistm \\
      --config.data.streams.source=blend:idx:../shared/data/mnist15k \\
      --config.data.streams.target=blend:idx:../shared/data/mnist15k --config.data.holdout=2000
"""

import ml_collections

from ganjax import base_config

SIZES = {None: (64, 6, 64, 250_000), "cpu": (16, 2, 32, 3000)}  # G's width and blocks, D's width, steps


def get_config(arg=None):
  arg = base_config.argument("pixelda.py", arg, tuple(s for s in SIZES if s))
  c = base_config.get_gan_config()
  c.algorithm = "pixelda"
  base_config.domain_streams(c, "blend:digits", "blend:digits")
  c.data.image_size = 28
  c.batch_size = 32
  g_width, blocks, d_width, c.num_steps = SIZES[arg]
  c.model.width = g_width  # G's filters (resnet_filters)
  adam = lambda: base_config.adam(1e-3, b1=0.5)  # noqa: E731
  c.optim = ml_collections.ConfigDict({"g": adam(), "d": adam(), "t": adam()})
  for opt in c.optim.values():
    opt.grad_clip = 5.0  # TF-Slim's clip_gradient_norm: each tensor's norm on its own
    opt.grad_clip_by = "tensor"
    # lr x 0.95 every 20,000 global steps (one D and one G op each): every 10,000 updates of a player
    opt.lr_decay_rate, opt.lr_decay_steps = 0.95, 10_000
  c.pixelda = ml_collections.ConfigDict()
  c.pixelda.blocks = blocks  # G's residual blocks (resnet_blocks)
  c.pixelda.noise_dim = 10  # z ~ U[-1, 1]^10 (noise_dims)
  c.pixelda.init_std = 0.02  # every weight of G and D and T's convolutions from N(0, 0.02) (normal_init_std)
  c.pixelda.d_width = d_width  # D's first layer, doubled at each of its 3 strided ones (num_discriminator_filters)
  c.pixelda.d_noise = 0.2  # Gaussian noise after each of D's layers (discriminator_noise_stddev) ...
  c.pixelda.d_image_noise = False  # ... and on its input image (discriminator_image_noise)
  c.pixelda.d_dropout = 0.1  # 1 - discriminator_dropout_keep_prob
  c.pixelda.task_private = True  # T's first layer private per domain (the released code) | False: one T (Eq. 3)
  c.pixelda.d_weight = 0.135603587834  # D's loss (domain_loss_weight)
  c.pixelda.g_weight = 0.0113173311334  # G's adversarial term (style_transfer_loss_weight)
  c.pixelda.task_weight = 0.0100959947002  # the task loss in G's step (task_loss_in_g_weight)
  c.pixelda.t_weight = 1.0  # the task loss in D's step, T's update (source/transferred_task_loss_weight)
  c.pixelda.content_weight = 0.0  # gamma: the masked PMSE (LineMod in the paper; none for MNIST-M)
  return c
