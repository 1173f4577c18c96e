"""InfoGAN (Chen et al. 2016) with the paper's MNIST settings: its Table-1 networks
(`model.generator/discriminator = "infogan"`, Q head on D's trunk), a 10-way categorical code, 2
continuous codes in [-1, 1], 62 noise dimensions, lambda = 1, Adam lr 2e-4 for D/Q and 1e-3 for G
(beta1 0.5); and, from the authors' released code (openai/InfoGAN, launchers/run_mnist_exp.py and
infogan/misc/custom_ops.py), what the paper leaves unsaid or says otherwise: noise z ~ U[-1, 1],
batch 128 and 5,000 updates (50 epochs of 100), weights drawn from N(0, 0.02^2) with batch-norm
scales from N(1, 0.02^2) (`model.weight_init="normal"`; Flax's default "lecun" and PyTorch's "torch"
are the alternatives) and leaky ReLUs of slope 0.01 (`model.leak`; the paper says 0.1). With Flax's
initialisation and slope 0.1 the categorical code's cluster accuracy after 2,000 steps of 64 was
0.642 against 0.875 with the code's (seed 0; docs/results.md).
With batch 64, z ~ N(0, I) and 10,000 steps the categorical code found the digits far less often
(README, results: cluster accuracy 0.48 against 0.87 over 3 seeds). Q's head is a player of its own
(`optim.q`, D's settings); `info.q_step` (d, the authors' code | g | separate, with `optim.info`) and
`info.continuous_variance` (fixed | learned) are the MI update's other readings (docs/results.md:
none reached 0.95 sooner).

  python -m ganjax.main --config=configs/infogan.py --workdir=/tmp/infogan     # digits (8x8)
  python -m ganjax.main --config=configs/infogan.py --workdir=/tmp/infogan_mnist \
      --config.data.name=idx:../shared/data/mnist --config.data.holdout=2000
  python -m ganjax.main --config=configs/infogan.py --workdir=/tmp/infogan_mnist --mode=sample  # traversal_c1.png, ...
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("infogan.py", arg)
  c = base_config.get_gan_config()
  c.algorithm = "infogan"
  c.num_steps = 5000
  c.batch_size = 128
  c.model.generator = c.model.discriminator = "infogan"
  c.model.weight_init = "normal"  # the authors' code: N(0, 0.02) kernels, N(1, 0.02) batch-norm scales
  c.model.leak = 0.01  # the authors' code's leaky_rectify (the paper says 0.1)
  c.model.pixel_range = "signed"  # [-1, 1], tanh; "unit": the code's [0, 1] pixels and sigmoid inside G and D
  c.model.width = 64
  c.model.latent_dim = 62  # incompressible noise z ...
  c.model.latent_dist = "uniform"  # ... ~ U[-1, 1]
  c.info = base_config.info_block(categories=10, continuous=2)  # lambda = 1 for both parts
  c.optim.d = base_config.adam(2e-4, b1=0.5)
  c.optim.q = base_config.adam(2e-4, b1=0.5)  # Q's head: D's settings (one optimizer for both in the authors' code)
  c.optim.g = base_config.adam(1e-3, b1=0.5)
  c.optim.info = base_config.adam(2e-4, b1=0.5)  # the MI step's, with info.q_step="separate"
  return c
