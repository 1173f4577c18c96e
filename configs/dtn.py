"""DTN (Taigman et al. 2017): f the task classifier's 100-d last hidden layer, trained on the source
labels for the first 1,000 steps and then fixed; g a transposed-convolution decoder; a three-way D;
L_GANG + 15 L_CONST + 15 L_TID (gamma = 0 for digits, as the paper); Adam(3e-4, beta1 0.5), batch 64;
the task classifier t (Adam 1e-3) on G(source) from the end of f's pretraining on, as g and D.
Offline default: digits -> digits-M (28 x 28); DTN's own pair, a "digits to MNIST" transfer:

  python -m ganjax.main --config=configs/dtn.py --workdir=/tmp/dtn                       # digits -> digits-M
  python -m ganjax.main --config=configs/dtn.py --workdir=/tmp/dtn_digits_mnist \
      --config.data.streams.source=digits --config.data.streams.target=idx:../shared/data/mnist15k \
      --config.data.holdouts.target=2000     # translation/class_accuracy: the MNIST classifier on G(x)
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("dtn.py", arg)
  c = base_config.get_gan_config()
  c.algorithm = "dtn"
  base_config.domain_streams(c, "blend:digits", "blend:digits")
  c.data.image_size = 28
  c.batch_size = 64
  c.num_steps = 4000
  c.model.width = 64  # g's filters
  adam = base_config.adam(3e-4, b1=0.5)
  c.optim = ml_collections.ConfigDict({"f": base_config.adam(1e-3), "g": adam, "d": adam.copy_and_resolve_references(),
                                       "t": base_config.adam(1e-3)})
  c.dtn = ml_collections.ConfigDict()
  c.dtn.pretrain_steps = 1000  # f on the source labels alone, then fixed
  c.dtn.d_width = 32
  c.dtn.const_weight = 15.0  # alpha
  c.dtn.tid_weight = 15.0  # beta
  c.dtn.tv_weight = 0.0  # gamma
  return c
