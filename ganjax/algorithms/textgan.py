"""TextGAN (Zhang, Gan, Fan, Chen, Henao, Shen & Carin 2017, "Adversarial Feature Matching for Text
Generation", ICML) -- the 2017 version, with the kernel-MMD feature matching (the 2016 workshop
paper, Zhang, Gan & Carin, "Generating Text via Adversarial Training", matched feature means and
covariances instead).

G (player "g", `networks.sequence.LSTMGenerator`, z ~ N(0, I) mapped to its initial state) writes a
sentence with the soft-argmax approximation of greedy decoding (Sec. 2.2),
    y~_t = W_e softmax(V h_t * L),   L = `textgan.inverse_temperature` ("a large positive number"),
fed back as the next input, so the sentence is differentiable. D (player "d", the CNN of
`networks.sequence.SequenceCNN`) maps a sentence to features f (the pooled, highway-mixed vector),
a real/fake logit, and an encoder head z^ = E(f) reconstructing G's latent code. The objectives (Eq. 2-3):
    L_D = L_GAN - lambda_r L_recon + lambda_m L_MMD^2        (D maximises)
    L_G = L_MMD^2                                            (G minimises)
    L_GAN = E log D(s) + E log(1 - D(G(z))),  L_recon = E ||z^ - z||^2,
    L_MMD^2 = MMD^2 between the features of real and generated sentences, with the Gaussian kernel
    sum_s exp(-||f - f'||^2 / 2 s^2) over the bandwidths `textgan.sigmas` (`losses.mmd2_gaussian`).
Differences from the paper, said here: G is pre-trained by MLE (`textgan.pretrain_g_steps`) instead
of as the decoder of a CNN-LSTM autoencoder, D is not pre-trained on word-swapped sentences, and z
enters only G's initial state (the paper also feeds it at every step). Samples (`generate`) are drawn
token by token from G's softmax (the evaluation's discrete sentences).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses
from ganjax import state as state_lib
from ganjax.algorithms import gsgan, sequences
from ganjax.algorithms.common import grad_norm, mean_prob, sample_latent
from ganjax.algorithms.method import Method
from ganjax.errors import ConfigError


def check(config):
  p = config.textgan
  if p.inverse_temperature <= 0 or not p.sigmas or min(p.sigmas) <= 0 or p.pretrain_g_steps < 0:
    raise ConfigError("textgan needs inverse_temperature > 0, positive sigmas and pretrain_g_steps >= 0")
  sequences.require_latent(config)
  sequences.check_phase_optimizer("textgan", config.textgan)


def init(config, key, example_batch) -> state_lib.TrainState:
  m = config.model
  d = sequences.discriminator(config, extra_outputs=m.latent_dim)
  return sequences.init_players(config, key, d, jnp.zeros((2, m.seq_len, m.vocab_size)))


def soft_argmax_sentences(state, params, key, z, length: int):
  """G's differentiable sentences (B, T, V): softmax(V h_t * L) at every step, fed back."""
  return sequences.relaxed_sample(state.g.apply_fn, params, key, z, length, 1.0 / state.config.textgan.inverse_temperature,
                                  gumbel=False)


def d_objective(real_out, fake_out, z_hat, z, real_f, fake_f, p):
  """(L_D, its terms): L_GAN - lambda_r L_recon + lambda_m L_MMD^2 (D maximises L_D)."""
  gan = -losses.d_loss_bce(real_out, fake_out)  # E log D(s) + E log(1 - D(G(z)))
  recon = jnp.mean(jnp.sum((z_hat - z)**2, axis=-1))
  mmd2 = losses.mmd2_gaussian(real_f, fake_f, tuple(p.sigmas))
  return gan - p.lambda_r * recon + p.lambda_m * mmd2, (gan, recon, mmd2)


def phase(config, step: int) -> str:
  return sequences.pretraining_phase(config.textgan.pretrain_g_steps, step)


def train_step(state, batch, key, phase: str = sequences.ADVERSARIAL_PHASE):
  cfg, p = state.config, state.config.textgan
  g, d = state.g, state.d
  if phase == sequences.ADVERSARIAL_PHASE:  # the MLE phase's Adam state: fresh (default) or carried
    g = sequences.phase_optimizer(g, state.step, state.config.textgan.pretrain_g_steps,
                                  state.config.textgan.adversarial_optimizer)
  real_ids = batch["tokens"]
  n, length = real_ids.shape
  real = sequences.one_hot(real_ids, cfg.model.vocab_size)
  z = sample_latent(jax.random.fold_in(key, 0), n, cfg.model)
  kd = jax.random.fold_in(key, 1)

  def run_d(params, x, salt):
    return d.apply(params, x, train=True, rngs={"dropout": jax.random.fold_in(key, 10 + salt)})[0]  # (logit, f, z^)

  def adversarial(_):
    fake = jax.lax.stop_gradient(soft_argmax_sentences(state, g.params, kd, z, length))

    def d_loss_fn(params):
      (ro, rf, _), (fo, ff, z_hat) = run_d(params, real, 0), run_d(params, fake, 1)
      objective, terms = d_objective(ro, fo, z_hat, z, rf, ff, p)
      return -objective, (ro, fo) + terms

    (d_loss, (ro, fo, gan, recon, d_mmd2)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d.params)
    d_new = d.update(d_grads)

    def g_loss_fn(params):  # L_MMD^2 against the updated D's features
      real_f = run_d(d_new.params, real, 2)[1]
      fake_f = run_d(d_new.params, soft_argmax_sentences(state, params, kd, z, length), 3)[1]
      return losses.mmd2_gaussian(jax.lax.stop_gradient(real_f), fake_f, tuple(p.sigmas))

    g_loss, g_grads = jax.value_and_grad(g_loss_fn)(g.params)
    return g.update(g_grads), d_new, {
        "d/loss": d_loss, "d/p_real": mean_prob(ro), "d/p_fake": mean_prob(fo), "d/l_gan": gan,
        "d/l_recon": recon, "d/mmd2": d_mmd2, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss,
        "g/grad_norm": grad_norm(g_grads), "g/nll": sequences.mle_loss(g.apply_fn, g.params, real_ids, z)}

  g2, d2, metrics = sequences.mle_or_adversarial(phase, g, d,
                                                 lambda q: sequences.mle_loss(g.apply_fn, q, real_ids, z), adversarial)
  return state.replace(step=state.step + 1, players={**state.players, "g": g2, "d": d2}), metrics


METHOD = Method(init=init, train_step=train_step,
                sampler=gsgan.METHOD.sampler, evaluate=gsgan.evaluate,  # discrete sentences from G(z); NLL given one z
                phase=phase, example_batch=sequences.example_batch, check=check)
