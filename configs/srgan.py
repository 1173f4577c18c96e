"""SRGAN (Ledig et al. 2017): the SRResNet generator (16 residual blocks, two sub-pixel x2
upsamplings), SRGAN's discriminator, content loss in a fixed feature network + 1e-3 * the
adversarial loss, Adam(1e-4, beta1 0.9), G first trained on the pixel MSE (the SRResNet
initialisation) with D untouched, then both, the learning rates times 0.1 after half of the
adversarial phase (Sec. 3.2's 10^5 updates at 1e-4 and 10^5 at 1e-5). Offline default: 4x
super-resolution of digits rendered from matplotlib's fonts at 32 x 32 (`downsampled:fonts`, 8 x 8
bicubic inputs: the 32 x 32 images hold detail of their own, which the bundled 8 x 8 digits would
not), width 32; phi is ganjax's own classifier (its deepest convolution), trained on the digits'
labels with a seed of its own. The paper's VGG-19 relu5_4 (its maps rescaled by 1/12.75) is
`--config.perceptual.network=vgg19 --config.perceptual.vgg19_weights=vgg19.npz
--config.srgan.content_layers='("relu5_4",)'`.

  python -m ganjax.main --config=configs/srgan.py          --workdir=/tmp/srgan          # SRGAN
  python -m ganjax.main --config=configs/srgan.py:srresnet --workdir=/tmp/srresnet       # MSE baseline
  python -m ganjax.main --config=configs/srgan.py:texture  --workdir=/tmp/srgan_texture  # + EnhanceNet's texture loss
  python -m ganjax.main --config=configs/srgan.py --workdir=/tmp/srgan_fashion \\
      --config.data.name=downsampled:fashion_mnist --config.data.image_size=0
  python -m ganjax.main --config=configs/srgan.py --workdir=/tmp/srgan_photos \\
      --config.data.name=downsampled:photos --config.perceptual.network=self
"""

import ml_collections

from ganjax import base_config, perceptual


def get_config(arg=None):
  arg = base_config.argument("srgan.py", arg, ("srresnet", "texture"))
  c = base_config.get_gan_config()
  c.algorithm = "srgan"
  c.data.name = "downsampled:fonts"
  c.data.image_size = 32
  c.batch_size = 16
  c.num_steps = 4000
  c.model.width = 32
  c.optim.g = base_config.adam(1e-4, b1=0.9)
  c.optim.d = base_config.adam(1e-4, b1=0.9)
  c.perceptual = perceptual.block()
  c.srgan = ml_collections.ConfigDict()
  c.srgan.blocks = 16  # SRResNet residual blocks (B = 16)
  c.srgan.content = "pixels" if arg == "srresnet" else "features"  # l_X: features (l_VGG) | pixels (l_MSE)
  c.srgan.content_layers = ("conv3",)  # phi's layers of the content loss (relu5_4 with VGG-19)
  c.srgan.feature_scale = 0.0  # phi's maps times this in l_X; 0: 1/12.75 with VGG-19 (Sec. 3.2), 1 with own networks
  c.srgan.adversarial_weight = 0.0 if arg == "srresnet" else 1e-3  # l_Gen's weight in Eq. 3
  c.srgan.pretrain_steps = 0 if arg == "srresnet" else 1000  # G on the pixel MSE alone first, D untouched
  c.srgan.lr_drop = 1.0 if arg == "srresnet" else 0.5  # rates dropped after this fraction of the adversarial phase
  c.srgan.lr_drop_factor = 0.1  # ... to 0.1 x (1e-4 -> 1e-5)
  c.srgan.texture_weight = 1.0 if arg == "texture" else 0.0  # EnhanceNet's L_T
  c.srgan.texture_layers = ("conv1", "conv2", "conv3")  # conv1.1, conv2.1, conv3.1 with VGG-19
  c.srgan.texture_patch = 16  # Gram matrices on 16 x 16 windows
  return c
