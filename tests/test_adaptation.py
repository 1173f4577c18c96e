"""Domain adaptation: DANN's gradient reversal and schedules against the paper's formulas, PixelDA's
masked PMSE, DTN's and SimGAN's losses, the target labels never read, bad input, the fonts source."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from ganjax import data
from ganjax import state as state_lib
from ganjax.algorithms import adaptation, dann, dtn, pixelda, simgan
from ganjax.data import sources
from ganjax.errors import DataError
from test_translation import loop_step


def test_dann_update_is_the_papers_saddle_point_step(config_of, tmp_path):
  """Eq. 13-15: theta_f -= mu (dL_y/dtheta_f - lambda dL_d/dtheta_f), theta_y -= mu dL_y/dtheta_y,
  theta_d -= mu dL_d/dtheta_d -- the reversal flips exactly the domain loss's gradient into the
  extractor. The loop's own step, half-way through training (lambda = lambda_0.5) with fresh
  optimizers (SGD's first update is mu_0 times the gradient), against gradients of L_y and L_d
  taken separately, without the reversal layer."""
  c = config_of("dann.py")
  run, step = loop_step(c, tmp_path)
  batch = run.next_batch()
  state = run.state.replace(step=jnp.asarray(c.num_steps // 2, jnp.int32))
  before, new, _ = step(state, batch)
  lam, mu = float(dann.adaptation_factor(0.5, c.dann.gamma)), c.optim.f.lr
  xs, ys, xt = batch["source"]["a"], batch["source"]["label"], batch["target"]["b"]
  f, cl, d = before.f, before.c, before.d

  def label_loss(pf, pc):
    return optax.softmax_cross_entropy_with_integer_labels(cl.apply(pc, f.apply(pf, xs)[0])[0], ys).mean()

  def domain_loss(pf, pd):
    h = jnp.concatenate([f.apply(pf, xs)[0], f.apply(pf, xt)[0]])
    return optax.sigmoid_binary_cross_entropy(d.apply(pd, h)[0], jnp.r_[jnp.zeros(len(xs)), jnp.ones(len(xt))]).mean()

  gy_f, gy_c = jax.jit(jax.grad(label_loss, (0, 1)))(f.params, cl.params)
  gd_f, gd_d = jax.jit(jax.grad(domain_loss, (0, 1)))(f.params, d.params)
  expect = {"f": jax.tree.map(lambda a, b: -mu * (a - lam * b), gy_f, gd_f),
            "c": jax.tree.map(lambda a: -mu * a, gy_c), "d": jax.tree.map(lambda a: -mu * a, gd_d)}
  for name, tree in expect.items():
    moved = jax.tree.map(lambda a, b: np.asarray(a, np.float64) - np.asarray(b, np.float64),
                         new.players[name].params, before.players[name].params)
    for got, want in zip(jax.tree.leaves(moved), jax.tree.leaves(tree), strict=True):
      np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-7)
  assert max(float(jnp.abs(x).max()) for x in jax.tree.leaves(gd_f)) > 0  # the domain term does reach f
  x = jnp.arange(6.0).reshape(2, 3)  # forward, the reversal is the identity
  np.testing.assert_array_equal(dann.grad_reverse(x, 0.3), x)


def test_dann_schedules_are_the_papers():
  """Sec. 5.2.2: lambda_p = 2 / (1 + exp(-10 p)) - 1 and mu_p = 0.01 / (1 + 10 p)^0.75."""
  for p in (0.0, 0.25, 1.0):
    np.testing.assert_allclose(dann.adaptation_factor(p), 2 / (1 + np.exp(-10 * p)) - 1, rtol=1e-6)
  cfg = ml_collections.ConfigDict({"name": "sgd", "lr": 0.01, "momentum": 0.0, "anneal_alpha": 10.0,
                                   "anneal_beta": 0.75, "grad_clip": 0.0, "lr_decay_start": 1.0})
  tx = state_lib.optimizer(cfg, num_steps=100)
  opt, grad = tx.init(jnp.zeros(())), jnp.ones(())
  steps = []
  for _ in range(51):
    update, opt = tx.update(grad, opt)
    steps.append(-float(update))
  np.testing.assert_allclose([steps[0], steps[50]], [0.01, 0.01 / (1 + 10 * 0.5) ** 0.75], rtol=1e-5)


@pytest.mark.parametrize("name", ["dann.py", "simgan.py", "pixelda.py", "dtn.py"])
def test_a_step_never_reads_the_target_labels(config_of, tmp_path, name):
  """The loop's own step (compiled once for this and the all-configs test) on a batch and on the
  same batch with the target stream's labels changed: identical states and metrics."""
  c = config_of(name)
  run, step = loop_step(c, tmp_path)
  batch = run.next_batch()
  garbled = {**batch, "target": {**batch["target"], "label": (batch["target"]["label"] + 3) % 10}}
  _, a, ma = step(jax.tree.map(jnp.copy, run.state), batch)
  _, b, mb = step(jax.tree.map(jnp.copy, run.state), garbled)
  for x, y in zip(jax.tree.leaves((a, ma)), jax.tree.leaves((b, mb)), strict=True):
    np.testing.assert_array_equal(x, y)
  moved = lambda new, name: any(not np.array_equal(u, v) for u, v in zip(  # noqa: E731
      jax.tree.leaves(new.players[name].params), jax.tree.leaves(run.state.players[name].params)))
  if name == "dtn.py":  # f trains during its pretraining (g, D wait), then stays fixed while g and D train
    assert moved(a, "f") and not moved(a, "g") and not moved(a, "d")
    _, later, _ = step(jax.tree.map(jnp.copy, run.state.replace(step=jnp.asarray(c.dtn.pretrain_steps))), batch)
    assert not moved(later, "f") and moved(later, "g") and moved(later, "d")
  if name == "simgan.py":  # Algorithm 1: R on the self-regularisation first, D untouched
    assert moved(a, "r") and not moved(a, "d") and float(ma["r/loss"]) == pytest.approx(
        c.simgan.self_reg * float(ma["r/self_reg"]), rel=1e-6)


def test_the_target_only_bound_does_read_the_target_labels(config_of):
  c = config_of("dann.py", "target_only")
  splits = data.load_streams(c)
  train = {k: s.train for k, s in splits.items()}
  batch = {k: {f: jnp.asarray(v) for f, v in t.get(np.arange(c.batch_size)).items()} for k, t in train.items()}
  garbled = {**batch, "target": {**batch["target"], "label": (batch["target"]["label"] + 3) % 10}}
  state = dann.init(c, jax.random.key(0), dann.example_batch(c, train))
  loss = jax.jit(lambda b: dann.train_step(state, b, jax.random.key(1))[1]["c/class_loss"])
  assert float(loss(batch)) != float(loss(garbled))


def test_bad_streams_stop_with_one_line(config_of):
  c = config_of("dann.py")
  grey = sources.from_arrays("grey", {"image": np.zeros((4, 8, 8, 1), np.float32), "label": np.zeros(4, np.int32)}, 10)
  colour = sources.from_arrays("colour", {"image": np.zeros((4, 8, 8, 3), np.float32)})
  with pytest.raises(DataError, match=r"one shape: .* gives \(8, 8, 1\), .* gives \(8, 8, 3\)"):
    adaptation.example_batch(c, {"source": grey, "target": colour}, "dann")
  with pytest.raises(DataError, match="has no labels, but dann"):
    adaptation.example_batch(c, {"source": colour, "target": colour}, "dann")
  c.data.streams = ml_collections.ConfigDict({"a": "digits", "b": "digits"})
  from ganjax.errors import ConfigError

  with pytest.raises(ConfigError, match="data.streams.source"):
    dann.check(c)
  c.data.streams = ml_collections.ConfigDict({"source": "digits", "target": "digits"})
  c.data.holdouts = ml_collections.ConfigDict({"tagret": 10})
  with pytest.raises(DataError, match="data.holdouts names tagret"):
    data.load_streams(c)
  c.data.holdouts = ml_collections.ConfigDict({"target": 100})
  splits = data.load_streams(c)
  assert splits["target"].test.size == 100 and splits["source"].test.size == 359  # digits' default 20%


def test_pixelda_content_loss_is_the_masked_pmse():
  """Eq. 4 against its formula, and its defining property: a constant shift of the foreground costs
  nothing (it penalises differences between pixel pairs), unlike the MSE."""
  rng = np.random.default_rng(0)
  x, g = rng.normal(size=(3, 5, 5, 1)), rng.normal(size=(3, 5, 5, 1))
  m = (rng.random((3, 5, 5, 1)) > 0.5).astype(float)
  want = []
  for xi, gi, mi in zip(x, g, m):
    k, diff = mi.sum(), ((xi - gi) * mi).ravel()
    want.append(diff @ diff / k - (diff.sum()) ** 2 / k**2)
  np.testing.assert_allclose(pixelda.masked_pmse(jnp.asarray(x), jnp.asarray(g), jnp.asarray(m)), np.mean(want), rtol=1e-5)
  assert abs(float(pixelda.masked_pmse(jnp.asarray(x), jnp.asarray(x + 0.7 * m), jnp.asarray(m)))) < 1e-6


def test_dtn_and_simgan_losses_are_the_papers():
  rng = np.random.default_rng(1)
  logits = rng.normal(size=(4, 3))
  p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  for cls in (1, 2, 3):  # -E log D_cls
    np.testing.assert_allclose(dtn.three_way_loss(jnp.asarray(logits), cls), -np.log(p[:, cls - 1]).mean(), rtol=1e-5)
  z = rng.normal(size=(2, 4, 4, 1))
  dx, dy = z[:, :-1, 1:] - z[:, :-1, :-1], z[:, 1:, :-1] - z[:, :-1, :-1]
  np.testing.assert_allclose(dtn.total_variation(jnp.asarray(z)), np.sqrt(dx**2 + dy**2).sum((1, 2, 3)).mean(), rtol=1e-4)
  out = rng.normal(size=(2, 3, 3, 1))  # SimGAN: the refiner's -log(1 - D) summed over every local patch
  d = 1 / (1 + np.exp(-out))
  np.testing.assert_allclose(simgan.patch_sum(optax.sigmoid_binary_cross_entropy(jnp.asarray(out), 0.0)),
                             -np.log(1 - d).sum((1, 2, 3)).mean(), rtol=1e-5)
  x = rng.normal(size=(2, 3, 3, 1))
  np.testing.assert_allclose(simgan.self_regularization(jnp.asarray(x + 0.5), jnp.asarray(x)), 0.5 * 9, rtol=1e-6)


def test_fonts_are_labelled_deterministic_digits():
  a, b = sources.font_digits(40, 16), sources.font_digits(40, 16)
  ra, rb = a.get(np.arange(40)), b.get(np.arange(40))
  np.testing.assert_array_equal(ra["image"], rb["image"])
  assert ra["image"].shape == (40, 16, 16, 1) and set(ra["label"]) <= set(range(10)) and len(set(ra["label"])) > 5
  ink = (ra["image"] > 0).mean((1, 2, 3))
  assert ink.min() > 0.02 and ink.max() < 0.6  # a white digit on black, never an empty or a full frame
  assert len(sources.digit_fonts()) >= 10
