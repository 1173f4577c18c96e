"""Time-series InfoGAN: InfoGAN with 1-D convolutions (`ganjax.networks.infogan` on (T, C) windows)
for unsupervised clustering of signals. Default data: the bundled synthetic `signals` (2-channel
windows of 64 steps from 4 families: sine, square, sawtooth, burst); a 4-way categorical code, 1
continuous code, 16 noise dimensions. `cluster_accuracy` in eval.json is how well the categorical
code recovers the families (Hungarian matching).

  python -m ganjax.main --config=configs/timeseries_infogan.py --workdir=/tmp/ts_infogan
  # your own series: one row per time step, one column per channel (+ an optional integer `label` column)
  python -m ganjax.main --config=configs/timeseries_infogan.py --workdir=/tmp/ts_csv \
      --config.data.name=csv:/path/series.csv --config.data.window=64 --config.info.categories=3
"""

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("timeseries_infogan.py", arg)
  c = base_config.get_gan_config()
  c.algorithm = "infogan"
  c.num_steps = 5000
  c.data.name = "signals"
  c.data.holdout = 2000
  c.data.window = 64
  c.model.generator = c.model.discriminator = "infogan"  # 1-D convolutions for (T, C) inputs
  c.model.weight_init = "lecun"  # Flax's; "normal": the authors' code's N(0, 0.02) (ganjax.networks.infogan.INITS)
  c.model.leak = 0.1  # the leaky ReLUs' slope: the paper's 0.1 (the authors' code: 0.01)
  c.model.width = 32
  c.model.latent_dim = 16
  c.model.num_classes = 4
  c.info = base_config.info_block(categories=4, continuous=1)
  c.optim.d = base_config.adam(2e-4, b1=0.5)
  c.optim.q = base_config.adam(2e-4, b1=0.5)
  c.optim.g = base_config.adam(1e-3, b1=0.5)
  c.optim.info = base_config.adam(2e-4, b1=0.5)  # the MI step's, with info.q_step="separate"
  return c
