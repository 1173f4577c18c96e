"""GAN / DCGAN: the step implements Goodfellow et al.'s Eq. 1 with the configured generator loss."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import losses
from ganjax.algorithms import gan
from ganjax.algorithms.common import micro_batches, sample_latent
from ganjax.data import builtin


def setup(config_of, **overrides):
  c = config_of("gan.py")
  for k, v in overrides.items():
    (c.gan if k in c.gan else c)[k] = v
  batch = {"image": jnp.asarray(builtin.digits().get(np.arange(c.batch_size * c.gan.d_steps))["image"])}
  state = gan.init(c, jax.random.key(0), batch)
  return c, state, batch


@pytest.mark.parametrize("loss", ["non_saturating", "minimax"])
def test_step_losses_are_eq1_with_the_chosen_generator_loss(config_of, loss):
  c, state, batch = setup(config_of, loss=loss)
  key = jax.random.key(7)
  new, m = jax.jit(gan.train_step)(state, batch, key)
  # D's loss: -log D(x) - log(1 - D(G(z))) with the old D and the step's own noise.
  n = c.batch_size
  z_d = sample_latent(jax.random.fold_in(jax.random.split(jax.random.fold_in(key, 0), 1)[0], 0), n, c.model)
  fake = state.g(z_d)
  expected_d = losses.d_loss_bce(state.d(batch["image"]), state.d(fake))
  np.testing.assert_allclose(m["d/loss"], expected_d, rtol=1e-5)
  # G's loss: against the *updated* D (alternating updates, Algorithm 1).
  z_g = sample_latent(jax.random.fold_in(key, 1), n, c.model)
  g_fn = losses.g_loss_non_saturating if loss == "non_saturating" else losses.g_loss_minimax
  np.testing.assert_allclose(m["g/loss"], g_fn(new.d(state.g(z_g))), rtol=1e-5)
  # Both players moved; the step counter advanced.
  assert int(new.step) == 1
  for old_p, new_p in ((state.g.params, new.g.params), (state.d.params, new.d.params)):
    assert any(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(old_p), jax.tree.leaves(new_p)))


def adam_count(opt_state):
  return int([x for x in jax.tree.leaves(opt_state) if x.ndim == 0][0])


def test_d_steps_updates_d_k_times_per_g_update_on_distinct_micro_batches(config_of):
  c, state, batch = setup(config_of, d_steps=3)
  new, _ = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  assert adam_count(new.d.opt_state) == 3 and adam_count(new.g.opt_state) == 1
  x = jnp.arange(8 * 3)
  mb = micro_batches(x, 3)
  assert mb.shape == (8, 3)
  np.testing.assert_array_equal(mb[:, 1], np.arange(8) * 3 + 1)  # rows b*k + i: sharding-preserving
  assert len({tuple(np.asarray(mb[:, i])) for i in range(3)}) == 3


def test_generate_shapes_and_latents(config_of):
  c, state, batch = setup(config_of)
  x = gan.generate(state, jax.random.key(0), 5)
  assert x.shape == (5, *batch["image"].shape[1:])
  z = jnp.zeros((2, c.model.latent_dim))
  np.testing.assert_allclose(gan.generate(state, None, 2, z=z)[0], gan.generate(state, None, 2, z=z)[1])


def test_bfloat16_compute_keeps_float32_parameters(config_of):
  for name in ("gan.py", "dcgan.py"):
    c = config_of(name)
    c.dtype = "bfloat16"
    shape = (c.batch_size, 8, 8, 1)
    batch = {"image": jnp.asarray(np.random.default_rng(0).uniform(-1, 1, shape), jnp.float32)}
    state = gan.init(c, jax.random.key(0), batch)
    jaxpr = str(jax.make_jaxpr(gan.train_step)(state, batch, jax.random.key(1)))
    assert "bf16" in jaxpr  # the networks compute in bfloat16 ...
    new, m = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
    leaves = jax.tree.leaves((new.g.params, new.d.params, new.g.opt_state, new.d.opt_state))
    assert all(x.dtype in (jnp.float32, jnp.int32) for x in leaves)  # ... their state stays float32
    assert all(np.isfinite(v) and v.dtype == jnp.float32 for v in m.values())
    assert gan.generate(new, jax.random.key(2), 3).dtype == jnp.float32


def test_wgan_clips_every_critic_weight(config_of):
  c = config_of("wgan.py")
  c.optim.d.lr = 1.0  # a huge step: every weight would leave [-c, c] without the clip
  batch = {"image": jnp.asarray(builtin.digits(8).get(np.arange(c.batch_size * c.gan.d_steps))["image"])}
  state = gan.init(c, jax.random.key(0), batch)
  new, m = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  weights = jax.tree.leaves(new.d.params)
  assert max(float(jnp.abs(w).max()) for w in weights) <= c.gan.clip + 1e-7
  assert max(float(jnp.abs(w).max()) for w in weights) == pytest.approx(c.gan.clip)
  np.testing.assert_allclose(m["d/wasserstein"], m["d/real_out"] - m["d/fake_out"], rtol=1e-6)


def test_wgan_gp_penalty_is_taken_at_the_steps_interpolates(config_of):
  """Gulrajani et al. 2017, Eq. 3 and Algorithm 1 on the step's own draws: the critic loss
  E D(G(z)) - E D(x) + lambda E[(||grad_x D(x_hat)||_2 - 1)^2], x_hat = eps x + (1 - eps) G(z) with
  eps ~ U[0, 1] per sample, the gradient by autodiff of the critic and its norm written out here."""
  c = config_of("wgan_gp.py")
  c.gan.d_steps = 1  # the metrics of the one critic update, from the initial critic
  batch = {"image": jnp.asarray(builtin.digits(8).get(np.arange(c.batch_size))["image"])}
  state = gan.init(c, jax.random.key(0), batch)
  key = jax.random.key(1)
  _, m = jax.jit(gan.train_step)(state, batch, key)
  k = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  real = batch["image"]

  @jax.jit
  def critic_at_the_draws(state):
    fake = state.g.apply(state.g.params, sample_latent(jax.random.fold_in(k, 0), c.batch_size, c.model))[0]
    eps = jax.random.uniform(jax.random.fold_in(k, 1), (c.batch_size, 1, 1, 1))
    x_hat = eps * real + (1 - eps) * fake
    critic = lambda x: state.d.apply(state.d.params, x)[0]  # noqa: E731
    return critic(real), critic(fake), jax.grad(lambda x: jnp.sum(critic(x)))(x_hat)

  real_out, fake_out, grads = critic_at_the_draws(state)
  norms = np.linalg.norm(np.asarray(grads, np.float64).reshape((c.batch_size, -1)), axis=-1)
  penalty = np.mean((norms - 1.0)**2)
  adversarial = np.mean(np.asarray(fake_out, np.float64)) - np.mean(np.asarray(real_out, np.float64))
  np.testing.assert_allclose(m["d/penalty"], penalty, rtol=1e-4)
  np.testing.assert_allclose(m["d/adversarial"], adversarial, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(m["d/loss"], adversarial + 10.0 * penalty, rtol=1e-4, atol=1e-6)


def test_objective_config_errors(config_of):
  from ganjax.errors import ConfigError

  from ganjax import algorithms

  c = config_of("wgan_gp.py")
  c.model.d_batch_norm = True
  with pytest.raises(ConfigError, match="d_batch_norm=False"):
    algorithms.check(gan.METHOD, c)
  c = config_of("wgan.py")
  c.gan.real_label = 0.9
  with pytest.raises(ConfigError, match="label smoothing"):
    algorithms.check(gan.METHOD, c)
  c = config_of("gan.py")
  c.gan.penalty = "spectral"
  with pytest.raises(ConfigError, match="unknown penalty 'spectral'"):
    algorithms.check(gan.METHOD, c)


def test_instance_noise_is_annealed_to_zero_and_reaches_both_inputs_of_d(config_of):
  from ganjax import stabilizers

  c = config_of("gan.py")
  c.gan.instance_noise, c.gan.instance_noise_steps = 0.5, 10
  stds = [float(stabilizers.instance_noise_std(c.gan, c.num_steps, jnp.asarray(s))) for s in (0, 5, 10, 20)]
  assert stds == pytest.approx([0.5, 0.25, 0.0, 0.0])
  c.gan.instance_noise = 0.0
  assert stabilizers.instance_noise_std(c.gan, c.num_steps, 3) == 0.0
  # With noise, D sees noised real and generated batches; once annealed away its loss is the plain one.
  c, state, batch = setup(config_of)
  key = jax.random.key(3)
  c2 = c.copy_and_resolve_references()
  c2.gan.instance_noise, c2.gan.instance_noise_steps = 1.0, 4
  noisy_state = gan.init(c2, jax.random.key(0), batch)
  _, noisy = jax.jit(gan.train_step)(noisy_state, batch, key)
  assert float(noisy["d/instance_noise"]) == 1.0
  # D's loss at step 0 is Eq. 1's on x + 1.0 e and G(z) + 1.0 e', e, e' ~ N(0, I) from the update's keys
  k = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  fake = noisy_state.g(sample_latent(jax.random.fold_in(k, 0), c.batch_size, c.model))
  real_in = batch["image"] + jax.random.normal(jax.random.fold_in(k, 2), batch["image"].shape)
  fake_in = fake + jax.random.normal(jax.random.fold_in(k, 3), fake.shape)
  real_out, fake_out = (np.asarray(noisy_state.d(v), np.float64) for v in (real_in, fake_in))
  np.testing.assert_allclose(noisy["d/loss"], np.mean(np.logaddexp(0, -real_out)) + np.mean(np.logaddexp(0, fake_out)),
                             rtol=1e-5)
  late = noisy_state.replace(step=jnp.asarray(4, jnp.int32))
  _, annealed = jax.jit(gan.train_step)(late, batch, key)
  ref_state = state.replace(step=jnp.asarray(4, jnp.int32))
  _, ref = jax.jit(gan.train_step)(ref_state, batch, key)
  np.testing.assert_allclose(annealed["d/loss"], ref["d/loss"], rtol=1e-6)


def test_generator_ema_is_updated_checkpointed_and_used_for_sampling(config_of):
  c, _, batch = setup(config_of)
  c.gan.ema_decay = 0.9
  state = gan.init(c, jax.random.key(0), batch)
  new, _ = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  for e, old, p in zip(jax.tree.leaves(new.extra["g_ema"]), jax.tree.leaves(state.g.params),
                       jax.tree.leaves(new.g.params)):
    np.testing.assert_allclose(e, 0.9 * old + 0.1 * p, rtol=1e-5, atol=1e-7)
  z = jax.random.normal(jax.random.key(2), (4, c.model.latent_dim))
  np.testing.assert_allclose(gan.generate(new, None, 4, z=z),
                             new.g.apply(new.extra["g_ema"], z, train=False)[0], rtol=1e-6)
  assert not np.allclose(gan.generate(new, None, 4, z=z), new.g(z))


def test_feature_matching_generator_loss(config_of):
  from ganjax import stabilizers

  c, state, batch = setup(config_of)
  c.gan.g_objective = "feature_matching"
  state = gan.init(c, jax.random.key(0), batch)
  key = jax.random.key(5)
  new, m = jax.jit(gan.train_step)(state, batch, key)
  z = sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model)
  _, real_f, _ = stabilizers.features(new.d, new.d.params, batch["image"])
  _, fake_f, _ = stabilizers.features(new.d, new.d.params, state.g(z))
  expected = np.sum((np.asarray(real_f).mean(0) - np.asarray(fake_f).mean(0)) ** 2)
  np.testing.assert_allclose(m["g/loss"], expected, rtol=1e-4)
  assert float(m["g/grad_norm"]) > 0
  np.testing.assert_allclose(stabilizers.feature_matching_loss(real_f, real_f), 0.0, atol=1e-9)


def test_historical_averaging_tracks_the_mean_of_past_parameters(config_of):
  c, _, batch = setup(config_of)
  c.gan.historical_averaging = 0.5
  state = gan.init(c, jax.random.key(0), batch)
  step = jax.jit(gan.train_step)
  trajectory = [state.d.params]
  s, m = step(state, batch, jax.random.key(0))
  assert float(m["d/historical"]) == 0.0  # theta_0 is its own history
  trajectory.append(s.d.params)
  for i in range(1, 3):
    s, m = step(s, batch, jax.random.key(i))
    trajectory.append(s.d.params)
  # After 3 steps the means hold theta_0..theta_3; the penalty of step 3 used theta_0..theta_2.
  for leaves in zip(jax.tree.leaves(s.extra["hist_d"]), *map(jax.tree.leaves, trajectory)):
    np.testing.assert_allclose(leaves[0], np.mean(leaves[1:], axis=0), rtol=1e-5, atol=1e-7)
  mean_prev = jax.tree.map(lambda *p: np.mean(p, axis=0), *trajectory[:3])
  expected = sum(np.sum((np.asarray(a) - b) ** 2) for a, b in zip(jax.tree.leaves(trajectory[2]), jax.tree.leaves(mean_prev)))
  np.testing.assert_allclose(m["d/historical"], expected, rtol=1e-4)
  np.testing.assert_allclose(m["d/loss"], m["d/adversarial"] + 0.5 * m["d/historical"], rtol=1e-5)
