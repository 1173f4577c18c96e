"""SeqGAN (Yu, Zhang, Wang & Yu 2017, "SeqGAN: Sequence Generative Adversarial Nets with Policy
Gradient", AAAI).

G_theta (player "g", `networks.sequence.LSTMGenerator`) is a stochastic policy over tokens; D_phi
(player "d", `networks.sequence.SequenceCNN`: the paper's window sizes and filter counts, highway,
dropout) scores whole sequences. Training, as the paper's Algorithm 1 and released code:
  1. MLE pre-training of G for `seqgan.pretrain_g_steps` steps (per-token cross-entropy on data);
  2. pre-training of D for `seqgan.pretrain_d_steps` steps: data (label 1) vs fresh samples of G (0),
     the released code's loss: the mean cross-entropy over the mixed batch of data and samples,
     (-E log D(Y) - E log(1 - D(G))) / 2, plus `seqgan.d_l2` (l2_reg_lambda = 0.2) times
     tf.nn.l2_loss = (||W_out||^2 + ||b_out||^2) / 2 of the output layer (the two-class softmax's
     W of (F, 2) and b of 2 by default, as the code; one logit with `model.d_classes=1`);
  3. adversarial steps: one policy-gradient update of G on a fresh batch of its own sequences Y,
         grad J = E_Y sum_t grad log G(y_t | Y_1:t-1) Q(Y_1:t-1, y_t)          (Eq. 6-7)
     with the action value of Eq. 4: for t < T the mean of D(Y^n) over `seqgan.num_rollouts`
     (N = 16) Monte Carlo completions Y^n of the prefix Y_1:t by the current policy (`sequences.
     rollout_values`: `vmap` over the N rollouts, `lax.map` over t), for t = T D(Y) itself; D's
     probability of "real" without dropout, as the code; then `seqgan.d_steps` D updates, each on
     fresh samples against its own minibatch of data.
The paper's rollout policy G_beta is G_theta ("we set G_beta = G_theta for simplicity"; the
released code keeps a delayed copy, update rate 0.8). Its schedule per adversarial epoch -- one G
batch, then D trained 3 epochs on each of 5 fresh sets of 10,000 samples, ~4,700 D minibatches --
is far beyond a CPU: here D takes `d_steps` minibatch updates per G update, each on its own
`batch_size` rows of data (`rows_per_step`), and the configs say which budget produced each figure.
The phase of each step follows from the step count (`phase`): the loop compiles one program per phase.
`:mle` in `configs/seqgan.py` is the MLE baseline: the MLE phase for every step.

As the released code (LantaoYu/SeqGAN, `generator.py`, `discriminator.py`), by default:
  - G has two optimizers: the MLE Adam (`pretrain_opt`) and a second, fresh Adam for the
    policy-gradient updates (`g_opt`), same rate and clipping (`seqgan.adversarial_optimizer=fresh`;
    `carried` keeps one Adam state across both phases, the MLE moments then set the first
    adversarial steps' size);
  - the policy-gradient loss is summed over the batch's tokens (`seqgan.pg_reduction=sum`, the
    code's `reduce_sum`; `sequence_mean` divides by the batch, Eq. 7's expectation as a mean,
    `token_mean` also by T, the MLE loss's per-token scale), then G's gradient is clipped to norm 5;
  - D's output layer is the two-class softmax (`model.d_classes=2`), its highway layer has gate bias 0
    and TensorFlow's glorot_uniform weights and biases (`networks.sequence.Highway`).
Adam for both, G lr 0.01 with gradient clipping 5 and D lr 1e-4, as the code's master; the paper's
figures came from the first release's settings (Adam at TensorFlow's default 1e-3, 240 MLE epochs,
800 adversarial batches, the best NLL_oracle over the run): `configs/seqgan.py:paper`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses
from ganjax import state as state_lib
from ganjax.algorithms import sequences
from ganjax.algorithms.common import grad_norm, mean_prob
from ganjax.algorithms.method import Bench, Method, Sampler
from ganjax.errors import ConfigError


PG_REDUCTIONS = ("sum", "sequence_mean", "token_mean")


def check(config):
  p = config.seqgan
  if p.num_rollouts < 1 or p.d_steps < 1 or min(p.pretrain_g_steps, p.pretrain_d_steps) < 0:
    raise ConfigError("seqgan.num_rollouts and d_steps must be >= 1, pretrain_g_steps and pretrain_d_steps >= 0")
  if p.pg_reduction not in PG_REDUCTIONS:
    raise ConfigError(f"seqgan.pg_reduction must be one of {', '.join(PG_REDUCTIONS)}, got {p.pg_reduction!r}")
  sequences.check_phase_optimizer("seqgan", p)


def rows_per_step(config) -> int:
  """Data rows a step reads: each of the adversarial phase's `d_steps` D updates takes its own
  `batch_size` real sequences (the released code's D epochs never reuse a minibatch within a pass);
  the pre-training phases read the first `batch_size`."""
  return config.batch_size * config.seqgan.d_steps


def init(config, key, example_batch) -> state_lib.TrainState:
  return sequences.init_players(config, key, sequences.discriminator(config), jnp.zeros_like(example_batch["tokens"]),
                                latent=False)


def reward(d, params, tokens):
  """D's probability that each sequence is data (no dropout): SeqGAN's reward."""
  return jax.nn.sigmoid(d.apply(params, tokens, train=False)[0][0])


def policy_gradient_loss(log_probs, q, reduction: str = "sum"):
  """-sum_t log G(y_t | Y_1:t-1) Q(Y_1:t-1, y_t) over a batch of sequences, Q held constant: its
  gradient is Eq. 7's. `reduction`: "sum" over the batch (the released code's `g_loss`, a
  `reduce_sum` over every token of the batch), "sequence_mean" (the mean over the batch: Eq. 7's
  expectation estimated by the batch mean), "token_mean" (also divided by T: the per-token scale of
  the MLE loss)."""
  per_sequence = jnp.sum(log_probs * jax.lax.stop_gradient(q), axis=1)
  if reduction == "sum":
    return -jnp.sum(per_sequence)
  return -jnp.mean(per_sequence) / (log_probs.shape[1] if reduction == "token_mean" else 1)


def d_loss(d, params, real, fake, key, l2: float):
  real_out = d.apply(params, real, train=True, rngs={"dropout": jax.random.fold_in(key, 0)})[0][0]
  fake_out = d.apply(params, fake, train=True, rngs={"dropout": jax.random.fold_in(key, 1)})[0][0]
  w = params["logit"]
  penalty = 0.5 * (jnp.sum(w["kernel"]**2) + jnp.sum(w["bias"]**2))  # tf.nn.l2_loss
  return 0.5 * losses.d_loss_bce(real_out, fake_out) + l2 * penalty, (real_out, fake_out)  # mixed-batch mean


PRETRAIN_G, PRETRAIN_D, ADVERSARIAL_PHASE = "pretrain_g", "pretrain_d", "adversarial"  # (ADVERSARIAL would be the stabilizer hook)


def phase(config, step: int) -> str:
  """Algorithm 1's phases by step: MLE of G, then D's pre-training, then adversarial training."""
  p = config.seqgan
  if step < p.pretrain_g_steps:
    return PRETRAIN_G
  return PRETRAIN_D if step < p.pretrain_g_steps + p.pretrain_d_steps else ADVERSARIAL_PHASE


def train_step(state, batch, key, phase: str = ADVERSARIAL_PHASE):
  cfg = state.config
  p = cfg.seqgan
  g, d = state.g, state.d
  n, length = batch["tokens"].shape[0] // p.d_steps, batch["tokens"].shape[1]
  reals = batch["tokens"].reshape((p.d_steps, n, length))  # one minibatch of data per D update
  real = reals[0]

  def mle_loss(params):
    return sequences.mle_loss(g.apply_fn, params, real)

  def d_update(d, k, real):
    fake = sequences.sample(g.apply_fn, g.params, jax.random.fold_in(k, 0), n, length)[0]
    (loss, (ro, fo)), grads = jax.value_and_grad(d_loss, argnums=1, has_aux=True)(d, d.params, real, fake, k, p.d_l2)
    return d.update(grads), (loss, mean_prob(ro), mean_prob(fo))

  if phase == PRETRAIN_G:  # 1. MLE
    loss, grads = jax.value_and_grad(mle_loss)(g.params)
    g, metrics = g.update(grads), {"g/loss": loss, "g/nll": loss, "g/grad_norm": grad_norm(grads)}
  elif phase == PRETRAIN_D:  # 2. D on data vs fresh samples
    d, (loss, pr, pf) = d_update(d, jax.random.fold_in(key, 1), real)
    metrics = {"g/nll": mle_loss(g.params), "d/loss": loss, "d/p_real": pr, "d/p_fake": pf}
  else:  # 3. one policy-gradient update of G with Monte Carlo action values, then d_steps D updates
    g = sequences.phase_optimizer(g, state.step, p.pretrain_g_steps + p.pretrain_d_steps,
                                  p.adversarial_optimizer)
    tokens = sequences.sample(g.apply_fn, g.params, jax.random.fold_in(key, 2), n, length)[0]
    q = sequences.rollout_values(g.apply_fn, g.params, lambda y: reward(d, d.params, y), jax.random.fold_in(key, 3),
                                 tokens, p.num_rollouts)

    def pg_loss(params):
      return policy_gradient_loss(sequences.token_log_probs(
          sequences.teacher_forced_logits(g.apply_fn, params, tokens), tokens), q, p.pg_reduction)

    loss, grads = jax.value_and_grad(pg_loss)(g.params)
    nll_before = mle_loss(g.params)
    g = g.update(grads)
    for i in range(p.d_steps):  # unrolled: D's updates inside a lax.scan ran slower on XLA:CPU
      d, (dl, pr, pf) = d_update(d, jax.random.fold_in(key, 10 + i), reals[i])
    metrics = {"g/loss": loss, "g/nll": nll_before, "g/reward": jnp.mean(q[:, -1]), "g/grad_norm": grad_norm(grads),
               "d/loss": dl, "d/p_real": pr, "d/p_fake": pf}
  return state.replace(step=state.step + 1, players={**state.players, "g": g, "d": d}), metrics


def generate(state, key, n: int, z=None):
  """n token sequences (n, T), each drawn from the policy."""
  return sequences.sample(state.g.apply_fn, state.g.params, key if key is not None else jax.random.key(0), n,
                          state.config.model.seq_len)[0]


def evaluate(state, x, key):
  """The generator's per-token NLL of held-out sequences (NLL_test)."""
  return {"nll": sequences.nll(state.g.apply_fn, state.g.params, x)}


def bench_config(config):
  """What `python -m ganjax.bench` times: the adversarial step (both pre-training phases skipped)."""
  config = config.copy_and_resolve_references()
  config.seqgan.pretrain_g_steps = config.seqgan.pretrain_d_steps = 0
  return config


def step_tokens(config) -> dict:
  """LSTM token steps of one adversarial step's Monte Carlo rollouts: B N (T - 1) T (each rollout
  scans all T positions, the prefix teacher-forced)."""
  b, n, t = config.batch_size, config.seqgan.num_rollouts, config.model.seq_len
  return {"rollout": b * n * (t - 1) * t}


def bench_part(config):
  """("rollout", fn(state, batch, key) -> Q, token steps): a step's sequences and their rollout values alone."""
  def part(state, batch, key):
    g, d = state.g, state.d
    n, length = batch["tokens"].shape[0] // config.seqgan.d_steps, batch["tokens"].shape[1]
    tokens = sequences.sample(g.apply_fn, g.params, key, n, length)[0]
    return sequences.rollout_values(g.apply_fn, g.params, lambda y: reward(d, d.params, y), key, tokens,
                                    config.seqgan.num_rollouts)

  return "rollout", part, step_tokens(config)["rollout"]


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate), evaluate=evaluate, phase=phase,
                rows_per_step=rows_per_step, example_batch=sequences.example_batch, check=check,
                bench=Bench(config=bench_config, step_tokens=step_tokens, part=bench_part))
