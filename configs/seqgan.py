"""SeqGAN (Yu et al. 2017) on its synthetic oracle: a random N(0, 1) LSTM over 5,000 tokens,
embedding and hidden 32, sequences of 20, 10,000 oracle samples to train (`data.name=oracle`, drawn
from config.seed; `oracle:<k>` names one). G: the same LSTM shape; D: the paper's CNN (windows 1-20,
1,720 filters times model.d_filter_scale, highway, dropout 0.25); Adam, G 0.01 (clip 5), D 1e-4,
batch 64; N = 16 rollouts. Sized for a CPU: 4,000 MLE steps (~26 epochs; the paper's 80), 1,000 D
pre-training steps (the released code's ~47,000), then 50 adversarial steps ("epochs" in the paper:
each one G update) of one G update and seqgan.d_steps = 5 D updates (the code's ~4,700), D's filters
a quarter of the paper's; evaluated every 5 adversarial steps (eval_start) for the NLL_oracle curve.
`:mle` is the baseline: MLE for every step (the same 5,050 steps, evaluated at the same steps). On 2
CPU cores an MLE step takes ~0.1 s, a D step ~0.12 s, an adversarial step ~8 s (~20 min a run).
As the released code's master: G's second Adam for the policy gradient (fresh at the first adversarial
step), the loss summed over the batch's tokens, D's two-class softmax output, a fresh minibatch of data
for each D update. `:paper` is the first release's settings, which produced the paper's figures: Adam
1e-3 for G, 240 MLE epochs, the code's ~47,000 D pre-training batches, 800 adversarial steps (D's
per-step budget stays `d_steps`; the code's ~4,700 D batches per G update is a GPU's budget); the
paper reports the best NLL_oracle over the run (eval.json's curve in metrics.jsonl).

  python -m ganjax.main --config=configs/seqgan.py --workdir=/tmp/seqgan
  python -m ganjax.main --config=configs/seqgan.py:mle --workdir=/tmp/seqgan_mle
  # eval.json: sequence/nll_oracle (the paper's NLL_oracle), test/nll (NLL_test); samples.txt
"""

import ml_collections

from ganjax import base_config


def get_config(arg=None):
  arg = base_config.argument("seqgan.py", arg, ("mle", "paper"))
  c = base_config.get_config()
  c.algorithm = "seqgan"
  c.data.name = "oracle"
  c.data.vocab_size, c.data.seq_len, c.data.num_sequences = 5000, 20, 10_000
  base_config.sequence_model(c, d_filter_scale=0.25)
  c.batch_size = 64
  c.num_steps = 5050
  c.log_every = 50
  c.sample_every = 0
  c.checkpoint_every = 500
  c.eval_every, c.eval_start = 5, 5000  # the curve over the adversarial phase
  c.eval.num_samples = 10_000  # the paper's NLL_oracle of 10,000 generated sequences
  c.optim.g = base_config.adam(0.01)
  c.optim.g.grad_clip = 5.0
  c.optim.d = base_config.adam(1e-4)
  c.seqgan = ml_collections.ConfigDict()
  c.seqgan.pretrain_g_steps = 4000  # MLE
  c.seqgan.pretrain_d_steps = 1000
  c.seqgan.num_rollouts = 16  # N, Monte Carlo completions per prefix
  c.seqgan.d_steps = 5  # D minibatch updates per adversarial G update
  c.seqgan.d_l2 = 0.2  # on D's output layer (the released code's l2_reg_lambda)
  c.model.d_classes = 2  # the released code's two-class softmax output
  c.seqgan.adversarial_optimizer = "fresh"  # the released code's second Adam for the policy gradient | carried
  c.seqgan.pg_reduction = "sum"  # the released code's sum over the batch's tokens | sequence_mean | token_mean
  if arg == "mle":
    c.seqgan.pretrain_g_steps = c.num_steps
    # d_steps stays: the baseline reads SeqGAN's rows (rows_per_step) and so its data order, and its
    # first 4,000 steps are SeqGAN's pre-training step for step
  if arg == "paper":  # the first release's settings, which produced the paper's figures (a GPU budget)
    c.optim.g = base_config.adam(1e-3)  # tf.train.AdamOptimizer() at its default rate
    c.optim.g.grad_clip = 5.0
    c.seqgan.pretrain_g_steps = 37_500  # 240 epochs of 10,000 sequences in batches of 64
    c.seqgan.pretrain_d_steps = 47_000  # 50 x 3 epochs of 10,000 + 10,000 sequences in batches of 64
    c.num_steps = c.seqgan.pretrain_g_steps + c.seqgan.pretrain_d_steps + 800  # 800 adversarial batches
    c.eval_start = c.seqgan.pretrain_g_steps + c.seqgan.pretrain_d_steps
    c.checkpoint_every = 5000
  return c
