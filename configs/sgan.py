"""Semi-supervised GAN (Salimans et al. 2016, Sec. 5): a K-logit discriminator (the (K+1)-th class
implicit), labels for only `sgan.num_labeled` = 100 training images (10 per class), feature matching
for G, with the paper's MNIST model as in its released code (openai/improved-gan,
train_mnist_feature_matching.py; `ganjax.networks.salimans`): D a weight-normalised MLP
1000-500-250-250-250 with Gaussian noise on its input (0.3 on [0, 1] pixels) and hidden layers
(0.5), data-dependent initialisation; G 500-500 softplus with batch norm and a weight-normalised
output; 100-d uniform noise; Adam(3e-3, beta1 0.5) for both; each step D sees the 100 labeled
images (each once) and 100 unlabeled ones, G matches the features of 100 more; the code's [0, 1]
pixels, initialisations and feature-matching mean; 14,000 steps (held-out error 1.65% ± 0.22 over
seeds 0-2 with 13,000 unlabeled MNIST images: docs/results.md).
`:mlp` is the earlier plain variant (leaky-ReLU MLPs without weight normalisation or noise,
Adam 3e-4, 64 labeled per step).

  python -m ganjax.main --config=configs/sgan.py --workdir=/tmp/sgan
  python -m ganjax.main --config=configs/sgan.py --workdir=/tmp/sgan_mnist \\
      --config.data.name=idx:../shared/data/mnist15k --config.data.holdout=2000   # test_accuracy in eval.json
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("sgan.py", arg, ("mlp",))
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
  c.sgan.noisy_init = False  # Salimans D: its data-dependent initialisation sees D's noise
  c.sgan.init_images = 0  # that initialisation on the labeled set; N > 0: on N random training images
  c.sgan.fm_batch = "same"  # G's feature matching against D's unlabeled batch; "second": its own batch
  if arg == "mlp":
    c.model.generator = c.model.discriminator = "mlp"
    c.optim.g = base_config.adam(3e-4, b1=0.5)
    c.optim.d = base_config.adam(3e-4, b1=0.5)
    c.sgan.labeled_batch = 64  # labeled pairs per step, drawn from those
    return c
  c.model.generator = c.model.discriminator = "salimans"
  # Every choice below is the released code's (openai/improved-gan, train_mnist_feature_matching.py).
  # Together they train without the collapse that each of ganjax's earlier defaults brought on after
  # ~10,000 steps; a PyTorch port of the script (launch/sgan_torch.py) separates them (docs/results.md)
  c.num_steps = 14_000
  c.model.pixel_range = "unit"  # [0, 1] pixels inside G (sigmoid) and D (reads (x + noise + 1) / 2), [-1, 1] outside
  c.model.weight_init = "glorot"  # G's hidden weights: Lasagne's Glorot-uniform ("lecun": flax's)
  c.model.latent_dim = 100
  c.model.latent_dist = "uniform"
  c.gan.feature_matching_reduction = "mean"  # the code's T.mean over the 250 features (the paper's norm: "sum")
  c.batch_size = 100
  c.sgan.labeled_batch = 100
  c.sgan.labeled_draw = "permutation"  # each of the 100 labeled images once per batch ("replacement")
  c.sgan.noisy_init = True  # D's data-dependent initialisation with its noise on ...
  c.sgan.init_images = 500  # ... on 500 random training images (0: on the labeled set)
  c.sgan.fm_batch = "second"  # G matches the moments of its own unlabeled batch (trainx_unl2; "same": D's)
  c.sgan.unsupervised_weight = 0.5  # the code's loss_unl carries a factor 1/2 (the paper's Eq. has none)
  c.sgan.d_average = 1e-3  # the code's 1e-4 over 180,000 steps; 1e-3 fits this config's 14,000
  for player in ("g", "d"):  # the code's own Adam: m / sqrt(v + 1e-8), bias-corrected
    c.optim[player] = base_config.adam(3e-3, b1=0.5)
    c.optim[player].eps, c.optim[player].eps_root = 0.0, 1e-8
  return c
