"""Log-likelihood of decoder-based models by annealed importance sampling (Wu, Burda, Salakhutdinov
& Grosse 2017, "On the Quantitative Analysis of Decoder-Based Generative Models", Sec. 3-4).

For p(x) = integral of p(z) p(x | z) dz, AIS moves `num_chains` chains per image from the prior
p(z) to the posterior through the geometric path p_t(z) proportional to p(z) p(x | z)^beta_t with
beta on a sigmoid schedule from 0 to 1 over `num_steps` steps (Wu et al., App. A), accumulating
log w += (beta_t - beta_{t-1}) log p(x | z) and moving each chain by one Hamiltonian Monte Carlo step
(`leapfrog` leapfrog steps) that leaves p_t invariant; the step size adapts per image towards a
0.65 acceptance rate, as in the paper. log p(x) is estimated by log mean_chains exp(log w): a
stochastic lower bound in expectation. Observation models: a model's own decoder likelihood, passed
in as `log_likelihood`, or for GAN generators a Gaussian p(x | z) = N(x; G(z), sigma^2 I)
(`gaussian_observation`; Wu et al. Sec. 4).

A trained workdir is scored by `ganjax.tools.likelihood` (`python -m ganjax.tools.likelihood --config=CONFIG
--workdir=DIR`), which builds its run.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


def sigmoid_schedule(num_steps: int, rad: float = 4.0):
  """beta_0 = 0 < ... < beta_T = 1, dense near both ends (Wu et al. App. A)."""
  t = np.linspace(-rad, rad, num_steps + 1)
  s = 1.0 / (1.0 + np.exp(-t))
  return jnp.asarray((s - s[0]) / (s[-1] - s[0]), jnp.float32)


def ais(log_likelihood, x, key, latent_dim: int, num_steps: int = 1000, num_chains: int = 16,
        leapfrog: int = 10, step_size: float = 0.05):
  """Per-image AIS estimates of log p(x) (nats). `log_likelihood(z, x)`: log p(x | z) for z of shape
  (chains, B, latent_dim) and images x (B, ...), returning (chains, B)."""
  b = x.shape[0]
  betas = sigmoid_schedule(num_steps)

  def log_prior(z):
    return jnp.sum(-0.5 * z**2 - 0.5 * math.log(2 * math.pi), axis=-1)

  def energy(z, beta):  # -log p_t(z), up to its normaliser; (chains, B)
    return -(log_prior(z) + beta * log_likelihood(z, x))

  grad_energy = jax.grad(lambda z, beta: jnp.sum(energy(z, beta)))

  def hmc(z, eps, beta, k):
    p0 = jax.random.normal(jax.random.fold_in(k, 0), z.shape)
    e = eps[None, :, None]
    p = p0 - 0.5 * e * grad_energy(z, beta)
    zn = z
    for i in range(leapfrog):
      zn = zn + e * p
      g = grad_energy(zn, beta)
      p = p - (e if i < leapfrog - 1 else 0.5 * e) * g
    h0 = energy(z, beta) + 0.5 * jnp.sum(p0**2, -1)
    h1 = energy(zn, beta) + 0.5 * jnp.sum(p**2, -1)
    accept_prob = jnp.exp(jnp.minimum(0.0, h0 - h1))
    accept = jax.random.uniform(jax.random.fold_in(k, 1), accept_prob.shape) < accept_prob
    accept = accept & jnp.isfinite(h1)
    z = jnp.where(accept[..., None], zn, z)
    rate = jnp.mean(accept_prob, axis=0)  # per image
    eps = eps * jnp.where(rate > 0.65, 1.02, 0.98)  # adapt towards 65% acceptance
    return z, eps

  def body(carry, t):
    z, log_w, eps = carry
    k = jax.random.fold_in(key, t)
    log_w = log_w + (betas[t] - betas[t - 1]) * log_likelihood(z, x)
    z, eps = hmc(z, eps, betas[t], k)
    return (z, log_w, eps), None

  init_key, key = jax.random.split(key)
  z0 = jax.random.normal(init_key, (num_chains, b, latent_dim))  # exact samples of p_0 = p(z)
  init = (z0, jnp.zeros((num_chains, b)), jnp.full((b,), step_size))
  (_, log_w, _), _ = jax.lax.scan(body, init, jnp.arange(1, num_steps + 1))
  return jax.nn.logsumexp(log_w, axis=0) - math.log(num_chains)


def gaussian_observation(decode, sigma: float):
  """log N(x; decode(z), sigma^2 I) summed over pixels, for a generator `decode(z) -> images`."""

  def log_likelihood(z, x):
    c, b = z.shape[:2]
    mean = decode(z.reshape((c * b, -1))).reshape((c, b, -1))
    d = mean.shape[-1]
    diff = mean - x.reshape((1, b, -1))
    return -0.5 * jnp.sum(diff**2, -1) / sigma**2 - d * (math.log(sigma) + 0.5 * math.log(2 * math.pi))

  return log_likelihood
