"""Autoencoder and denoising autoencoder: the noise models have their stated statistics, and the
DAE reconstructs the clean input from the corrupted one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import sampling
from ganjax.algorithms import ae
from ganjax.data import sources


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
  with pytest.raises(Exception, match="unknown ae.noise 'blur'"):
    ae.corrupt(x, "blur", 0.1, key)


def test_dae_step_reconstructs_the_clean_input_from_the_corrupted_one(config_of):
  c = config_of("dae.py")
  batch = {"image": jnp.asarray(sources.digits().get(np.arange(c.batch_size))["image"])}
  state = ae.init(c, jax.random.key(0), batch)
  key = jax.random.key(1)
  _, m = jax.jit(ae.train_step)(state, batch, key)
  noisy = ae.corrupt((batch["image"] + 1) / 2, c.ae.noise, c.ae.noise_level, key) * 2 - 1
  out = state.ae.apply(state.ae.params, noisy)[0][0]
  np.testing.assert_allclose(m["ae/loss"], jnp.mean(ae.reconstruction_loss(c, out, batch["image"])), rtol=1e-5)
  clean_in = state.ae.apply(state.ae.params, batch["image"])[0][0]  # not the loss of reconstructing x from x
  assert float(jnp.mean(ae.reconstruction_loss(c, clean_in, batch["image"]))) != pytest.approx(float(m["ae/loss"]), rel=1e-4)
  x = ae.generate(state, jax.random.key(2), 5)
  assert x.shape == (5, 8, 8, 1) and float(jnp.abs(x).max()) <= 1.0


def test_dae_sample_mode_shows_corrupted_reconstructed_and_clean_rows(tmp_path, config_of):
  from PIL import Image

  from ganjax import train

  c = config_of("dae.py", steps=1)
  train.train(c, tmp_path)
  paths = sampling.sample(c, tmp_path)
  assert Image.open(paths["reconstructions"]).size == (4 * (10 * 9 + 1), 4 * (3 * 9 + 1))
