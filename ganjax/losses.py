"""Losses as small pure functions of logits and distributions parameters; each returns a scalar
(mean over the batch) unless it says otherwise.

Adversarial objectives are pairs (discriminator loss, generator loss) in `GAN_LOSSES`, chosen by
`config.loss`. With D(x) = sigmoid(logit), Goodfellow et al. (2014) Eq. 1 is
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
  real = optax.sigmoid_binary_cross_entropy(real_logits, jnp.full_like(real_logits, real_target))
  return jnp.mean(real) + jnp.mean(jax.nn.softplus(fake_logits))


def g_loss_minimax(fake_logits):
  """E[log(1 - D(G(z)))], the generator's side of Eq. 1 (saturates when D wins)."""
  return -jnp.mean(jax.nn.softplus(fake_logits))


def g_loss_non_saturating(fake_logits):
  """-E[log D(G(z))], the paper's practical generator objective."""
  return jnp.mean(jax.nn.softplus(-fake_logits))


GAN_LOSSES = {
    "non_saturating": (d_loss_bce, g_loss_non_saturating),
    "minimax": (d_loss_bce, g_loss_minimax),
}


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
