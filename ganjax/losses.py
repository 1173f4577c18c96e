"""Losses as small pure functions of logits and distributions parameters; each returns a scalar
(mean over the batch) unless it says otherwise.

Adversarial objectives are pairs (discriminator loss, generator loss) in `GAN_LOSSES`, chosen by
`config.gan.loss`: the GAN's (below), least squares, hinge and Wasserstein; the discriminator penalties
(WGAN-GP's gradient penalty, R1, DRAGAN) follow them. With D(x) = sigmoid(logit), Goodfellow et al. (2014) Eq. 1 is
    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))],
so the discriminator minimises softplus(-l_real) + softplus(l_fake) and the minimax generator
minimises log(1 - D(G(z))) = -softplus(l_fake); the non-saturating generator (Sec. 3 of the paper)
instead minimises -log D(G(z)) = softplus(-l_fake).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax

from ganjax.errors import choose


# ---------------------------------------------------------------- adversarial (Goodfellow et al. 2014)

def d_loss_bce(real_logits, fake_logits, real_target: float = 1.0):
  """-E[log D(x)] - E[log(1 - D(G(z)))]; `real_target` < 1 is one-sided label smoothing."""
  return d_real_term("non_saturating", real_logits, real_target) + d_fake_term("non_saturating", fake_logits)


def g_loss_minimax(fake_logits):
  """E[log(1 - D(G(z)))], the generator's side of Eq. 1 (saturates when D wins)."""
  return -jnp.mean(jax.nn.softplus(fake_logits))


def g_loss_non_saturating(fake_logits):
  """-E[log D(G(z))], the paper's practical generator objective."""
  return jnp.mean(jax.nn.softplus(-fake_logits))


# ---------------------------------------------------------------- least squares (Mao et al. 2017, Eq. 2)

def d_loss_least_squares(real_out, fake_out, real_target: float = 1.0):
  """1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] with a = 0, b = `real_target` (= 1): raw outputs."""
  return d_real_term("least_squares", real_out, real_target) + d_fake_term("least_squares", fake_out)


def g_loss_least_squares(fake_out):
  """1/2 E[(D(G(z)) - c)^2] with c = 1."""
  return 0.5 * jnp.mean((fake_out - 1.0)**2)


# ---------------------------------------------------------------- hinge (Lim & Ye 2017; Miyato et al. 2018)

def d_loss_hinge(real_out, fake_out, real_target: float = 1.0):
  return d_real_term("hinge", real_out, real_target) + d_fake_term("hinge", fake_out)


def g_loss_critic(fake_out):
  """-E[D(G(z))]: the generator side of the hinge and Wasserstein objectives."""
  return -jnp.mean(fake_out)


# ---------------------------------------------------------------- Wasserstein (Arjovsky et al. 2017, Eq. 3)

def d_loss_wasserstein(real_out, fake_out, real_target: float = 1.0):
  """The critic maximises E[f(x)] - E[f(G(z))]; this is its negation. The difference itself is
  the Wasserstein-1 estimate (up to the Lipschitz constant) that WGAN training curves plot."""
  del real_target
  return jnp.mean(fake_out) - jnp.mean(real_out)


# ---------------------------------------------------------------- boundary seeking (Hjelm et al. 2018, Eq. 8)

def g_loss_boundary_seeking(fake_logits):
  """1/2 E[(log D(G(z)) - log(1 - D(G(z))))^2]: G aims at the decision boundary D = 1/2, where the
  optimal D's density ratio p_data / p_g is 1. With D = sigmoid(l), log D - log(1 - D) = l."""
  return 0.5 * jnp.mean(fake_logits**2)


GAN_LOSSES = {
    "non_saturating": (d_loss_bce, g_loss_non_saturating),
    "minimax": (d_loss_bce, g_loss_minimax),
    "least_squares": (d_loss_least_squares, g_loss_least_squares),
    "hinge": (d_loss_hinge, g_loss_critic),
    "wasserstein": (d_loss_wasserstein, g_loss_critic),
    "boundary_seeking": (d_loss_bce, g_loss_boundary_seeking),
}


def d_real_term(name: str, real_out, real_target: float = 1.0):
  """The real-sample part of D's loss `name` (each D loss is this plus a term of the generated
  samples alone): minus the data term E_x[log D(x)] of the value function for the GAN's losses."""
  if name in ("non_saturating", "minimax", "boundary_seeking"):
    return jnp.mean(optax.sigmoid_binary_cross_entropy(real_out, jnp.full_like(real_out, real_target)))
  if name == "least_squares":
    return 0.5 * jnp.mean((real_out - real_target)**2)
  if name == "hinge":
    return jnp.mean(jax.nn.relu(1.0 - real_out))
  if name == "wasserstein":
    return -jnp.mean(real_out)
  raise ValueError(f"unknown loss {name!r}")


def d_fake_term(name: str, fake_out):
  """The generated-sample part of D's loss `name` (D's loss = `d_real_term` + this): what D pays
  for the samples it should call fake, e.g. CartoonGAN's edge-smoothed cartoons."""
  if name in ("non_saturating", "minimax", "boundary_seeking"):
    return jnp.mean(jax.nn.softplus(fake_out))  # -E[log(1 - D(x))]
  if name == "least_squares":
    return 0.5 * jnp.mean(fake_out**2)
  if name == "hinge":
    return jnp.mean(jax.nn.relu(1.0 + fake_out))
  if name == "wasserstein":
    return jnp.mean(fake_out)
  raise ValueError(f"unknown loss {name!r}")


# Objectives whose real target can be moved from 1 (one-sided label smoothing, Salimans et al. 2016).
SMOOTHABLE = ("non_saturating", "minimax", "least_squares", "boundary_seeking")


# ---------------------------------------------------------------- kernel MMD (TextGAN's feature matching)

def mmd2_gaussian(x, y, sigmas=(1.0,)):
  """Squared maximum mean discrepancy between the rows of x (n, d) and y (m, d) under the kernel
  k(a, b) = sum_s exp(-||a - b||^2 / (2 s^2)) (the biased estimate MMD_b^2
  of Gretton et al. 2012, JMLR, Eq. 5 squared -- a V-statistic: mean k(x, x') + mean k(y, y') -
  2 mean k(x, y), every pair including i = j; their Lemma 6's MMD_u^2 leaves out i = j). TextGAN's
  L_MMD^2."""
  def k(a, b):
    sq = jnp.sum(a**2, 1)[:, None] + jnp.sum(b**2, 1)[None, :] - 2.0 * a @ b.T
    sq = jnp.maximum(sq, 0.0)
    return sum(jnp.exp(-sq / (2.0 * s**2)) for s in sigmas)

  x, y = x.astype(jnp.float32), y.astype(jnp.float32)
  return jnp.mean(k(x, x)) + jnp.mean(k(y, y)) - 2.0 * jnp.mean(k(x, y))


# ---------------------------------------------------------------- energy-based GAN (Zhao et al. 2016)

def reconstruction_energy(reconstruction, x):
  """EBGAN's energy D(x) = ||Dec(Enc(x)) - x|| (Eq. 7), as the per-example mean squared error over
  pixels (shape (B,)); the squared, per-pixel-averaged form keeps the margin independent of image size."""
  return jnp.mean(((reconstruction - x)**2).reshape((x.shape[0], -1)), axis=-1)


def ebgan_d_loss(real_energy, fake_energy, margin: float):
  """L_D = D(x) + [m - D(G(z))]^+ (Eq. 1), averaged over the batch."""
  return jnp.mean(real_energy) + jnp.mean(jax.nn.relu(margin - fake_energy))


def pull_away_term(embeddings):
  """f_PT(S) = 1/(N(N-1)) sum_i sum_{j != i} (S_i^T S_j / (||S_i|| ||S_j||))^2 (Eq. 8): the mean
  squared cosine similarity over ordered pairs of distinct rows. 0 for orthogonal embeddings, 1 for
  identical (or parallel) ones."""
  s = embeddings.reshape((embeddings.shape[0], -1))
  s = s / jnp.sqrt(jnp.sum(s**2, axis=-1, keepdims=True) + 1e-12)
  n = s.shape[0]
  cos2 = (s @ s.T)**2
  return (jnp.sum(cos2) - jnp.sum(jnp.diagonal(cos2))) / (n * (n - 1))


# ---------------------------------------------------------------- penalties on the discriminator
# Each takes `f`, a function from a batch of samples to one output per sample, and returns a scalar.
# They differentiate f with respect to its input per sample, so f must not mix samples (no batch norm).

def _input_grad_norms(f, x):
  grads = jax.grad(lambda v: jnp.sum(f(v)))(x)
  return jnp.sqrt(jnp.sum(grads.reshape((x.shape[0], -1))**2, axis=-1) + 1e-12)


def gradient_penalty(f, real, fake, key):
  """WGAN-GP (Gulrajani et al. 2017, Eq. 3): E[(||grad f(x_hat)||_2 - 1)^2] at random interpolates
  x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample."""
  eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1))
  return jnp.mean((_input_grad_norms(f, eps * real + (1 - eps) * fake) - 1.0)**2)


def r1_penalty(f, real):
  """R1 (Mescheder et al. 2018, Eq. 9): 1/2 E[||grad f(x)||^2] on real data."""
  return 0.5 * jnp.mean(_input_grad_norms(f, real)**2)


def dragan_penalty(f, real, key):
  """DRAGAN (Kodali et al. 2017): E[(||grad f(x + delta)||_2 - 1)^2], delta = 0.5 std(x) U[0, 1]."""
  delta = 0.5 * jnp.std(real) * jax.random.uniform(key, real.shape)
  return jnp.mean((_input_grad_norms(f, real + delta) - 1.0)**2)


PENALTIES = ("none", "gradient", "r1", "dragan")


def d_penalty(name: str, f, real, fake, key):
  """The penalty `name` (one of PENALTIES but "none") of the discriminator `f`."""
  if name == "gradient":
    return gradient_penalty(f, real, fake, key)
  if name == "r1":
    return r1_penalty(f, real)
  if name == "dragan":
    return dragan_penalty(f, real, key)
  raise ValueError(f"unknown penalty {name!r}; valid: {', '.join(PENALTIES)}")


def gan_loss(name: str):
  return choose("loss", name, GAN_LOSSES)


# ---------------------------------------------------------------- likelihoods and KL (Kingma & Welling 2013)

def gaussian_kl(mean, logvar):
  """KL(N(mean, exp(logvar)) || N(0, I)) summed over the last axis: Appendix B of the VAE paper."""
  return 0.5 * jnp.sum(jnp.exp(logvar) + mean**2 - 1.0 - logvar, axis=-1)


def bernoulli_log_likelihood(logits, x):
  """log p(x | logits) for x in {0, 1} (or [0, 1]), summed over all but the batch axis."""
  ll = -optax.sigmoid_binary_cross_entropy(logits, x)
  return jnp.sum(ll.reshape((ll.shape[0], -1)), axis=-1)


def gaussian_log_likelihood(mean, log_sigma, x):
  """log N(x; mean, exp(log_sigma)^2) summed over all but the batch axis (nats, a density)."""
  ll = -0.5 * ((x - mean) / jnp.exp(log_sigma))**2 - log_sigma - 0.5 * math.log(2 * math.pi)
  return jnp.sum(ll.reshape((ll.shape[0], -1)), axis=-1)


def standard_normal_log_density(z):
  return jnp.sum(-0.5 * z**2 - 0.5 * math.log(2 * math.pi), axis=-1)
