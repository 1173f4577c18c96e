"""SimGAN's refiner (Shrivastava et al. 2017), sized for a CPU: a 2-block, 16-filter stride-1 ResNet
refiner (the paper's 4 blocks of 64: --config.simgan.blocks=4 --config.model.width=64
--config.simgan.d_width=96), batch 32, the local
(per-patch) adversarial loss, lambda * ||R(x) - x||_1 self-regularisation, a history of refined
images for half of each D batch, R pretrained on the self-regularisation (1,000 steps) and D alone
(200, R fixed), then K_g = 2 R updates per D update, each on a fresh minibatch (3 x 32 rows of each
stream per step, Algorithm 1); the refiner's last layer a 1x1 convolution (the paper's); Adam(1e-3)
(the paper uses SGD 0.001 for gaze; Adam here).
Synthetic digits rendered from matplotlib's fonts (`fonts`) refined towards real digits; the task
classifier trained on the refinements is tested on the real ones. Offline default: fonts -> the
bundled digits (28 x 28); the raw-synthetic baseline is configs/dann.py:source_only on the same streams,
or configs/dann.py:source_only:simgan with this config's classifier recipe (Adam(1e-3), batch 32).

  python -m ganjax.main --config=configs/simgan.py --workdir=/tmp/simgan                      # fonts -> digits
  python -m ganjax.main --config=configs/simgan.py --workdir=/tmp/simgan_mnist \
      --config.data.streams.target=idx:../shared/data/mnist15k --config.data.holdouts.target=2000
  python -m ganjax.main --config=configs/dann.py:source_only --workdir=/tmp/fonts_raw_mnist \
      --config.data.streams.source=fonts --config.data.streams.target=idx:../shared/data/mnist15k \
      --config.data.holdouts.target=2000                                                       # raw synthetic
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  base_config.argument("simgan.py", arg)
  c = base_config.get_gan_config()
  c.algorithm = "simgan"
  base_config.domain_streams(c, "fonts", "digits")
  c.data.image_size = 28
  c.batch_size = 32
  c.num_steps = 3000
  c.model.width = 16  # the refiner's filters (64 in the paper)
  c.gan.replay_size = 320  # the history of refined images (10 batches) ...
  c.gan.replay_fraction = 0.5  # ... half of every D batch
  c.optim = ml_collections.ConfigDict({"r": base_config.adam(1e-3), "d": base_config.adam(1e-3),
                                       "t": base_config.adam(1e-3)})
  c.simgan = ml_collections.ConfigDict()
  c.simgan.blocks = 2  # ResNet blocks of the refiner (4 in the paper)
  c.simgan.norm = "batch"  # the refiner's normalisation: batch | instance | none
  c.simgan.d_width = 48  # the patch discriminator's first layer (96 in the paper: 96 - 64 - 32 - 32)
  c.simgan.self_reg = 0.5  # lambda of Eq. 4 (per-pixel sum against the per-patch sum)
  c.simgan.pretrain_r = 1000  # R on the self-regularisation alone first (Algorithm 1's initialisation) ...
  c.simgan.pretrain_d = 200  # ... then D alone
  c.simgan.refiner_steps = 2  # K_g (K_d = 1)
  return c
