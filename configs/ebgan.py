"""EBGAN-PT (Zhao et al. 2016): DCGAN generator, an autoencoder discriminator whose energy is the
per-pixel reconstruction MSE, margin loss (m = 1.0 for that energy on [-1, 1] images: our choice,
not a number from the paper) and the pull-away term with lambda_PT = 0.1 (the paper's value);
Adam(2e-4, beta1 0.5) for both players, 32x32 images.

  python -m ganjax.main --config=configs/ebgan.py --workdir=/tmp/ebgan
  python -m ganjax.main --config=configs/ebgan.py --workdir=/tmp/ebgan_nopt --config.ebgan.pt_weight=0   # plain EBGAN
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_dcgan_config()
  c.algorithm = "ebgan"
  c.ebgan = ml_collections.ConfigDict()
  c.ebgan.margin = 1.0  # m of Eq. 1, in units of the energy (per-pixel mean squared error)
  c.ebgan.pt_weight = 0.1  # lambda_PT of the pull-away term (0: EBGAN without it)
  c.ebgan.code_dim = 64  # the autoencoder's code: the embeddings S the pull-away term sees
  return c
