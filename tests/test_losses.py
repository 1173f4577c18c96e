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
  r = np.asarray(real, np.float64)  # Salimans et al. Sec. 3.4: the real target 0.9, cross-entropy against it
  real_term = -np.mean(0.9 * np.log(sigmoid(r)) + 0.1 * np.log(1 - sigmoid(r)))
  np.testing.assert_allclose(smooth, real_term + fake_term, rtol=1e-6)
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


def test_least_squares_hinge_wasserstein_match_their_papers():
  real, fake = jnp.array([0.3, -1.2, 2.0]), jnp.array([-0.5, 0.7, 1.5])
  r, f = np.asarray(real), np.asarray(fake)
  np.testing.assert_allclose(losses.d_loss_least_squares(real, fake), 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2), rtol=1e-6)
  np.testing.assert_allclose(losses.g_loss_least_squares(fake), 0.5 * np.mean((f - 1) ** 2), rtol=1e-6)
  np.testing.assert_allclose(losses.d_loss_hinge(real, fake), np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)), rtol=1e-6)
  np.testing.assert_allclose(losses.d_loss_wasserstein(real, fake), f.mean() - r.mean(), rtol=1e-6)
  np.testing.assert_allclose(losses.g_loss_critic(fake), -f.mean(), rtol=1e-6)


def linear_critic(w):
  return lambda x: x.reshape((x.shape[0], -1)) @ w


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
  key = jax.random.key(0)
  real, fake = jax.random.normal(key, (16, 4, 4, 1)), jax.random.normal(jax.random.key(1), (16, 4, 4, 1))
  w = jax.random.normal(key, (16,))
  unit = w / jnp.linalg.norm(w)
  assert float(losses.gradient_penalty(linear_critic(unit), real, fake, key)) == pytest.approx(0.0, abs=1e-6)
  np.testing.assert_allclose(losses.gradient_penalty(linear_critic(3 * unit), real, fake, key), 4.0, rtol=1e-5)
  np.testing.assert_allclose(losses.dragan_penalty(linear_critic(3 * unit), real, key), 4.0, rtol=1e-5)
  np.testing.assert_allclose(losses.r1_penalty(linear_critic(3 * unit), real), 0.5 * 9.0, rtol=1e-5)


def test_gradient_penalty_is_taken_at_interpolates():
  # f(x) = sum(x^2)/2 has gradient x: the penalty sees ||eps x + (1 - eps) y||, never x or y alone.
  f = lambda x: 0.5 * jnp.sum(x.reshape((x.shape[0], -1)) ** 2, -1)  # noqa: E731
  real, fake = jnp.full((4096, 1), 3.0), jnp.full((4096, 1), 1.0)
  # x_hat = 1 + 2 eps, eps ~ U[0,1]: E[(x_hat - 1)^2] = E[4 eps^2] = 4/3.
  np.testing.assert_allclose(losses.gradient_penalty(f, real, fake, jax.random.key(0)), 4 / 3, rtol=0.05)


def test_d_fake_term_is_the_papers_generated_sample_term():
  """Each D loss splits into a real part and a generated part (CartoonGAN's edge-smoothed cartoons
  pay the generated part): -E log(1 - D) (Goodfellow), 1/2 E D^2 (Mao, a = 0), E max(0, 1 + D)
  (hinge), E D (the critic's fake side)."""
  real, fake = jnp.array([0.4, -1.1, 1.7]), jnp.array([-0.6, 0.9, 2.2])
  f = np.asarray(fake, np.float64)
  expected = {"non_saturating": -np.mean(np.log(1 - sigmoid(f))), "least_squares": 0.5 * np.mean(f**2),
              "hinge": np.mean(np.maximum(0, 1 + f)), "wasserstein": np.mean(f)}
  for name, value in expected.items():
    np.testing.assert_allclose(losses.d_fake_term(name, fake), value, rtol=1e-5)
    whole = losses.gan_loss(name)[0](real, fake)
    np.testing.assert_allclose(whole, losses.d_real_term(name, real) + losses.d_fake_term(name, fake), rtol=1e-6)
