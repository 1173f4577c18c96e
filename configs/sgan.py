"""Semi-supervised GAN (Salimans et al. 2016, Sec. 5): a K-logit discriminator (the (K+1)-th class
implicit), labels for only `sgan.num_labeled` = 100 training images (10 per class), feature matching
for G, with the paper's MNIST model as in its released code (openai/improved-gan,
train_mnist_feature_matching.py; `ganjax.networks.salimans`): D a weight-normalised MLP
1000-500-250-250-250 with Gaussian noise on its input (0.3 on [0, 1] pixels) and hidden layers
(0.5), data-dependent initialisation; G 500-500 softplus with batch norm and a weight-normalised
output; 100-d uniform noise; Adam(3e-3, beta1 0.5) for both, batch 100 unlabeled + 100 labeled.
`:mlp` is the earlier plain variant (leaky-ReLU MLPs without weight normalisation or noise,
Adam 3e-4, 64 labeled per step).

  python -m ganjax.main --config=configs/sgan.py --workdir=/tmp/sgan
  python -m ganjax.main --config=configs/sgan.py --workdir=/tmp/sgan_mnist \\
      --config.data.name=idx:../shared/data/mnist15k --config.data.holdout=2000   # test_accuracy in eval.json
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  c = base_config.get_gan_config()
  c.algorithm = "sgan"
  c.num_steps = 10_000
  c.model.g_hidden = (500, 500)
  c.model.d_hidden = (1000, 500, 250, 250, 250)
  c.model.num_classes = 10
  c.gan.g_objective = "feature_matching"  # the paper's generator objective (Sec. 3.1); "adversarial": -log D(G(z))
  c.sgan = ml_collections.ConfigDict()
  c.sgan.num_labeled = 100  # labeled training examples, balanced over the classes
  c.sgan.unsupervised_weight = 1.0
  c.sgan.d_average = 0.0  # > 0: classify held-out images with a running average of D's parameters, at this rate
  c.sgan.labeled_draw = "replacement"  # how a step draws its labeled rows: replacement | permutation
  # Salimans D: True runs its data-dependent initialisation with D's noise on, as the code does; on
  # 8,000 and 13,000 images that made D win sooner (docs/results.md), so the default stays clean
  c.sgan.noisy_init = False
  c.sgan.init_images = 0  # D's data-dependent initialisation on the labeled set; N > 0: N random training images (the code: 500)
  c.sgan.fm_batch = "same"  # G's feature matching against D's unlabeled batch; "second": its own batch (the code's)
  if arg == "mlp":
    c.model.generator = c.model.discriminator = "mlp"
    c.optim.g = base_config.adam(3e-4, b1=0.5)
    c.optim.d = base_config.adam(3e-4, b1=0.5)
    c.sgan.labeled_batch = 64  # labeled pairs per step, drawn from those
    return c
  if arg:
    raise ValueError(f"configs/sgan.py takes no argument or mlp, got {arg!r}")
  c.model.generator = c.model.discriminator = "salimans"
  # "unit": the code's [0, 1] pixels inside G (sigmoid) and D (reads (x + noise + 1) / 2), [-1, 1] outside
  c.model.pixel_range = "signed"
  c.model.weight_init = "lecun"  # G's hidden weights: flax's lecun normal; "glorot": Lasagne's, the code's
  c.model.latent_dim = 100
  c.model.latent_dist = "uniform"
  c.batch_size = 100
  c.sgan.labeled_batch = 100
  # The code's batches hold every one of the 100 labeled images ("permutation"); here D then wins the
  # unsupervised game within 500 steps (test accuracy 0.465 at 2,000 against 0.799: docs/results.md)
  c.sgan.labeled_draw = "replacement"
  c.sgan.unsupervised_weight = 0.5  # the code's loss_unl carries a factor 1/2 (the paper's Eq. has none)
  c.sgan.d_average = 1e-3  # the code's 1e-4 over 180,000 steps; 1e-3 fits this config's 10,000
  for player in ("g", "d"):  # the code's own Adam: m / sqrt(v + 1e-8), bias-corrected
    c.optim[player] = base_config.adam(3e-3, b1=0.5)
    c.optim[player].eps, c.optim[player].eps_root = 0.0, 1e-8
  return c
