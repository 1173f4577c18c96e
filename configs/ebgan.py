"""EBGAN-PT (Zhao et al. 2016): DCGAN generator, an autoencoder discriminator whose energy is the
per-pixel reconstruction MSE, margin loss and the pull-away term with lambda_PT = 0.1 (the paper's
value); Adam(2e-4, beta1 0.5) for both players, 32x32 images. The margin m = 0.1 is in MSE units:
for 32x32 images in [-1, 1] it is an L2 reconstruction-error margin of sqrt(1024 * 0.1) = 10, the
scale of the margins the paper searched for its L2 energy. (m = 1.0, i.e. an L2 margin of 32, let D
win outright on MNIST: the samples stayed noise, FID 7,140 after 1,500 steps.)

  python -m ganjax.main --config=configs/ebgan.py --workdir=/tmp/ebgan
  python -m ganjax.main --config=configs/ebgan.py --workdir=/tmp/ebgan_nopt --config.ebgan.pt_weight=0   # plain EBGAN
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("ebgan.py", arg)
  c = base_config.get_dcgan_config()
  c.algorithm = "ebgan"
  c.ebgan = ml_collections.ConfigDict()
  c.ebgan.margin = 0.1  # m of Eq. 1, in units of the energy (per-pixel mean squared error)
  c.ebgan.pt_weight = 0.1  # lambda_PT of the pull-away term (0: EBGAN without it)
  c.ebgan.code_dim = 64  # the autoencoder's code: the embeddings S the pull-away term sees
  return c
