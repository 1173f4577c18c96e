import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import losses
from ganjax.errors import ConfigError


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def test_gan_losses_match_goodfellow_eq1():
  real, fake = jnp.array([0.3, -1.2, 2.0]), jnp.array([-0.5, 0.7, 1.5])
  d = losses.d_loss_bce(real, fake)
  expected = -np.mean(np.log(sigmoid(real))) - np.mean(np.log(1 - sigmoid(fake)))
  np.testing.assert_allclose(d, expected, rtol=1e-5)
  np.testing.assert_allclose(losses.g_loss_minimax(fake), np.mean(np.log(1 - sigmoid(fake))), rtol=1e-5)
  np.testing.assert_allclose(losses.g_loss_non_saturating(fake), -np.mean(np.log(sigmoid(fake))), rtol=1e-5)


def test_non_saturating_keeps_gradient_where_minimax_saturates():
  # D confidently rejects the fakes (D(G(z)) ~ 0): Sec. 3 of Goodfellow et al.
  fake = jnp.array([-8.0])
  g_mm = jax.grad(losses.g_loss_minimax)(fake)
  g_ns = jax.grad(losses.g_loss_non_saturating)(fake)
  assert abs(float(g_mm[0])) < 1e-3 < abs(float(g_ns[0]))


def test_label_smoothing_changes_only_the_real_term():
  real, fake = jnp.array([1.0, 2.0]), jnp.array([0.5, -0.5])
  fake_term = float(jnp.mean(jax.nn.softplus(fake)))
  smooth = losses.d_loss_bce(real, fake, real_target=0.9)
  plain = losses.d_loss_bce(real, fake)
  assert smooth != plain
  grad_fake_plain = jax.grad(lambda f: losses.d_loss_bce(real, f))(fake)
  grad_fake_smooth = jax.grad(lambda f: losses.d_loss_bce(real, f, 0.9))(fake)
  np.testing.assert_allclose(grad_fake_plain, grad_fake_smooth)
  assert float(losses.d_loss_bce(jnp.array([50.0]), fake)) == pytest.approx(fake_term, abs=1e-6)


def test_unknown_loss_lists_the_valid_ones():
  with pytest.raises(ConfigError, match="minimax.*non_saturating"):
    losses.gan_loss("nope")


def test_gaussian_kl_matches_monte_carlo():
  mean, logvar = jnp.array([[0.5, -1.0, 0.2]]), jnp.array([[0.3, -0.7, 0.0]])
  z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(jax.random.key(0), (200_000, 3))
  log_q = jnp.sum(-0.5 * ((z - mean) ** 2) / jnp.exp(logvar) - 0.5 * logvar - 0.5 * np.log(2 * np.pi), -1)
  mc = jnp.mean(log_q - losses.standard_normal_log_density(z))
  np.testing.assert_allclose(losses.gaussian_kl(mean, logvar)[0], mc, atol=0.02)
  np.testing.assert_allclose(losses.gaussian_kl(jnp.zeros((1, 4)), jnp.zeros((1, 4))), [0.0], atol=1e-7)


def test_likelihoods():
  x = jnp.array([[1.0, 0.0, 1.0]])
  logits = jnp.array([[2.0, -1.0, 0.0]])
  p = sigmoid(np.asarray(logits))
  np.testing.assert_allclose(losses.bernoulli_log_likelihood(logits, x),
                             [np.log(p[0, 0]) + np.log(1 - p[0, 1]) + np.log(p[0, 2])], rtol=1e-5)
  ll = losses.gaussian_log_likelihood(jnp.zeros((1, 2)), jnp.log(2.0), jnp.array([[1.0, -2.0]]))
  expected = sum(-0.5 * (v / 2) ** 2 - np.log(2) - 0.5 * np.log(2 * np.pi) for v in (1.0, -2.0))
  np.testing.assert_allclose(ll, [expected], rtol=1e-5)
