"""Gumbel-softmax GAN (Kusner & Hernandez-Lobato 2016) on the arithmetic-expression grammar
(`data.name=grammar`: strings of x + - * / ( ) of at most 12 symbols, end-padded to 13 tokens,
10,000 drawn from the seed). G: an LSTM (embedding 16, hidden 64) from z ~ N(0, I) (latent 16)
emitting Gumbel-softmax rows, tau annealed from 1 to 0.1 over the run; D: Kusner et al.'s LSTM
(hidden 64). Adam 1e-3 for both, batch 64, 5,000 steps (about 4 minutes on 2 CPU cores).
`:mle` is the baseline the issue asks for: an MLE LSTM of the same size on the same data
(`seqgan` with MLE for every step).

  python -m ganjax.main --config=configs/gsgan.py --workdir=/tmp/gsgan
  python -m ganjax.main --config=configs/gsgan.py:mle --workdir=/tmp/gsgan_mle
  # eval.json: sequence/valid_fraction, sequence/distinct_valid; samples.txt (--mode=sample)
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("gsgan.py", arg, ("mle",))
  c = base_config.get_config()
  c.algorithm = "gsgan"
  c.data.name = "grammar"
  c.data.seq_len, c.data.num_sequences = 13, 10_000
  base_config.sequence_model(c)
  c.model.embed_dim, c.model.hidden, c.model.latent_dim = 16, 64, 16
  c.model.discriminator, c.model.d_embed_dim, c.model.d_hidden_lstm = "lstm", 16, 64
  c.batch_size = 64
  c.num_steps = 5000
  c.log_every = 100
  c.sample_every = 1000
  c.checkpoint_every = 1000
  c.eval.num_samples = 1000  # distinct valid strings among 1,000 samples (and their valid fraction)
  c.optim.g = base_config.adam(1e-3)
  c.optim.d = base_config.adam(1e-3)
  c.gsgan = ml_collections.ConfigDict()
  c.gsgan.tau0 = 1.0
  c.gsgan.tau_min = 0.1
  c.gsgan.tau_rate = 0.0  # 0: tau0 -> tau_min over the run's steps after pre-training, whatever num_steps
  c.gsgan.pretrain_steps = 0  # MLE steps of G first (0: from scratch, as the paper)
  c.gsgan.adversarial_optimizer = "fresh"  # G's Adam after MLE pre-training: fresh (a second optimizer, as SeqGAN's released code) | carried
  if arg == "mle":
    base_config.sequence_mle_baseline(c)
  return c

