"""InfoGAN (Chen et al. 2016) with the paper's MNIST settings: its Table-1 networks
(`model.generator/discriminator = "infogan"`, Q head on D's trunk), a 10-way categorical code, 2
continuous codes in [-1, 1], 62 noise dimensions, lambda = 1, Adam lr 2e-4 for D/Q and 1e-3 for G
(beta1 0.5), batch 64.

  python -m ganjax.main --config=configs/infogan.py --workdir=/tmp/infogan     # digits (8x8)
  python -m ganjax.main --config=configs/infogan.py --workdir=/tmp/infogan_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000
  python -m ganjax.main --config=configs/infogan.py --workdir=/tmp/infogan_mnist --mode=sample  # traversal_c1.png, ...
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_config()
  c.algorithm = "infogan"
  c.num_steps = 10_000
  c.model.generator = c.model.discriminator = "infogan"
  c.model.width = 64
  c.model.latent_dim = 62  # incompressible noise z
  c.info = ml_collections.ConfigDict()
  c.info.categories = 10  # one categorical code with this many values
  c.info.continuous = 2  # continuous codes ~ U[-1, 1]
  c.info.lambda_cat = 1.0  # lambda for the categorical part of L_I
  c.info.lambda_cont = 1.0  # lambda for the continuous part
  c.optim.d = base_config.adam(2e-4, b1=0.5)  # D and its Q head
  c.optim.g = base_config.adam(1e-3, b1=0.5)
  return c
