"""pix2pix (Isola et al. 2017): U-Net G, 70 x 70 PatchGAN D on (input, output) pairs, cGAN + 100 * L1,
dropout as the noise, Adam(2e-4, beta1 0.5); here on edges -> digits (Canny edges of the bundled
digits upsampled to 32 x 32), batch 16. With a 32 x 32 image the 70 x 70 PatchGAN sees it whole; the
paper's Table 2 patch sizes are `--config.pix2pix.patch_layers` = 1 (16 x 16), 2 (34 x 34), 3 (70 x 70).

  python -m ganjax.main --config=configs/pix2pix.py      --workdir=/tmp/pix2pix        # L1 + cGAN
  python -m ganjax.main --config=configs/pix2pix.py:l1   --workdir=/tmp/pix2pix_l1     # L1 only (Table 1)
  python -m ganjax.main --config=configs/pix2pix.py:cgan --workdir=/tmp/pix2pix_cgan   # cGAN only
  python -m ganjax.main --config=configs/pix2pix.py --workdir=/tmp/pix2pix_mnist \
      --config.data.name=edges:idx:../shared/data/mnist      # any image data: edges:<data name>
  python -m ganjax.main --config=configs/pix2pix.py --workdir=/tmp/facades \
      --config.data.name=paired:~/facades --config.data.image_size=256 --config.batch_size=1
"""

import ml_collections

from ganjax import base_config

VARIANTS = {None: (100.0, 1.0), "l1": (100.0, 0.0), "cgan": (0.0, 1.0)}


def get_config(arg=None):
  arg = base_config.argument("pix2pix.py", arg, tuple(v for v in VARIANTS if v))
  c = base_config.get_gan_config()
  c.algorithm = "pix2pix"
  c.data.name = "edges:digits"
  c.data.image_size = 32
  c.batch_size = 16
  c.num_steps = 5000
  c.model.width = 64
  c.optim.g = base_config.adam(2e-4, b1=0.5)
  c.optim.d = base_config.adam(2e-4, b1=0.5)
  c.pix2pix = ml_collections.ConfigDict()
  c.pix2pix.l1_weight, c.pix2pix.gan_weight = VARIANTS[arg]  # lambda of Eq. 4, and the cGAN term's weight
  c.pix2pix.patch_layers = 3  # PatchGAN strided layers: 1 -> 16x16, 2 -> 34x34, 3 -> 70x70 patches
  c.pix2pix.dropout_layers = 3  # U-Net decoder layers with dropout 0.5 (the noise z), innermost first
  # paper: those `dropout_layers` innermost; released: UnetGenerator's, decoder layers 1 .. n-5 from the innermost
  # (none at 32 x 32)
  c.pix2pix.dropout_placement = "paper"
  return c
