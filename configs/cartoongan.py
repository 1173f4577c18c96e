"""CartoonGAN (Chen et al. 2018): G trained on photos against cartoons with the edge-promoting
adversarial loss (D also sees edge-smoothed cartoons, labelled fake) and a content loss omega = 10
(L1 of a fixed feature network's activations), after an initialization phase on the content loss
alone; Adam(2e-4, beta1 0.5). Offline: photo patches (the photos of scikit-image / scikit-learn,
32 x 32) against the same patches through a classic cartoon filter, unpaired (two streams); the
filter's output on the held-out photo scores the result. The feature network is ganjax's own SimCLR
encoder trained on the photo patches; the paper's VGG-19 conv4_4 is
`--config.perceptual.network=vgg19 --config.perceptual.vgg19_weights=vgg19.npz
--config.cartoongan.content_layers='("conv4_4",)'`.

  python -m ganjax.main --config=configs/cartoongan.py         --workdir=/tmp/cartoongan
  python -m ganjax.main --config=configs/cartoongan.py:no_edge --workdir=/tmp/cartoongan_no_edge  # without e
"""

import ml_collections

from ganjax import base_config, perceptual


def get_config(arg=None):
  arg = base_config.argument("cartoongan.py", arg, ("no_edge",))
  c = base_config.get_gan_config()
  c.algorithm = "cartoongan"
  c.data.name = "cartoon"
  c.data.streams = ml_collections.ConfigDict({"a": "cartoon", "b": "cartoon"})
  c.data.image_size = 32  # the patch size
  c.batch_size = 8
  c.num_steps = 3000
  c.model.width = 32
  c.perceptual = perceptual.block()
  c.perceptual.network = "self"  # unlabelled photos: ganjax's SimCLR encoder
  c.cartoongan = ml_collections.ConfigDict()
  c.cartoongan.content_weight = 10.0  # omega
  c.cartoongan.edge_weight = 0.0 if arg == "no_edge" else 1.0  # the edge-smoothed cartoons' term
  c.cartoongan.init_steps = 500  # G on the content loss alone first (the paper: 10 epochs)
  c.cartoongan.content_layers = ("conv3",)  # phi's layer (conv4_4 with VGG-19)
  c.cartoongan.blocks = 8  # residual blocks
  c.cartoongan.patch_layers = 2  # PatchGAN strided layers
  return c
