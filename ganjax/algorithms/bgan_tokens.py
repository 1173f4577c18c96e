"""Boundary-seeking GAN for discrete sequences (Hjelm, Jacob, Che, Trischler, Cho & Bengio 2018,
"Boundary-Seeking Generative Adversarial Networks", ICLR; Sec. 2.2 and Algorithm 1, their
"discrete GAN training possible").

The discrete BGAN of `ganjax.algorithms.bgan`, with token sequences in place of binary pixels:
G (player "g", `networks.sequence.LSTMGenerator`, z ~ N(0, I) mapped to its initial state) is the
conditional g(x | z) = prod_t g(x_t | x_<t, z); for each z it draws M = `bgan.num_samples`
sequences x_m, and D (player "d", `networks.sequence.SequenceCNN` on token ids) is the usual GAN
discriminator between data and all the generated sequences. With w(x) = D(x) / (1 - D(x)) =
exp(logit D(x)) the importance weights towards the data (Eq. 3), G minimises the policy-gradient
objective of Eq. 10,
    L_G = - E_z sum_m w~_m log g(x_m | z),   w~_m = w(x_m) / sum_m' w(x_m'),
the weights normalised over the M samples of each z and held constant -- `bgan.importance_weights`
and the same loss as the binary case, with log g(x_m | z) the sequence's summed token
log-probabilities. `bgan.pretrain_g_steps` > 0 pre-trains G by MLE first (0: from scratch, as the paper).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses
from ganjax import state as state_lib
from ganjax.algorithms import bgan, gsgan, sequences
from ganjax.algorithms.common import grad_norm, mean_prob, sample_latent
from ganjax.algorithms.method import Method
from ganjax.errors import ConfigError


def check(config):
  if config.bgan.num_samples < 2:
    raise ConfigError(f"bgan.num_samples must be >= 2 (the weights are normalised over them), got {config.bgan.num_samples}")
  if config.bgan.pretrain_g_steps < 0:
    raise ConfigError("bgan.pretrain_g_steps must be >= 0")
  sequences.require_latent(config)
  sequences.check_phase_optimizer("bgan", config.bgan)


def init(config, key, example_batch) -> state_lib.TrainState:
  return sequences.init_players(config, key, sequences.discriminator(config), example_batch["tokens"])


def sequence_log_prob(apply_fn, params, tokens, z):
  """log g(x | z) = sum_t log g(x_t | x_<t, z) of each sequence: (B,)."""
  return jnp.sum(sequences.token_log_probs(sequences.teacher_forced_logits(apply_fn, params, tokens, z), tokens), axis=-1)


def phase(config, step: int) -> str:
  return sequences.pretraining_phase(config.bgan.pretrain_g_steps, step)


def train_step(state, batch, key, phase: str = sequences.ADVERSARIAL_PHASE):
  cfg = state.config
  g, d = state.g, state.d
  if phase == sequences.ADVERSARIAL_PHASE:  # the MLE phase's Adam state: fresh (default) or carried
    g = sequences.phase_optimizer(g, state.step, state.config.bgan.pretrain_g_steps,
                                  state.config.bgan.adversarial_optimizer)
  m = cfg.bgan.num_samples
  real = batch["tokens"]
  n, length = real.shape
  z = sample_latent(jax.random.fold_in(key, 0), n, cfg.model)
  zm = jnp.tile(z, (m, 1))  # row m * n + i: the m-th sample of z_i
  logit = lambda params, x, salt: d.apply(params, x, train=True, rngs={"dropout": jax.random.fold_in(key, 10 + salt)})[0][0]  # noqa: E731

  def adversarial(_):
    fake = sequences.sample(g.apply_fn, g.params, jax.random.fold_in(key, 1), m * n, length, zm)[0]

    def d_loss_fn(params):
      real_out, fake_out = logit(params, real, 0), logit(params, fake, 1)
      return losses.d_loss_bce(real_out, fake_out), (real_out, fake_out)

    (d_loss, (real_out, fake_out)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d.params)
    d_new = d.update(d_grads)
    d_logits = d_new.apply(d_new.params, fake, train=False)[0][0].reshape((m, n))  # the updated D weighs the samples
    w = jax.lax.stop_gradient(bgan.importance_weights(d_logits))

    def g_loss_fn(params):
      return -jnp.mean(jnp.sum(w * sequence_log_prob(g.apply_fn, params, fake, zm).reshape((m, n)), axis=0))

    g_loss, g_grads = jax.value_and_grad(g_loss_fn)(g.params)
    return g.update(g_grads), d_new, {
        "d/loss": d_loss, "d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out),
        "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads),
        "g/nll": sequences.mle_loss(g.apply_fn, g.params, real, z), "g/weights_ess": jnp.mean(1.0 / jnp.sum(w**2, axis=0))}

  g2, d2, metrics = sequences.mle_or_adversarial(phase, g, d,
                                                 lambda q: sequences.mle_loss(g.apply_fn, q, real, z), adversarial)
  return state.replace(step=state.step + 1, players={**state.players, "g": g2, "d": d2}), metrics


METHOD = Method(init=init, train_step=train_step,
                sampler=gsgan.METHOD.sampler, evaluate=gsgan.evaluate,  # g(x | z) drawn token by token; NLL given one z
                phase=phase, example_batch=sequences.example_batch, check=check, config_block="bgan")
