"""Boundary-seeking GAN (Hjelm et al. 2018).

Default: the continuous BGAN on DCGAN players -- the GAN step with G minimising
1/2 (log D(G(z)) - log(1 - D(G(z))))^2 (Eq. 8), Adam(2e-4, beta1 0.5).
`:discrete`: the discrete BGAN on dynamically binarised images -- G outputs Bernoulli logits, M = 20
samples per z, normalised importance weights w = D / (1 - D) (Algorithm 1), MLP players on 28x28.
`:tokens`: the same estimator on token sequences (`ganjax.algorithms.bgan_tokens`): an LSTM g(x | z),
M = 8 sequences per z, SeqGAN's CNN (a quarter of its filters) as D, on the data of
`configs/textgan.py` (offline the grammar; the figures: --config.data.name=corpus:/usr/share/games/fortunes); 1,000 MLE steps of G,
then 500 BGAN steps (~9 minutes on 2 CPU cores), Adam 1e-3 (G) / 1e-4 (D). Its MLE baseline is `configs/textgan.py:mle`.

  python -m ganjax.main --config=configs/bgan.py --workdir=/tmp/bgan
  python -m ganjax.main --config=configs/bgan.py:discrete --workdir=/tmp/bgan_discrete \
      --config.data.name=idx:../shared/data/mnist
  python -m ganjax.main --config=configs/bgan.py:tokens --workdir=/tmp/bgan_tokens \
      --config.data.name=corpus:/usr/share/games/fortunes
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("bgan.py", arg, ("continuous", "discrete", "tokens"))
  if arg in (None, "continuous"):
    c = base_config.get_dcgan_config()
    c.gan.loss = "boundary_seeking"
    return c
  if arg == "tokens":
    return tokens_config()
  c = base_config.get_gan_config()
  c.algorithm = "bgan"
  c.num_steps = 10_000
  c.model.generator = c.model.discriminator = "mlp"
  c.bgan = ml_collections.ConfigDict()
  c.bgan.num_samples = 20  # M samples per z, over which the importance weights are normalised
  return c


def tokens_config():
  c = base_config.get_config()
  c.algorithm = "bgan_tokens"
  base_config.corpus_data(c)
  c.bgan = ml_collections.ConfigDict()
  c.bgan.num_samples = 8  # M sequences per z
  c.bgan.pretrain_g_steps = 1000  # MLE steps of G first (0: from scratch)
  c.bgan.adversarial_optimizer = "fresh"  # G's Adam after MLE pre-training: fresh (a second optimizer, as SeqGAN's released code) | carried
  return c
