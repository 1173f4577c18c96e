"""The stateful stabilizers of `ganjax.stabilizers` and the normalisation layers, each by the
property that makes the trick that trick: replay memory, the unrolled GAN and GMAN (methods of
their own), virtual batch norm (in G, where Salimans et al. put it, and in D), spectral norm's one
power iteration per update, and the one-line refusals."""


import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from ganjax import algorithms, losses, stabilizers
from ganjax.algorithms import gan
from ganjax.algorithms.common import sample_latent
from ganjax.data import builtin
from ganjax.errors import ConfigError
from ganjax.networks import dcgan
from ganjax.networks.layers import VirtualBatchNorm


def setup(config_of, name="gan.py", **overrides):
  c = config_of(name)
  for k, v in overrides.items():
    (c.gan if k in c.gan else c)[k] = v
  images = builtin.digits().get(np.arange(c.batch_size * c.gan.d_steps))["image"]
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


def test_replay_random_rows_is_cyclegans_image_pool_even_at_batch_1(config_of):
  """Zhu et al.'s pool (their batch is 1): each row, with probability 1/2, is served a stored image,
  and the current one takes its place; otherwise the row is served as it is and not stored. The
  fixed-rows memory would serve round(0.5 * 1) = 0 rows: that is one clear line instead."""
  buffer = 1000.0 + jnp.arange(50.0)[:, None]
  served, kept = 0, 0
  mix = jax.jit(stabilizers.replay_mix, static_argnums=(2, 4))
  for i in range(200):
    fresh = jnp.array([[float(i)]])
    out, new = mix(buffer, fresh, 0.5, jax.random.key(i), "random")
    changed = np.flatnonzero(np.asarray(new[:, 0] != buffer[:, 0]))
    if float(out[0, 0]) == i:  # served fresh: the pool is untouched
      assert len(changed) == 0
    else:  # served a stored image, which the current one replaced in its slot
      assert len(changed) == 1 and float(new[changed[0], 0]) == i and float(out[0, 0]) == float(buffer[changed[0], 0])
      served += 1
    kept += len(changed)
  assert 70 < served < 130 and kept == served  # ~ Binomial(200, 1/2)
  c = config_of("cyclegan.py")
  c.batch_size = 1
  with pytest.raises(ConfigError, match="replay_rows=random"):
    algorithms.check(algorithms.get(c.algorithm), c)
  c.gan.replay_rows = "random"
  algorithms.check(algorithms.get(c.algorithm), c)


def test_replay_keeps_pairs_together(config_of):
  """ALI's fakes are (G(z), z) pairs, cGAN's (x, y): a replayed row is a whole pair from one slot."""
  buffer = (1000.0 + jnp.arange(50.0)[:, None], 2000 + jnp.arange(50))
  fresh = (jnp.arange(20.0)[:, None], 100 + jnp.arange(20))
  (x, z), (bx, bz) = stabilizers.replay_mix(buffer, fresh, 0.5, jax.random.key(3))
  np.testing.assert_array_equal(np.asarray(x[:10, 0]) - 1000, np.asarray(z[:10]) - 2000)  # old pairs, intact
  np.testing.assert_array_equal(x[10:, 0], jnp.arange(10.0, 20.0))  # fresh pairs, intact
  np.testing.assert_array_equal(np.asarray(bz)[np.asarray(bx[:, 0]) < 1000] - 100,
                                np.asarray(bx[:, 0])[np.asarray(bx[:, 0]) < 1000])  # written as pairs too
  assert bz.dtype == buffer[1].dtype


def test_a_full_replay_memory_in_the_state_feeds_d(config_of):
  """Once the memory is full, D's fakes are k = round(fraction * n) stored rows and n - k fresh samples,
  and the k fresh rows served from the memory take k slots. With every slot holding the same row r, the
  stored rows D sees are r whichever slots are read: D's loss is Eq. 1's on (x; r k times, G(z)_k..n-1),
  written out here."""
  c, state, batch = setup(config_of, replay_size=32, replay_fraction=0.5)
  n, k = c.batch_size, c.batch_size // 2
  assert state.extra["replay"].shape == (32, *batch["image"].shape[1:])
  r = jnp.linspace(-1.0, 1.0, int(np.prod(batch["image"].shape[1:]))).reshape(batch["image"].shape[1:])
  full = {**state.extra, "replay": jnp.broadcast_to(r, state.extra["replay"].shape),
          stabilizers.REPLAY_FILLED: jnp.asarray(32, jnp.int32)}
  state = state.replace(extra=full)
  key = jax.random.key(1)
  new, m = jax.jit(gan.train_step)(state, batch, key)
  k_d = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  fresh = state.g(sample_latent(jax.random.fold_in(k_d, 0), n, c.model))
  fakes = jnp.concatenate([jnp.broadcast_to(r, (k, *r.shape)), fresh[k:]])
  real_out, fake_out = (np.asarray(state.d(v), np.float64) for v in (batch["image"], fakes))
  np.testing.assert_allclose(m["d/loss"], np.mean(np.logaddexp(0, -real_out)) + np.mean(np.logaddexp(0, fake_out)),
                             rtol=1e-5)
  stored = np.asarray(new.extra["replay"]).reshape(32, -1)
  changed = np.flatnonzero(np.any(stored != np.asarray(r).reshape(1, -1), axis=1))
  assert len(changed) == k  # k slots now hold ...
  served = np.asarray(fresh[:k]).reshape(k, -1)  # ... the fresh rows the memory's rows replaced in D's batch
  assert all(np.any(np.all(np.isclose(row, served, rtol=1e-5, atol=1e-6), axis=1)) for row in stored[changed])


# ---------------------------------------------------------------- unrolled GAN (its own method)

def _to64(tree):
  return jax.tree.map(lambda x: x.astype(jnp.float64) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree)


def test_unrolled_generator_descends_f_K_the_value_at_the_unrolled_discriminator(config_of):
  """Metz et al. Eq. 4-6, written out here independently of ganjax's losses: with SGD(eta) for D,
  theta_D^{k+1} = theta_D^k + eta df/dtheta_D, f = E log sigmoid(D(x)) + E log sigmoid(-D(G(z))),
  and G's gradient is d f(theta_G, theta_D^K(theta_G)) / d theta_G -- the data term included."""
  from ganjax.algorithms import unrolled_gan

  with jax.enable_x64(True):
    c = config_of("unrolled_gan.py")
    c.dtype = "float64"
    c.gan.loss = "minimax"
    c.unrolled.steps, eta = 2, 0.5
    c.optim.d = ml_collections.ConfigDict({"name": "sgd", "lr": eta, "momentum": 0.0, "grad_clip": 0.0})
    real = jnp.asarray(builtin.mixture("ring8", 0).get(np.arange(c.batch_size))["image"], jnp.float64)
    state = _to64(unrolled_gan.init(c, jax.random.key(0), {"image": real}))
    key = jax.random.key(3)
    k_d = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
    z_d = sample_latent(jax.random.fold_in(k_d, 0), c.batch_size, c.model)
    z = sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model)
    stab = stabilizers.Stabilizers(state, key, unrolled_gan.ADVERSARIAL)
    d_fakes = jax.lax.stop_gradient(state.g(z_d))

    def ganjax_objective(g_params):
      return unrolled_gan.generator_objective(stab, state.g, state.d, g_params, real, z_d, d_fakes, z, key, k_d)[0]

    D = lambda p, x: state.d.apply_fn({"params": p}, x, train=False)  # noqa: E731
    G = lambda p, zz: state.g.apply_fn({"params": p}, zz, train=False)  # noqa: E731

    def f(g_params, d_params, zz, data_term=True):
      fake_term = jnp.mean(jax.nn.log_sigmoid(-D(d_params, G(g_params, zz))))
      return (jnp.mean(jax.nn.log_sigmoid(D(d_params, real))) if data_term else 0.0) + fake_term

    def f_K(g_params, data_term=True):
      d_params = state.d.params
      for _ in range(c.unrolled.steps):
        grads = jax.grad(f, argnums=1)(g_params, d_params, z_d)
        d_params = jax.tree.map(lambda p, gr: p + eta * gr, d_params, grads)
      return f(g_params, d_params, z, data_term)

    ours = jax.jit(jax.grad(ganjax_objective))(state.g.params)
    paper = jax.jit(jax.grad(f_K))(state.g.params)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(paper), strict=True):
      np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)
    # The data term E_x[log D^K(x)] moves G's gradient (what the objective before this fix left out).
    without = jax.jit(jax.grad(lambda p: f_K(p, data_term=False)))(state.g.params)
    gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(paper), jax.tree.leaves(without)))
    assert gap > 1e-6


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_d_takes_one_plain_step_on_eq_1_whatever_k(config_of, optimizer):
  """Metz et al. Eq. 7: D's own update is one ascent step on f = E log D(x) + E log(1 - D(G(z))) (Goodfellow
  et al. Eq. 1, D = sigmoid of the logit) on the step's batch and noise, not K unrolled steps (K = 2 here).
  Written out independently: SGD(eta), theta_D - eta g; Adam's first step, theta_D - lr g / (|g| + eps)
  (bias-corrected moments m = g, v = g^2), with g = -df/dtheta_D by autodiff of f written here."""
  from ganjax.algorithms import unrolled_gan

  c = config_of("unrolled_gan.py")
  assert c.unrolled.steps == 2
  c.gan.loss = "minimax"
  lr, eps = 0.05, 1e-8
  c.optim.d = ml_collections.ConfigDict({"name": "sgd", "lr": lr, "momentum": 0.0, "grad_clip": 0.0}
                                        if optimizer == "sgd" else {"name": "adam", "lr": lr, "b1": 0.5, "b2": 0.999,
                                                                    "eps": eps, "grad_clip": 0.0})
  real = jnp.asarray(builtin.mixture("ring8", 0).get(np.arange(c.batch_size))["image"])
  state = unrolled_gan.init(c, jax.random.key(0), {"image": real})
  key = jax.random.key(4)
  new, _ = jax.jit(unrolled_gan.train_step)(state, {"image": real}, key)
  k_d = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  fake = state.g(sample_latent(jax.random.fold_in(k_d, 0), c.batch_size, c.model))

  def minus_f(d_params):
    d = lambda x: state.d.apply_fn({"params": d_params}, x, train=True)  # noqa: E731
    return -jnp.mean(jnp.log(jax.nn.sigmoid(d(real)))) - jnp.mean(jnp.log1p(-jax.nn.sigmoid(d(fake))))

  grads = jax.jit(jax.grad(minus_f))(state.d.params)
  for old, upd, g in zip(jax.tree.leaves(state.d.params), jax.tree.leaves(new.d.params), jax.tree.leaves(grads),
                         strict=True):
    old, upd, g = (np.asarray(a, np.float64) for a in (old, upd, g))
    step = -lr * g if optimizer == "sgd" else -lr * g / (np.abs(g) + eps)
    np.testing.assert_allclose(upd - old, step, rtol=2e-3, atol=1e-7)


# ---------------------------------------------------------------- discriminator ensembles (GMAN, its own method)

def soft_mean_of(values, softness):
  """Durugkar et al. Sec. 3.2 in float64: sum_i w_i V_i with w_i = exp(lambda V_i) / sum_j exp(lambda V_j)."""
  v = np.asarray(values, np.float64)
  w = np.exp(softness * (v - v.max()))
  return float(np.sum(w / w.sum() * v))


def test_soft_mean_goes_from_the_mean_to_the_max():
  """lambda = 0 is the plain mean (GMAN-0), a large lambda the max; in between it rises strictly with lambda,
  strictly between the two."""
  from ganjax.algorithms.gman import soft_mean

  v = jnp.array([0.5, 2.0, 1.0])
  np.testing.assert_allclose(soft_mean(v, 0.0), 3.5 / 3, rtol=1e-6)
  np.testing.assert_allclose(soft_mean(v, 100.0), 2.0, rtol=1e-6)
  values = [float(soft_mean(v, lam)) for lam in (0.25, 1.0, 2.0, 4.0)]
  np.testing.assert_allclose(values, [soft_mean_of(v, lam) for lam in (0.25, 1.0, 2.0, 4.0)], rtol=1e-5)
  assert 3.5 / 3 < values[0] < values[1] < values[2] < values[3] < 2.0


def _gman(config_of, n, softness=0.0):
  from ganjax.algorithms import gman

  c = config_of("gman.py")
  c.gman.num_discriminators, c.gman.softness = n, softness
  batch = {"image": jnp.asarray(jax.image.resize(builtin.digits().get(np.arange(c.batch_size))["image"],
                                                 (c.batch_size, 8, 8, 1), "bilinear"))}
  return c, gman.init(c, jax.random.key(0), batch), batch


@pytest.mark.parametrize("softness", [0.0, 1.0, 1e6])
def test_ensemble_members_are_independent_and_g_faces_their_soft_mean(config_of, softness):
  """G's loss is the soft mean of the members' own non-saturating losses V_i = -E log D_i(G(z)) under the
  updated members (written out here): their mean at lambda = 0, their max at a large lambda, and strictly
  between for lambda = 1 (MLP players on the ring, three members)."""
  from ganjax.algorithms import gman

  c = config_of("gman.py", "ring8")
  c.gman.num_discriminators, c.gman.softness = 3, softness
  batch = {"image": jnp.asarray(builtin.mixture("ring8", 0).get(np.arange(c.batch_size))["image"])}
  state = gman.init(c, jax.random.key(0), batch)
  kernel = jax.tree.leaves(state.d.params)[-1]
  assert kernel.shape[0] == 3 and not np.allclose(kernel[0], kernel[1])  # each member from its own initialisation
  key = jax.random.key(2)
  new, m = jax.jit(gman.train_step)(state, batch, key)
  z = sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model)
  outs = np.asarray(jax.jit(lambda new: new.d.apply(new.d.params, state.g.apply(state.g.params, z)[0])[0])(new),
                    np.float64)
  assert outs.shape == (3, c.batch_size)
  member = np.mean(np.logaddexp(0.0, -outs), axis=1)  # -E log sigmoid(D_i(G(z)))
  assert np.ptp(member) > 1e-4  # distinct members: the mean, the soft mean and the max are apart
  want = {0.0: np.mean(member), 1e6: np.max(member)}.get(softness, soft_mean_of(member, softness))
  np.testing.assert_allclose(m["g/loss"], want, rtol=1e-5)
  if softness == 1.0:
    assert np.mean(member) + 1e-6 < float(m["g/loss"]) < np.max(member) - 1e-6


def test_ensemble_d_loss_is_the_sum_of_member_losses(config_of):
  from ganjax.algorithms import gman

  c, state, batch = _gman(config_of, 2)
  key = jax.random.key(6)
  _, m = jax.jit(gman.train_step)(state, batch, key)
  k0 = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  fake = state.g.apply(state.g.params, sample_latent(jax.random.fold_in(k0, 0), c.batch_size, c.model))[0]
  real_out, ms = state.d.apply(state.d.params, batch["image"])
  fake_out = state.d.apply(state.d.params, fake, model_state=ms)[0]
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
  c.gan.d_virtual_batch_norm = 4
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



def test_generator_virtual_batch_norm_where_salimans_put_it(config_of):
  """Sec. 3.4: G's batch statistics come from a fixed reference batch (plus the example itself), so
  G(z_i) does not depend on the other latents of its batch (with batch norm it does)."""
  c, _, batch = setup(config_of, "dcgan.py")
  c.gan.g_virtual_batch_norm = 4
  # jitted: one program each, not one per operation
  init = lambda: jax.jit(lambda k, b: gan.init(c, k, b))(jax.random.key(0), batch)  # noqa: E731
  g_of = jax.jit(lambda g, z, train: g.apply(g.params, z, train=train)[0], static_argnums=2)
  state = init()
  assert "batch_stats" not in state.g.model_state and not bool(state.g.model_state["vbn"]["filled"])
  new, _ = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  z_first = sample_latent(jax.random.fold_in(jax.random.key(1), 1), c.batch_size, c.model)  # G's own update
  # (to the last bit but one: the step's compiled sampler and this op-by-op one may round erf^-1 apart)
  np.testing.assert_allclose(new.g.model_state["vbn"]["reference"], z_first[:4], rtol=1e-6, atol=1e-7)
  later, _ = jax.jit(gan.train_step)(new, batch, jax.random.key(2))
  np.testing.assert_array_equal(later.g.model_state["vbn"]["reference"], new.g.model_state["vbn"]["reference"])  # fixed from then on
  z = jax.random.normal(jax.random.key(5), (6, c.model.latent_dim))
  for train in (False, True):
    a, b = g_of(later.g, z, train), g_of(later.g, z.at[1:].set(3.0), train)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-6)  # G(z_0) ignores the rest of the batch
  c.gan.g_virtual_batch_norm = 0
  plain = init()
  a, b = g_of(plain.g, z, True), g_of(plain.g, z.at[1:].set(3.0), True)
  assert not np.allclose(a[0], b[0])  # ... as it does with batch norm


def test_spectral_norm_takes_one_power_iteration_per_discriminator_update(config_of):
  """Miyato et al., Algorithm 1: per update, v = normalize(W^T u), u = normalize(W v), once; the
  real and the generated pass (and a penalty) all divide W by the same sigma."""
  c, state, batch = setup(config_of, spectral_norm=True)
  new, _ = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  old_u = jax.tree_util.tree_flatten_with_path(state.d.model_state["spectral"])[0]
  new_spec = {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_flatten_with_path(new.d.model_state["spectral"])[0]}
  kernels = {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_flatten_with_path(state.d.params)[0]
             if np.ndim(v) == 2}
  checked = 0
  for path, u0 in old_u:
    name = jax.tree_util.keystr(path)
    if not name.endswith("/u']"):
      continue
    layer = name.split("']['")[1].split("/")[0]  # ['SpectralNorm_<i>']['<layer>/kernel/u']
    w = kernels[f"['{layer}']['kernel']"]  # the weight before the update
    v1 = np.asarray(u0) @ w.T
    v1 /= np.linalg.norm(v1)
    u1 = v1 @ w
    u1 /= np.linalg.norm(u1)
    np.testing.assert_allclose(new_spec[name], u1, rtol=1e-4, atol=1e-6)  # one iteration, not two
    checked += 1
  assert checked == len(kernels) >= 2


@pytest.mark.parametrize("config,overrides,message", [
    ("unrolled_gan.py", {"gan.d_steps": 2}, "gan.d_steps=2 does not apply to algorithm 'unrolled_gan': theta_D\\^K"),
    ("gman.py", {"gan.penalty": "gradient", "model.d_batch_norm": False}, "a penalty on the stacked ensemble"),
    ("gman.py", {"gan.g_objective": "feature_matching"}, "N feature layers"),
    ("gan.py", {"gan.replay_size": 4}, "smaller than one batch"),
    ("gan.py", {"gan.replay_size": 64, "gan.replay_fraction": 1.5}, "replay_fraction must be in"),
    ("gan.py", {"gan.penalty": "gradient", "gan.minibatch_features": (4, 3)}, "minibatch discrimination"),
    ("infogan.py", {"gan.penalty": "r1"}, "InfoGAN discriminator has batch norm"),
    ("cgan.py", {"gan.loss": "hinge", "gan.real_label": 0.9}, "label smoothing"),
    ("acgan.py", {"gan.loss": "wasserstein", "gan.real_label": 0.8}, "label smoothing"),
    ("ebgan.py", {"gan.spectral_norm": True}, "autoencoder"),
    ("ebgan.py", {"gan.loss": "hinge"}, "margin loss"),
    ("sgan.py", {"gan.real_label": 0.9}, "K\\+1-class loss"),
    ("ali.py", {"gan.g_objective": "feature_matching"}, "pairs"),
    ("bgan.py:discrete", {"gan.g_objective": "feature_matching"}, "discrete"),
    ("gan.py", {"gan.g_virtual_batch_norm": 4}, "g_virtual_batch_norm needs model.generator='dcgan'"),
    ("gan.py", {"gan.d_virtual_batch_norm": 4}, "d_virtual_batch_norm needs model.discriminator in"),
])
def test_refused_combinations_stop_with_one_line(config_of, config, overrides, message):
  from ganjax.run import validate

  name, _, arg = config.partition(":")
  c = config_of(name, arg or None)
  c.update_from_flattened_dict(overrides)
  with pytest.raises(ConfigError, match=message) as e:
    validate(c)
  assert "\n" not in str(e.value)


def test_gan_settings_on_a_method_that_is_not_adversarial_are_an_error(config_of):
  from ganjax.run import validate

  c = config_of("vae.py")
  assert "gan" not in c  # the VAE's config has no adversarial block at all ...
  c.gan = ml_collections.ConfigDict({"ema_decay": 0.9})
  with pytest.raises(ConfigError, match="algorithm 'vae' is not adversarial"):  # ... and is refused one
    validate(c)


def test_a_step_that_skips_a_switched_on_stabilizer_is_refused(config_of):
  """A new method's step that never calls a hook cannot ignore that stabilizer silently."""
  c, state, batch = setup(config_of, instance_noise=0.5)

  def forgetful_step(state, batch, key):
    stab = stabilizers.Stabilizers(state, key, gan.ADVERSARIAL)
    out = state.d(batch["image"])
    loss, _ = stab.d_loss(out, out)
    return stab.finish(state, dict(state.players), {"d/loss": loss})

  with pytest.raises(ConfigError, match="never applies instance_noise"):
    jax.jit(forgetful_step)(state, batch, jax.random.key(0))


@pytest.mark.parametrize("config,algorithm,block", [("vae.py", "gan", "gan"), ("gan.py", "infogan", "info"),
                                                    ("gan.py", "unrolled_gan", "unrolled")])
def test_a_method_on_a_config_without_its_block_is_one_line(config_of, config, algorithm, block):
  from ganjax.run import validate

  c = config_of(config)
  c.algorithm = algorithm
  with pytest.raises(ConfigError, match=f"algorithm '{algorithm}' reads config.{block}, which this config lacks"):
    validate(c)
