"""Autoencoder and denoising autoencoder: the noise models have their stated statistics, and the
DAE reconstructs the clean input from the corrupted one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import sampling
from ganjax.algorithms import ae
from ganjax.data import builtin
from ganjax.errors import ConfigError


def test_noise_models_have_the_stated_statistics():
  x = jnp.full((200, 28, 28, 1), 0.6)
  key = jax.random.key(0)
  np.testing.assert_array_equal(ae.corrupt(x, "none", 0.5, key), x)
  g = ae.corrupt(x, "gaussian", 0.3, key) - x
  assert abs(float(g.mean())) < 0.01 and abs(float(g.std()) - 0.3) < 0.01
  m = ae.corrupt(x, "masking", 0.25, key)
  assert abs(float(jnp.mean(m == 0.0)) - 0.25) < 0.01 and set(np.unique(m)) == {0.0, np.float32(0.6)}
  sp = ae.corrupt(x, "salt_pepper", 0.2, key)
  assert abs(float(jnp.mean(sp != x)) - 0.2) < 0.01
  assert abs(float(jnp.mean(sp == 1.0)) - 0.1) < 0.01 and abs(float(jnp.mean(sp == 0.0)) - 0.1) < 0.01
  u = ae.corrupt(x, "uniform_mix", 0.0, key)  # 0.5 * 0.6 + 0.5 * U(0, 1): uniform on [0.3, 0.8]
  assert float(u.min()) >= 0.3 and float(u.max()) <= 0.8 and abs(float(u.mean()) - 0.55) < 0.01
  with pytest.raises(ConfigError, match="unknown ae.noise 'blur'; valid: gaussian, masking, none, salt_pepper, "
                                         "uniform_mix"):
    ae.corrupt(x, "blur", 0.1, key)


@pytest.mark.parametrize("loss,noise", [("bce", "masking"), ("mse", "gaussian")])
def test_dae_step_reconstructs_the_clean_input_from_the_corrupted_one(config_of, loss, noise):
  """Vincent et al. 2008: the network reads x~ ~ C(x~ | x) and its reconstruction is scored against the
  clean x. The corruption is drawn here from the step's key (masking: each [0, 1] pixel set to 0 with
  probability p; gaussian: x + sigma N(0, 1)) and the loss written out: the Bernoulli cross-entropy of the
  output logits a against the clean [0, 1] pixels, -sum [x log sigmoid(a) + (1 - x) log(1 - sigmoid(a))],
  or the squared error against the clean [-1, 1] image, mean over pixels; averaged over the batch."""
  c = config_of("dae.py", noise)
  c.ae.loss = loss
  batch = {"image": jnp.asarray(builtin.digits().get(np.arange(c.batch_size))["image"])}
  state = ae.init(c, jax.random.key(0), batch)
  key = jax.random.key(1)
  _, m = jax.jit(ae.train_step)(state, batch, key)
  x = np.asarray(batch["image"], np.float64)
  clean = (x + 1) / 2
  level = c.ae.noise_level
  if noise == "masking":
    hit = np.asarray(jax.random.bernoulli(key, level, x.shape))
    corrupted = np.where(hit, 0.0, clean)
    assert np.any(hit & (clean > 0))  # the corruption changed pixels of the clean target
  else:
    corrupted = clean + level * np.asarray(jax.random.normal(key, x.shape), np.float64)
  network = jax.jit(lambda v: state.ae.apply(state.ae.params, v)[0][0])
  out = np.asarray(network(jnp.asarray(corrupted * 2 - 1, jnp.float32)), np.float64).reshape((len(x), -1))
  if loss == "bce":
    t = clean.reshape((len(x), -1))
    per_example = -np.sum(t * -np.logaddexp(0, -out) + (1 - t) * -np.logaddexp(0, out), axis=-1)
  else:
    per_example = np.mean((out - x.reshape((len(x), -1)))**2, axis=-1)
  np.testing.assert_allclose(m["ae/loss"], np.mean(per_example), rtol=1e-5)
  samples = ae.generate(state, jax.random.key(2), 5)
  assert samples.shape == (5, 8, 8, 1) and float(jnp.abs(samples).max()) <= 1.0


@pytest.mark.config("dae.py")
def test_dae_sample_mode_shows_corrupted_reconstructed_and_clean_rows(tmp_path, config_of):
  from PIL import Image

  from ganjax import train

  c = config_of("dae.py")  # the all-configs test's tiny run: its compiled programs
  train.train(c, tmp_path)
  paths = sampling.sample(c, tmp_path)
  assert Image.open(paths["reconstructions"]).size == (4 * (10 * 9 + 1), 4 * (3 * 9 + 1))
