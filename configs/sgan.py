"""Semi-supervised GAN (Salimans et al. 2016, Sec. 5): a K-logit discriminator (the (K+1)-th class
implicit), labels for only `sgan.num_labeled` = 100 training images (10 per class), feature matching
for G. MLP players after the paper's MNIST model (D 1000-500-250-250-250, G 500-500; without its
weight normalisation and Gaussian-noise layers), Adam(3e-4, beta1 0.5).

  python -m ganjax.main --config=configs/sgan.py --workdir=/tmp/sgan
  python -m ganjax.main --config=configs/sgan.py --workdir=/tmp/sgan_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000   # test_accuracy in eval.json
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_gan_config()
  c.algorithm = "sgan"
  c.num_steps = 10_000
  c.model.generator = c.model.discriminator = "mlp"
  c.model.g_hidden = (500, 500)
  c.model.d_hidden = (1000, 500, 250, 250, 250)
  c.model.num_classes = 10
  c.gan.g_objective = "feature_matching"  # the paper's generator objective (Sec. 3.1); "adversarial": -log D(G(z))
  c.optim.g = base_config.adam(3e-4, b1=0.5)
  c.optim.d = base_config.adam(3e-4, b1=0.5)
  c.sgan = ml_collections.ConfigDict()
  c.sgan.num_labeled = 100  # labeled training examples, balanced over the classes
  c.sgan.labeled_batch = 64  # labeled pairs per step, drawn from those
  c.sgan.unsupervised_weight = 1.0
  return c
