"""Annealed importance sampling (Wu et al. 2017): exact on a linear-Gaussian model, and in agreement
with the IWAE bound on a VAE."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.tools import likelihood
from ganjax.algorithms import vae
from ganjax.data import builtin
from ganjax.metrics import ais


def test_ais_recovers_the_exact_log_likelihood_of_a_linear_gaussian_model():
  rng = np.random.default_rng(0)
  w = jnp.asarray(rng.normal(size=(5, 2)), jnp.float32)
  b = jnp.asarray(rng.normal(size=(5,)), jnp.float32)
  sigma = 0.5
  x = jnp.asarray(rng.normal(size=(6, 5)) * 2, jnp.float32)
  ll = ais.gaussian_observation(lambda z: z @ w.T + b, sigma)
  estimate = jax.jit(lambda x, k: ais.ais(ll, x, k, 2, num_steps=1000, num_chains=32))(x, jax.random.key(0))
  cov = np.asarray(w @ w.T) + sigma**2 * np.eye(5)
  diff = np.asarray(x - b)
  exact = -0.5 * np.einsum("bi,ij,bj->b", diff, np.linalg.inv(cov), diff) - 0.5 * np.linalg.slogdet(cov)[1] \
      - 2.5 * math.log(2 * math.pi)
  np.testing.assert_allclose(estimate, exact, atol=0.1)  # nats, for log-likelihoods of -9 to -88


def test_ais_agrees_with_the_iwae_estimate_on_a_vae(config_of):
  c = config_of("vae.py")
  c.batch_size = 64
  batch = {"image": jnp.asarray(builtin.digits().get(np.arange(64))["image"])}
  state = vae.init(c, jax.random.key(0), batch)
  step = jax.jit(vae.train_step)
  for i in range(30):
    state, _ = step(state, batch, jax.random.key(i))
  x = vae.ais_targets(c, batch["image"][:8], jax.random.key(1))
  estimate = jax.jit(lambda s, x, k: ais.ais(lambda z, x: vae.decoder_log_likelihood(s, z, x), x, k,
                                                c.model.latent_dim, num_steps=300, num_chains=16))(state, x, jax.random.key(2))
  iwae = jax.jit(vae.iwae_bound, static_argnums=(3, 4))(state, x, jax.random.key(3), 2000, 500)
  elbo = vae.elbo_terms(state.vae, state.vae.params, state.vae.model_state, x, jax.random.key(4), False)
  # Both estimate log p(x) from below; with enough samples they agree to well under a nat, while
  # the ELBO is looser.
  np.testing.assert_allclose(estimate, iwae, atol=0.5)
  assert float(jnp.mean(estimate)) > float(jnp.mean(elbo[0] - elbo[1]))


@pytest.mark.config("vae.py")
def test_ais_of_a_trained_workdir_writes_ais_json(tmp_path, config_of):
  import json

  from ganjax import train

  for name in ("gan.py", "vae.py"):
    c = config_of(name)
    train.train(c, tmp_path / name)
    result = likelihood.evaluate_workdir(c, tmp_path / name, num_images=4, steps=5, chains=2, batch=2)
    assert result["num_images"] == 4 and np.isfinite(result["log_likelihood"])
    assert result["observation_model"] == ("model" if name == "vae.py" else "gaussian(sigma=0.1)")
    assert json.load(open(tmp_path / name / "ais.json"))["per_image"] == result["per_image"]
  # a VAE under the GANs' Gaussian model (its decoder mean), and its IWAE bound on the same images
  c = config_of("vae.py")
  gauss = likelihood.evaluate_workdir(c, tmp_path / "vae.py", num_images=2, steps=5, chains=2, batch=2,
                                      observation="gaussian", sigma=0.2)
  assert gauss["observation_model"] == "gaussian(sigma=0.2)"
  assert json.load(open(tmp_path / "vae.py" / "ais_gaussian.json"))["per_image"] == gauss["per_image"]
  assert json.load(open(tmp_path / "vae.py" / "ais.json"))["observation_model"] == "model"  # kept
  both = likelihood.evaluate_workdir(c, tmp_path / "vae.py", num_images=2, steps=5, chains=2, batch=2,
                                     iwae_samples=10)
  assert np.isfinite(both["iwae_log_likelihood"])
  np.testing.assert_allclose(both["ais_minus_iwae"], both["log_likelihood"] - both["iwae_log_likelihood"], atol=1e-3)
  with pytest.raises(ValueError, match="iwae_samples"):
    likelihood.evaluate_workdir(config_of("gan.py"), tmp_path / "gan.py", num_images=2, steps=5, chains=2,
                                iwae_samples=10)


NO_PRIOR = "'ae' does not declare density_decoder=True.*its codes have no N\\(0, I\\) prior"  # the (denoising) autoencoder


@pytest.mark.parametrize("name,arg,message", [("cgan.py", None, "does not declare density_decoder=True"),
                                              ("infogan.py", None, "does not declare density_decoder=True"),
                                              ("bgan.py", "discrete", "does not declare density_decoder=True"),
                                              ("ae.py", None, NO_PRIOR), ("dae.py", None, NO_PRIOR),
                                              ("vae.py", None, "latent_dist='uniform'")])
def test_ais_refuses_generators_whose_samples_define_no_density(tmp_path, config_of, name, arg, message):
  from ganjax.errors import ConfigError

  c = config_of(name, arg)
  if name == "vae.py":
    c.model.latent_dist = "uniform"
  with pytest.raises(ConfigError, match=message):  # before anything is built or restored
    likelihood.evaluate_workdir(c, tmp_path, num_images=2, steps=5, chains=2)
  assert not (tmp_path / "checkpoints").exists()
