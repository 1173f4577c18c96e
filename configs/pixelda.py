"""PixelDA (Bousmalis et al. 2017): G(x, z) a stride-1 ResNet on the source image and a
noise channel from z ~ U[-1, 1]^10, D with Gaussian noise (0.2) and dropout (0.1), the task
classifier (the DANN MNIST network) on generated and source images; the authors' MNIST -> MNIST-M
weights (D 0.13, G 0.011, task 0.01), Adam(1e-3, beta1 0.5), batch 32. Sized for a CPU: G 2 blocks
of 16 filters, D 32-256 (the paper's G: 6 blocks of 64, --config.pixelda.blocks=6
--config.model.width=64; its D 64-512, --config.pixelda.d_width=64). Offline default: digits -> digits-M.

  python -m ganjax.main --config=configs/pixelda.py --workdir=/tmp/pixelda               # digits -> digits-M
  python -m ganjax.main --config=configs/pixelda.py --workdir=/tmp/pixelda_mnistm \
      --config.data.streams.source=blend:idx:../shared/data/mnist15k \
      --config.data.streams.target=blend:idx:../shared/data/mnist15k --config.data.holdout=2000
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  if arg is not None:
    raise ValueError(f"configs/pixelda.py takes no argument, got {arg!r}")
  c = base_config.get_gan_config()
  c.algorithm = "pixelda"
  base_config.domain_streams(c, "blend:digits", "blend:digits")
  c.data.image_size = 28
  c.batch_size = 32
  c.num_steps = 3000
  c.model.width = 16  # G's filters (64 in the paper)
  c.optim = ml_collections.ConfigDict({"g": base_config.adam(1e-3, b1=0.5), "d": base_config.adam(1e-3, b1=0.5),
                                       "t": base_config.adam(1e-3, b1=0.5)})
  c.pixelda = ml_collections.ConfigDict()
  c.pixelda.blocks = 2  # G's residual blocks (6 in the paper)
  c.pixelda.noise_dim = 10  # z ~ U[-1, 1]^10
  c.pixelda.d_width = 32  # D's first layer (64 in the paper, up to 512)
  c.pixelda.d_noise = 0.2  # Gaussian noise on D's input and layers
  c.pixelda.d_dropout = 0.1
  c.pixelda.d_weight = 0.13  # alpha on D's side
  c.pixelda.g_weight = 0.011  # alpha on G's side
  c.pixelda.task_weight = 0.01  # beta
  c.pixelda.content_weight = 0.0  # gamma: the masked PMSE (LineMod in the paper; no mask for MNIST-M)
  return c
