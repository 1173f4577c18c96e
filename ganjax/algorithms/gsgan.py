"""Gumbel-softmax GAN for discrete sequences (Kusner & Hernandez-Lobato 2016, "GANS for Sequences of
Discrete Elements with the Gumbel-softmax Distribution", NIPS workshop on adversarial training).

G (player "g", `networks.sequence.LSTMGenerator` with a latent z ~ N(0, I) mapped to its initial
state) emits at each step the Gumbel-softmax relaxation of a one-hot token (Jang, Gu & Poole 2017,
Eq. 1; Maddison, Mnih & Teh 2017's concrete distribution),
    y_t = softmax((h_t W + b + g_t) / tau),   g_t,i = -log(-log u_t,i),  u ~ U(0, 1)   (Kusner Eq. 2)
and feeds y_t back as the next input (embedded as y_t E), so the sequence is a differentiable
function of G's parameters. D (player "d": `model.discriminator` "lstm", Kusner et al.'s LSTM over
the sequence, or "cnn") sees the data as one-hot rows and G's relaxed rows, and the two play the
standard GAN game (Goodfellow et al. Eq. 1; G non-saturating; both players updated from the same
step's parameters): d/loss = -E log D(x) - E log(1 - D(G(z))),
g/loss = -E log D(G(z)). The temperature is annealed, as the paper does, from `gsgan.tau0` towards
0 (one-hot) -- tau_t = max(tau_min, tau0 exp(-tau_rate t)) -- so the relaxation sharpens during
training. Samples (`generate`) are the tau -> 0 limit: argmax(h W + b + g), the exact categorical
draw, fed back as one-hot. `gsgan.pretrain_steps` > 0 pre-trains G by MLE first (0: the paper's
training from scratch).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ganjax import losses
from ganjax import state as state_lib
from ganjax.algorithms import sequences
from ganjax.algorithms.common import grad_norm, mean_prob, sample_latent
from ganjax.algorithms.method import Method, Sampler
from ganjax.errors import ConfigError


def check(config):
  p = config.gsgan
  if not 0 < p.tau_min <= p.tau0 or p.tau_rate < 0 or p.pretrain_steps < 0:
    raise ConfigError("gsgan needs 0 < tau_min <= tau0, tau_rate >= 0 and pretrain_steps >= 0")
  sequences.require_latent(config)
  sequences.check_phase_optimizer("gsgan", config.gsgan)


def init(config, key, example_batch) -> state_lib.TrainState:
  m = config.model
  return sequences.init_players(config, key, sequences.discriminator(config), jnp.zeros((2, m.seq_len, m.vocab_size)))


def temperature(config, step):
  """tau_t = max(tau_min, tau0 exp(-r t)), t counted from the end of pre-training (Jang et al. 2017's
  schedule, updated every step): r = `gsgan.tau_rate` when > 0; 0 (the config's default) sets
  r = ln(tau0 / tau_min) / (num_steps - pretrain_steps), so tau reaches tau_min at the run's last step
  whatever its length."""
  p = config.gsgan
  t = jnp.maximum(step - p.pretrain_steps, 0).astype(jnp.float32)
  rate = p.tau_rate or math.log(p.tau0 / p.tau_min) / max(config.num_steps - p.pretrain_steps, 1)
  return jnp.maximum(p.tau_min, p.tau0 * jnp.exp(-rate * t))


def phase(config, step: int) -> str:
  return sequences.pretraining_phase(config.gsgan.pretrain_steps, step)


def train_step(state, batch, key, phase: str = sequences.ADVERSARIAL_PHASE):
  cfg = state.config
  g, d = state.g, state.d
  if phase == sequences.ADVERSARIAL_PHASE:  # the MLE phase's Adam state: fresh (default) or carried
    g = sequences.phase_optimizer(g, state.step, state.config.gsgan.pretrain_steps,
                                  state.config.gsgan.adversarial_optimizer)
  real_ids = batch["tokens"]
  n, length = real_ids.shape
  real = sequences.one_hot(real_ids, cfg.model.vocab_size)
  tau = temperature(cfg, state.step)
  z = sample_latent(jax.random.fold_in(key, 0), n, cfg.model)
  relaxed = lambda params: sequences.relaxed_sample(g.apply_fn, params, jax.random.fold_in(key, 1), z, length, tau)  # noqa: E731
  logit = lambda params, x, salt: d.apply(params, x, train=True, rngs={"dropout": jax.random.fold_in(key, 10 + salt)})[0][0]  # noqa: E731

  def adversarial(_):
    fake = jax.lax.stop_gradient(relaxed(g.params))

    def d_loss_fn(params):
      real_out, fake_out = logit(params, real, 0), logit(params, fake, 1)
      return losses.d_loss_bce(real_out, fake_out), (real_out, fake_out)

    (d_loss, (real_out, fake_out)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d.params)
    g_loss, g_grads = jax.value_and_grad(lambda params: losses.g_loss_non_saturating(logit(d.params, relaxed(params), 2)))(g.params)
    return g.update(g_grads), d.update(d_grads), {
        "d/loss": d_loss, "d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out),
        "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads),
        "g/nll": sequences.mle_loss(g.apply_fn, g.params, real_ids, z), "g/tau": tau,
        # how far the relaxed rows are from one-hot: 1 - mean max probability (0 when one-hot)
        "g/softness": 1.0 - jnp.mean(jnp.max(fake, axis=-1))}

  g2, d2, metrics = sequences.mle_or_adversarial(phase, g, d,
                                                 lambda p: sequences.mle_loss(g.apply_fn, p, real_ids, z), adversarial)
  return state.replace(step=state.step + 1, players={**state.players, "g": g2, "d": d2}), metrics


def generate(state, key, n: int, z=None):
  """n token sequences (n, T): the tau -> 0 limit of the relaxation, the exact categorical draw."""
  key = key if key is not None else jax.random.key(0)
  cfg = state.config
  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model) if z is None else z
  return sequences.sample(state.g.apply_fn, state.g.params, key, n, cfg.model.seq_len, z)[0]


def evaluate(state, x, key):
  """The generator's per-token NLL of held-out sequences given one z ~ N(0, I) each (an upper bound
  on -log p(x) / T under the latent model: a single-sample estimate, not the marginal)."""
  z = sample_latent(key, x.shape[0], state.config.model)
  return {"nll": sequences.nll(state.g.apply_fn, state.g.params, x, z)}


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate), evaluate=evaluate, phase=phase,
                example_batch=sequences.example_batch, check=check)
