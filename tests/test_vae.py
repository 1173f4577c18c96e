"""VAE: ELBO with the reparameterisation trick and the analytic KL (Kingma & Welling 2013)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import losses
from ganjax.algorithms import vae
from ganjax.data import builtin


def setup(config_of, arg=None):
  c = config_of("vae.py", arg)
  c.batch_size = 64
  batch = {"image": jnp.asarray(builtin.digits().get(np.arange(c.batch_size))["image"])}
  return c, vae.init(c, jax.random.key(0), batch), batch


def test_elbo_is_reconstruction_minus_analytic_kl(config_of):
  c, state, batch = setup(config_of)
  key = jax.random.key(3)
  _, m = jax.jit(vae.train_step)(state, batch, key)
  x = vae.targets(c, batch["image"], jax.random.fold_in(key, 0))
  mean, logvar = jax.jit(lambda x: state.vae(x * 2 - 1, method=vae.VAE.encode))(x)
  np.testing.assert_allclose(m["vae/kl"], jnp.mean(losses.gaussian_kl(mean, logvar)), rtol=1e-5)
  np.testing.assert_allclose(m["vae/elbo"], m["vae/reconstruction"] - m["vae/kl"], rtol=1e-6)
  np.testing.assert_allclose(m["vae/loss"], -m["vae/elbo"], rtol=1e-6)


@pytest.mark.parametrize("arg", [None, "gaussian"])
def test_reconstruction_term_is_the_decoders_log_likelihood_at_the_reparameterised_code(config_of, arg):
  """The first term of Eq. 10, log p(x | z) with z = mu + sigma * eps (Sec. 2.4, the step's own eps),
  written out from the decoder's output a: Bernoulli, sum_pixels x log sigmoid(a) + (1 - x) log(1 - sigmoid(a));
  Gaussian with the learned global sigma, sum_pixels -(x - sigmoid(a))^2 / (2 sigma^2) - log sigma - log(2 pi) / 2."""
  c, state, batch = setup(config_of, arg)
  if arg == "gaussian":  # a sigma other than 1, so that every term of the density counts
    state = state.with_players(vae=state.vae.replace(params={**state.vae.params, "log_sigma": jnp.asarray(0.4)}))
  key = jax.random.key(3)
  _, m = jax.jit(vae.train_step)(state, batch, key)
  x = vae.targets(c, batch["image"], jax.random.fold_in(key, 0))

  @jax.jit
  def decoder_output(x):
    mean, logvar = state.vae(x * 2 - 1, method=vae.VAE.encode)
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(jax.random.fold_in(key, 1), mean.shape)
    return state.vae(z, method=vae.VAE.decode)[0]

  a = np.asarray(decoder_output(x), np.float64).reshape((c.batch_size, -1))
  t = np.asarray(x, np.float64).reshape((c.batch_size, -1))
  p = 1.0 / (1.0 + np.exp(-a))
  if arg is None:
    log_lik = np.sum(t * np.log(p) + (1.0 - t) * np.log1p(-p), axis=-1)
  else:
    sigma = float(np.exp(state.vae.params["log_sigma"]))
    log_lik = np.sum(-(t - p)**2 / (2.0 * sigma**2) - np.log(sigma) - 0.5 * np.log(2.0 * np.pi), axis=-1)
  np.testing.assert_allclose(m["vae/reconstruction"], np.mean(log_lik), rtol=1e-5)


def test_reparameterisation_sends_gradient_to_the_encoder(config_of):
  c, state, batch = setup(config_of)
  x = vae.targets(c, batch["image"], jax.random.key(0))

  def reconstruction_only(params):
    rec, _, _ = vae.elbo_terms(state.vae, params, {}, x, jax.random.key(1), train=True)
    return -jnp.mean(rec)

  grads = jax.jit(jax.grad(reconstruction_only))(state.vae.params)
  enc = jax.tree.leaves(grads["encoder"])
  assert all(np.isfinite(g).all() for g in enc) and max(float(jnp.abs(g).max()) for g in enc) > 0


def test_dynamic_binarisation_has_the_pixel_means(config_of):
  c, _, batch = setup(config_of)
  x = jnp.full((2000, 4), 0.25) * 2 - 1
  b = vae.targets(c, x, jax.random.key(0))
  assert set(np.unique(np.asarray(b))) == {0.0, 1.0}
  assert abs(float(b.mean()) - 0.25) < 0.02
  c.vae.binarize = False
  np.testing.assert_allclose(vae.targets(c, x, None), 0.25)


def test_training_raises_the_elbo(config_of):
  for arg in (None, "gaussian"):
    c, state, batch = setup(config_of, arg)
    step = jax.jit(vae.train_step)
    first = None
    for i in range(60):
      state, m = step(state, batch, jax.random.key(i))
      first = float(m["vae/elbo"]) if first is None else first
    assert float(m["vae/elbo"]) > first + 5
    if arg == "gaussian":
      assert float(state.vae.params["log_sigma"]) < 0  # the learned noise scale moved


def test_generate_encode_reconstruct_shapes(config_of):
  c, state, batch = setup(config_of)
  assert vae.generate(state, jax.random.key(0), 3).shape == (3, 8, 8, 1)
  assert vae.encode(state, batch["image"][:3]).shape == (3, c.model.latent_dim)
  r = vae.reconstruct(state, batch["image"][:3])
  assert r.shape == (3, 8, 8, 1) and float(jnp.abs(r).max()) <= 1


def test_bfloat16_compute(config_of):
  c, _, batch = setup(config_of)
  c.dtype = "bfloat16"
  state = vae.init(c, jax.random.key(0), batch)
  new, m = jax.jit(vae.train_step)(state, batch, jax.random.key(1))
  assert np.isfinite(float(m["vae/elbo"])) and m["vae/elbo"].dtype == jnp.float32
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(new.vae.params))


def test_practical_vae_has_unit_posterior_variance_and_half_squared_mean_kl(config_of):
  c, state, batch = setup(config_of, "practical")
  key = jax.random.key(3)
  _, m = jax.jit(vae.train_step)(state, batch, key)
  x = vae.targets(c, batch["image"], jax.random.fold_in(key, 0))
  mean, logvar = jax.jit(lambda x: state.vae(x * 2 - 1, method=vae.VAE.encode))(x)
  np.testing.assert_array_equal(logvar, 0.0)
  np.testing.assert_allclose(m["vae/kl"], jnp.mean(0.5 * jnp.sum(mean**2, -1)), rtol=1e-5)


def test_iwae_bound_is_tighter_than_the_elbo_and_is_it_at_k_1(config_of):
  c, state, batch = setup(config_of)
  for _ in range(20):  # a partly trained model, so that the bounds are not trivially equal
    state, _ = jax.jit(vae.train_step)(state, batch, jax.random.key(_))
  x = vae.targets(c, batch["image"], jax.random.key(0))
  elbos = []
  for i in range(50):
    rec, kl, _ = vae.elbo_terms(state.vae, state.vae.params, state.vae.model_state, x, jax.random.key(100 + i), False)
    elbos.append(rec - kl)
  elbo = float(jnp.mean(jnp.stack(elbos)))
  iwae = jax.jit(vae.iwae_bound, static_argnums=(3, 4))
  l1 = float(jnp.mean(jnp.stack([iwae(state, x, jax.random.key(200 + i), 1, 1) for i in range(50)])))
  l50 = float(jnp.mean(iwae(state, x, jax.random.key(1), 50, 10)))
  assert abs(l1 - elbo) < 0.02 * abs(elbo)  # L_1 is the ELBO (same estimator, other noise)
  assert l50 > elbo + 0.1  # and L_k grows with k (Burda et al., Theorem 1)
