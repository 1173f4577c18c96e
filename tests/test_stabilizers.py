"""The stateful stabilizers of `ganjax.stabilizers` and the normalisation layers, each by the
property that makes the trick that trick: replay memory, unrolled GAN, discriminator ensembles,
virtual batch norm."""

import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import losses, stabilizers
from ganjax.algorithms import gan
from ganjax.algorithms.common import sample_latent
from ganjax.data import sources
from ganjax.errors import ConfigError
from ganjax.networks import dcgan
from ganjax.networks.layers import VirtualBatchNorm


def setup(config_of, name="gan.py", **overrides):
  c = config_of(name)
  for k, v in overrides.items():
    c[k] = v
  images = sources.digits().get(np.arange(c.batch_size * c.d_steps))["image"]
  if c.data.image_size:
    images = jax.image.resize(images, (len(images), 8, 8, 1), "bilinear")
  batch = {"image": jnp.asarray(images)}
  return c, gan.init(c, jax.random.key(0), batch), batch


# ---------------------------------------------------------------- replay memory

def test_replay_mix_serves_old_samples_at_the_configured_rate_and_stores_fresh_ones():
  buffer = 1000.0 + jnp.arange(100.0)[:, None]
  fresh = jnp.arange(40.0)[:, None]
  mixed, new = stabilizers.replay_mix(buffer, fresh, 0.25, jax.random.key(0))
  k = 10
  assert mixed.shape == fresh.shape
  assert np.all(np.isin(mixed[:k], buffer))  # k rows are old samples ...
  np.testing.assert_array_equal(mixed[k:], fresh[k:])  # ... the rest are this step's
  changed = np.flatnonzero(np.asarray(new[:, 0] != buffer[:, 0]))
  assert len(changed) == k  # k entries replaced, at distinct slots ...
  np.testing.assert_array_equal(np.sort(new[changed, 0]), np.arange(k))  # ... by the fresh rows served fresh
  same, untouched = stabilizers.replay_mix(buffer, fresh, 0.0, jax.random.key(0))
  np.testing.assert_array_equal(same, fresh)
  np.testing.assert_array_equal(untouched, buffer)


def test_replay_buffer_lives_in_the_state_and_feeds_d(config_of):
  c, state, batch = setup(config_of, replay_size=32, replay_fraction=0.5)
  buf = state.extra["replay"]
  assert buf.shape == (32, *batch["image"].shape[1:])
  initial = state.g(sample_latent(jax.random.split(jax.random.key(0), 3)[2], 32, c.model))
  np.testing.assert_allclose(buf, initial, rtol=1e-5, atol=1e-6)  # it starts full of G_0's samples
  new, m = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  changed = np.any(np.asarray(new.extra["replay"] != buf).reshape(32, -1), axis=1)
  assert changed.sum() == c.batch_size // 2  # half a batch of fresh samples written per D update
  # D's loss used the mixed batch: recomputing it with fresh samples only gives another value.
  c2, state2, _ = setup(config_of, replay_size=0)
  _, m2 = jax.jit(gan.train_step)(state2, batch, jax.random.key(1))
  assert float(m["d/loss"]) != pytest.approx(float(m2["d/loss"]), rel=1e-6)


# ---------------------------------------------------------------- unrolled GAN

def _to64(tree):
  return jax.tree.map(lambda x: x.astype(jnp.float64) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree)


def test_unrolled_generator_gradient_is_the_derivative_of_the_unrolled_objective(config_of):
  with jax.enable_x64(True):  # float64 networks: a finite difference accurate to ~1e-8
    c, state, batch = setup(config_of, unrolled_steps=3, dtype="float64")
    state, real = _to64(state), batch["image"].astype(jnp.float64)
    step = jax.jit(gan.train_step)
    for i in range(3):  # away from Adam's first, sign-like step
      state, _ = step(state, {"image": real}, jax.random.key(10 + i))
    key = jax.random.key(3)
    z = sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model)

    def objective(g_params, unrolled=True):
      d = gan.unrolled_discriminator(state, g_params, real, key) if unrolled else state.d
      return gan.generator_loss(state, d, g_params, z, key, 0.0, real)[0]

    params = state.g.params
    grad = jax.grad(objective)(params)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(5), len(leaves))
    v = jax.tree.unflatten(tree, [jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])
    eps = 1e-5
    plus = objective(jax.tree.map(lambda p, d: p + eps * d, params, v))
    minus = objective(jax.tree.map(lambda p, d: p - eps * d, params, v))
    fd = (plus - minus) / (2 * eps)
    analytic = sum(jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grad), jax.tree.leaves(v)))
    np.testing.assert_allclose(analytic, fd, rtol=1e-5)
    # ... and it is not the k = 0 gradient: the unrolled D reacts to G.
    grad0 = jax.grad(lambda p: objective(p, unrolled=False))(params)
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(grad), jax.tree.leaves(grad0)))
    scale = max(float(jnp.max(jnp.abs(a))) for a in jax.tree.leaves(grad0))
    assert diff > 1e-2 * scale


def test_d_takes_the_first_unrolled_step_itself(config_of):
  c, state, batch = setup(config_of, unrolled_steps=1)
  key = jax.random.key(4)
  new, _ = jax.jit(gan.train_step)(state, batch, key)
  first_key = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  unrolled = gan.unrolled_discriminator(state, state.g.params, batch["image"], first_key)
  for a, b in zip(jax.tree.leaves(unrolled.params), jax.tree.leaves(new.d.params), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- discriminator ensembles (GMAN)

def test_soft_mean_goes_from_the_mean_to_the_max():
  v = jnp.array([0.5, 2.0, 1.0])
  np.testing.assert_allclose(stabilizers.soft_mean(v, 0.0), jnp.mean(v), rtol=1e-6)
  np.testing.assert_allclose(stabilizers.soft_mean(v, 100.0), 2.0, rtol=1e-5)
  assert float(jnp.mean(v)) < float(stabilizers.soft_mean(v, 1.0)) < 2.0


@pytest.mark.parametrize("softness", [0.0, 2.0])
def test_ensemble_members_are_independent_and_g_faces_their_soft_mean(config_of, softness):
  c, state, batch = setup(config_of, num_discriminators=3, ensemble_softness=softness)
  params = state.d.params
  assert all(x.shape[0] == 3 for x in jax.tree.leaves(params))
  kernel = jax.tree.leaves(params)[-1]
  assert not np.allclose(kernel[0], kernel[1])  # each member from its own initialisation
  key = jax.random.key(2)
  new, m = jax.jit(gan.train_step)(state, batch, key)
  outs = new.d(state.g(sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model)))
  assert outs.shape == (3, c.batch_size)
  per_member = jnp.stack([losses.g_loss_non_saturating(o) for o in outs])
  np.testing.assert_allclose(m["g/loss"], stabilizers.soft_mean(per_member, softness), rtol=1e-5)


def test_ensemble_d_loss_is_the_sum_of_member_losses(config_of):
  c, state, batch = setup(config_of, num_discriminators=2)
  key = jax.random.key(6)
  _, m = jax.jit(gan.train_step)(state, batch, key)
  k0 = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  fake = state.g(sample_latent(jax.random.fold_in(k0, 0), c.batch_size, c.model))
  real_out, fake_out = state.d(batch["image"]), state.d(fake)
  expected = sum(losses.d_loss_bce(real_out[i], fake_out[i]) for i in range(2))
  np.testing.assert_allclose(m["d/loss"], expected, rtol=1e-5)


# ---------------------------------------------------------------- virtual batch norm

def test_virtual_batch_norm_uses_the_reference_and_the_example_only():
  rng = np.random.default_rng(0)
  ref = jnp.asarray(rng.normal(2.0, 3.0, (16, 4, 4, 5)), jnp.float32)
  x = jnp.asarray(rng.normal(0.0, 1.0, (6, 4, 4, 5)), jnp.float32)
  layer = VirtualBatchNorm(16)
  h = jnp.concatenate([ref, x])
  variables = layer.init(jax.random.key(0), h)
  y = layer.apply(variables, h)
  # The reference rows are batch-normalised by their own statistics.
  np.testing.assert_allclose(jnp.mean(y[:16], axis=(0, 1, 2)), 0.0, atol=1e-5)
  np.testing.assert_allclose(jnp.var(y[:16], axis=(0, 1, 2)), 1.0, atol=1e-3)
  # Example i is normalised with the statistics of the reference plus x_i: Salimans et al. Sec. 3.4.
  both = jnp.concatenate([ref, x[2:3]])
  mean, var = jnp.mean(both, axis=(0, 1, 2)), jnp.var(both, axis=(0, 1, 2))
  np.testing.assert_allclose(y[16 + 2], (x[2] - mean) / jnp.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
  # ... so replacing the other examples changes nothing for it.
  x2 = x.at[0].set(100.0)
  y2 = layer.apply(variables, jnp.concatenate([ref, x2]))
  np.testing.assert_allclose(y2[16 + 2], y[16 + 2], rtol=1e-6)


def test_dcgan_d_with_virtual_batch_norm_is_per_example_and_keeps_its_first_reference(config_of):
  c, state, batch = setup(config_of, "dcgan.py")
  c.model.d_virtual_batch_norm = 4
  state = gan.init(c, jax.random.key(0), batch)
  assert "batch_stats" not in state.d.model_state
  step = jax.jit(gan.train_step)
  new, _ = step(state, batch, jax.random.key(1))
  np.testing.assert_array_equal(new.d.model_state["vbn"]["reference"], batch["image"][:4])
  later, _ = step(new, {"image": -batch["image"]}, jax.random.key(2))  # fixed after the first step
  np.testing.assert_array_equal(later.d.model_state["vbn"]["reference"], batch["image"][:4])
  x = batch["image"]
  out = later.d(x)
  out_other = later.d(x.at[1:].set(0.0))
  np.testing.assert_allclose(out[0], out_other[0], rtol=1e-5)  # D(x_0) ignores the rest of the batch
  assert isinstance(dcgan.Discriminator(virtual_batch_norm=4), nn.Module)


def test_stabilizer_config_errors(config_of):
  for overrides, message in [
      ({"unrolled_steps": 2, "d_steps": 2}, "not implemented together with d_steps > 1"),
      ({"num_discriminators": 2, "penalty": "gradient"}, "ensemble is not implemented"),
      ({"replay_size": 4}, "smaller than one batch"),
      ({"replay_size": 64, "replay_fraction": 1.5}, "replay_fraction must be in"),
  ]:
    c = config_of("gan.py")
    for k, v in overrides.items():
      c[k] = v
    with pytest.raises(ConfigError, match=message):
      gan.check(c)


@pytest.mark.parametrize("name,overrides", [
    ("gan.py", {"unrolled_steps": 2}),
    ("dcgan.py", {"num_discriminators": 2, "replay_size": 16, "model.d_virtual_batch_norm": 4}),
])
def test_stabilizers_train_end_to_end(tmp_path, config_of, name, overrides):
  from ganjax import train

  c = config_of(name, steps=2)
  c.update_from_flattened_dict(overrides)
  state = train.train(c, tmp_path)
  assert int(state.step) == 2
  rows = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert rows and all(np.isfinite(v) for r in rows for v in r.values())


def test_a_stabilizer_on_a_method_that_does_not_read_it_is_an_error(config_of):
  from ganjax import train

  c = config_of("cgan.py")
  c.real_label = 0.9  # read by the conditional GAN's step
  train.validate(c)
  c.replay_size = 64  # not read: an error, not a silently ignored setting
  with pytest.raises(ConfigError, match="config.replay_size=64 is a GAN stabilizer that algorithm 'cgan' does not implement"):
    train.validate(c)
  c = config_of("ebgan.py")
  c.model.spectral_norm = True
  with pytest.raises(ConfigError, match="model.spectral_norm=True"):
    train.validate(c)
