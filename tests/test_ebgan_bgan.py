"""EBGAN (Zhao et al. 2016) and BGAN (Hjelm et al. 2018): each objective by its defining equations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import losses
from ganjax.algorithms import bgan, ebgan, gan
from ganjax.algorithms.common import sample_latent
from ganjax.data import builtin
from ganjax.errors import ConfigError


def _batch(n, size=8):
  x = builtin.digits().get(np.arange(n))["image"]
  return {"image": jnp.asarray(jax.image.resize(x, (n, size, size, 1), "bilinear"))}


# ---------------------------------------------------------------- EBGAN

def test_pull_away_term_is_the_mean_squared_cosine_over_distinct_pairs():
  np.testing.assert_allclose(losses.pull_away_term(jnp.eye(5)), 0.0, atol=1e-7)  # orthogonal
  same = jnp.tile(jnp.array([[0.3, -1.0, 2.0]]), (4, 1))
  np.testing.assert_allclose(losses.pull_away_term(same), 1.0, rtol=1e-6)  # identical
  np.testing.assert_allclose(losses.pull_away_term(same * jnp.arange(1.0, 5.0)[:, None]), 1.0, rtol=1e-6)  # parallel
  s = np.random.default_rng(0).normal(size=(6, 4))
  brute = np.mean([(s[i] @ s[j] / np.linalg.norm(s[i]) / np.linalg.norm(s[j]))**2
                   for i in range(6) for j in range(6) if i != j])
  np.testing.assert_allclose(losses.pull_away_term(jnp.asarray(s)), brute, rtol=1e-5)


def test_ebgan_losses_are_the_margin_objective_with_the_pull_away_term(config_of):
  c = config_of("ebgan.py")
  batch = _batch(c.batch_size)
  state = ebgan.init(c, jax.random.key(0), batch)
  key = jax.random.key(1)
  new, m = jax.jit(ebgan.train_step)(state, batch, key)
  # D: mean energy of the reals + mean [m - energy]^+ of the step's samples, with the old D.
  # (batch norm in training mode, as in the step: statistics of each batch)
  g_apply, d_apply, new_d_apply = jax.jit(state.g.apply), jax.jit(state.d.apply), jax.jit(new.d.apply)  # one program each
  fake = g_apply(state.g.params, sample_latent(jax.random.fold_in(key, 0), c.batch_size, c.model))[0]
  (rec_r, _), ms = d_apply(state.d.params, batch["image"])
  (rec_f, _), _ = d_apply(state.d.params, fake, model_state=ms)
  real_e = losses.reconstruction_energy(rec_r, batch["image"])
  fake_e = losses.reconstruction_energy(rec_f, fake)
  np.testing.assert_allclose(real_e, jnp.mean((rec_r - batch["image"])**2, axis=(1, 2, 3)), rtol=1e-6)
  np.testing.assert_allclose(m["d/loss"], jnp.mean(real_e) + jnp.mean(jax.nn.relu(c.ebgan.margin - fake_e)),
                             rtol=1e-4)
  # G: energy of its samples under the *updated* D + lambda_PT * PT of their codes.
  x = g_apply(state.g.params, sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model))[0]
  (rec, code), _ = new_d_apply(new.d.params, x)
  pt = losses.pull_away_term(code)
  np.testing.assert_allclose(m["g/pull_away"], pt, rtol=1e-4)
  np.testing.assert_allclose(m["g/loss"], jnp.mean(losses.reconstruction_energy(rec, x)) + 0.1 * pt, rtol=1e-4)


def test_the_pull_away_term_trains_the_generator(config_of):
  c = config_of("ebgan.py")
  batch = _batch(c.batch_size)
  state = ebgan.init(c, jax.random.key(0), batch)
  z = sample_latent(jax.random.key(2), c.batch_size, c.model)

  def pt_of(params):
    x = state.g.apply(params, z, train=True)[0]
    return losses.pull_away_term(ebgan.energy(state.d, state.d.params, x)[1])

  grads = jax.jit(jax.grad(pt_of))(state.g.params)
  assert max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(grads)) > 0


# ---------------------------------------------------------------- BGAN, continuous

def test_boundary_seeking_generator_loss_targets_d_one_half():
  d = jnp.array([0.1, 0.5, 0.9])
  logits = jnp.log(d) - jnp.log1p(-d)
  np.testing.assert_allclose(losses.g_loss_boundary_seeking(logits),
                             0.5 * jnp.mean((jnp.log(d) - jnp.log(1 - d))**2), rtol=1e-5)
  grad = jax.grad(lambda l: losses.g_loss_boundary_seeking(l))(logits)
  assert grad[0] < 0 and grad[1] == 0 and grad[2] > 0  # pulled towards D = 1/2 from both sides


def test_continuous_bgan_config_runs_the_gan_step_with_the_bgan_loss(config_of):
  c = config_of("bgan.py")
  assert c.algorithm == "gan" and c.gan.loss == "boundary_seeking"
  batch = _batch(c.batch_size)
  state = gan.init(c, jax.random.key(0), batch)
  key = jax.random.key(3)
  new, m = jax.jit(gan.train_step)(state, batch, key)
  z = sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model)
  logits = new.d.apply(new.d.params, state.g.apply(state.g.params, z)[0])[0]  # training-mode batch norm
  np.testing.assert_allclose(m["g/loss"], 0.5 * jnp.mean(logits**2), rtol=1e-3)


# ---------------------------------------------------------------- BGAN, discrete

def test_importance_weights_are_normalised_density_ratios():
  p = jnp.array([[0.2, 0.7], [0.5, 0.5], [0.9, 0.1]])  # (M = 3, B = 2) values of D
  logits = jnp.log(p) - jnp.log1p(-p)
  w = p / (1 - p)
  np.testing.assert_allclose(bgan.importance_weights(logits), w / w.sum(axis=0), rtol=1e-5)


def test_discrete_generator_gradient_is_the_weighted_score_function(config_of):
  c = config_of("bgan.py", "discrete")
  rng = np.random.default_rng(0)
  logits = jnp.asarray(rng.normal(size=(2, 3, 3, 1)), jnp.float32)
  bits = bgan.draw(logits, jax.random.key(0), 4)
  assert set(np.unique(bits)) <= {0.0, 1.0} and bits.shape == (4, 2, 3, 3, 1)
  # log g(x | z): the Bernoulli log-probability summed over pixels.
  p = jax.nn.sigmoid(logits)
  expected = jnp.sum(jnp.log(jnp.where(bits > 0, p, 1 - p)).reshape(4, 2, -1), axis=-1)
  np.testing.assert_allclose(bgan.log_prob(logits, bits), expected, rtol=1e-5)
  # d/dlogits of -mean_b sum_m w~ log g = -mean_b sum_m w~ (x_m - sigmoid(logits)).
  d_logits = jnp.asarray(rng.normal(size=(4, 2)), jnp.float32)
  w = bgan.importance_weights(d_logits)
  grad = jax.grad(bgan.generator_loss)(logits, bits, d_logits)
  manual = -jnp.sum(w[:, :, None, None, None] * (bits - p), axis=0) / 2
  np.testing.assert_allclose(grad, manual, rtol=1e-5, atol=1e-6)
  del c


def test_discrete_bgan_step_sees_binary_data_and_samples(config_of):
  c = config_of("bgan.py", "discrete")
  batch = _batch(c.batch_size, size=8)
  state = bgan.init(c, jax.random.key(0), batch)
  new, m = jax.jit(bgan.train_step)(state, batch, jax.random.key(1))
  assert 1.0 <= float(m["g/weights_ess"]) <= c.bgan.num_samples
  x = bgan.generate(new, jax.random.key(2), 16)
  assert set(np.unique(np.asarray(x))) <= {-1.0, 1.0}
  real = bgan.binarize(batch["image"], jax.random.key(3))
  assert set(np.unique(np.asarray(real))) <= {-1.0, 1.0}
  c.bgan.num_samples = 1
  with pytest.raises(ConfigError, match=r"bgan.num_samples must be >= 2 \(the weights are normalised over them\), "
                                         "got 1"):
    bgan.init(c, jax.random.key(0), batch)
