"""TextGAN (Zhang et al. 2017, kernel-MMD feature matching). Offline default data: the grammar
(generated from the seed); real text with --config.data.name=corpus:<path>, e.g. the fortunes of
Debian's `fortunes` package (`apt-get install fortunes`; the README's figures): word-level sentences
of 3-19 words, the 2,000 most frequent words (with the end symbol), end-padded to 20 tokens, the
last fifth held out. G: an LSTM (embedding 32, hidden
64, latent 32) with soft-argmax (L = 100); D: SeqGAN's CNN (a quarter of its filters) with the
z-reconstruction head. 1,000 MLE steps of G, then 500 adversarial steps (~4 minutes on 2 CPU cores); Adam 1e-3 (G) / 1e-4 (D).
`:mle` is the baseline: an MLE LSTM of G's size on the same sentences (`seqgan`, MLE every step).

  python -m ganjax.main --config=configs/textgan.py --workdir=/tmp/textgan      # the grammar, offline
  python -m ganjax.main --config=configs/textgan.py --workdir=/tmp/textgan_fortunes \
      --config.data.name=corpus:/usr/share/games/fortunes
  python -m ganjax.main --config=configs/textgan.py:mle --workdir=/tmp/textgan_mle \
      --config.data.name=corpus:/usr/share/games/fortunes
  # eval.json: sequence/bleu2..5 against held-out sentences, sequence/self_bleu2..5; samples.txt
"""

import ml_collections

from ganjax import base_config



def get_config(arg=None):
  arg = base_config.argument("textgan.py", arg, ("mle",))
  c = base_config.get_config()
  c.algorithm = "textgan"
  base_config.corpus_data(c)
  c.textgan = ml_collections.ConfigDict()
  c.textgan.pretrain_g_steps = 1000  # MLE (the paper pre-trains G as an autoencoder's decoder)
  c.textgan.adversarial_optimizer = "fresh"  # G's Adam after MLE pre-training: fresh (a second optimizer, as SeqGAN's released code) | carried
  c.textgan.inverse_temperature = 100.0  # L of the soft-argmax
  c.textgan.lambda_r = 1.0  # L_recon's weight in L_D
  c.textgan.lambda_m = 1.0  # L_MMD^2's weight in L_D
  c.textgan.sigmas = (1.0, 2.0, 4.0, 8.0, 16.0)  # Gaussian-kernel bandwidths of the MMD
  if arg == "mle":
    base_config.sequence_mle_baseline(c)
  return c

