"""Domain adaptation: DANN's gradient reversal, Eq. 18's domain loss and schedules against the paper's
formulas, the bounds' classifier recipes, PixelDA's masked PMSE, DTN's and SimGAN's losses and phases,
SimGAN's Algorithm 1 step, the fields a step must not read (target labels, partner sides) never read,
bad input, the fonts source."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from ganjax import data
from ganjax import state as state_lib
from ganjax.algorithms import adaptation, dann, dtn, pixelda, simgan
from ganjax.data import base, builtin
from ganjax.errors import ConfigError, DataError
from test_translation import loop_step
from tiny import load_config


@pytest.mark.config("dann.py")
def test_dann_update_is_the_papers_saddle_point_step(config_of, tmp_path):
  """Eq. 13-15 on Eq. 18's E = L_y - lambda L_d, with L_y the source rows' mean cross-entropy and L_d
  the source rows' mean logistic loss plus the target rows' mean (n = n' = batch_size):
  theta_f -= mu (dL_y/dtheta_f - lambda dL_d/dtheta_f), theta_y -= mu dL_y/dtheta_y,
  theta_d -= mu dL_d/dtheta_d -- the reversal flips exactly the domain loss's gradient into the
  extractor. The loop's own step, half-way through training (lambda = lambda_0.5) with fresh
  optimizers (SGD's first update is mu_0 times the gradient), against gradients of L_y and L_d
  taken separately, without the reversal layer. G_d is the paper's 100 - 1 (Sec. 5.2, Fig. 4)."""
  c = config_of("dann.py")
  run, step = loop_step(c, tmp_path)
  batch = run.next_batch()
  state = run.state.replace(step=jnp.asarray(c.num_steps // 2, jnp.int32))
  before, new, _ = step(state, batch)
  lam, mu = float(dann.adaptation_factor(0.5, c.dann.gamma)), c.optim.f.lr
  xs, ys, xt = batch["source"]["a"], batch["source"]["label"], batch["target"]["b"]
  f, cl, d = before.f, before.c, before.d
  kernels = [v["kernel"].shape for _, v in sorted(d.params.items())]
  assert kernels == [(kernels[0][0], 100), (100, 1)]

  def label_loss(pf, pc):
    return optax.softmax_cross_entropy_with_integer_labels(cl.apply(pc, f.apply(pf, xs)[0])[0], ys).mean()

  def domain_loss(pf, pd):  # -(1/n) sum_s log(1 - G_d(G_f(x))) - (1/n') sum_t log G_d(G_f(x))
    out_s, out_t = d.apply(pd, f.apply(pf, xs)[0])[0], d.apply(pd, f.apply(pf, xt)[0])[0]
    return -jnp.mean(jnp.log1p(-jax.nn.sigmoid(out_s))) - jnp.mean(jnp.log(jax.nn.sigmoid(out_t)))

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


def test_dann_domain_averages_are_eq_18_and_the_released_codes():
  """"per_stream": Eq. 18's (1/n) sum_s + (1/n') sum_t of the logistic loss; "pooled": the released
  Caffe code's SigmoidCrossEntropyLoss, the sum over the concatenated rows divided by their count
  (n != n' here, so the two differ by more than a factor)."""
  rng = np.random.default_rng(3)
  out_s, out_t = rng.normal(size=5), rng.normal(size=3)
  ls, lt = -np.log(1 - 1 / (1 + np.exp(-out_s))), -np.log(1 / (1 + np.exp(-out_t)))
  for average, want in (("per_stream", ls.mean() + lt.mean()), ("pooled", (ls.sum() + lt.sum()) / 8)):
    np.testing.assert_allclose(dann.domain_loss(jnp.asarray(out_s), jnp.asarray(out_t), average), want, rtol=1e-5)


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


# The fields of each stream a method's step may read; every other one (the target's labels, the other
# domain's side of a paired row: a target row's clean digit "a", an unpaired "a" row's true "b") is unread.
READS = {"dann.py": {"source": ("a", "label"), "target": ("b",)},
         "dtn.py": {"source": ("a", "label"), "target": ("b",)},
         "pixelda.py": {"source": ("a", "label"), "target": ("b",)},
         "simgan.py": {"source": ("image", "label"), "target": ("image",)},
         "cyclegan.py": {"a": ("a",), "b": ("b",)},
         "cartoongan.py": {"a": ("a",), "b": ("b", "b_smooth")}}


def garble(batch, keep):
  """Every field of every stream but those of `keep` changed: labels shifted, images remapped."""
  def change(v):
    return (v + 3) % 10 if jnp.issubdtype(v.dtype, jnp.integer) else 0.3 - 0.7 * v

  return {s: {f: v if f in keep.get(s, ()) else change(v) for f, v in rows.items()} for s, rows in batch.items()}


def moved(new, old, name):
  return any(not np.array_equal(u, v) for u, v in zip(jax.tree.leaves(new.players[name].params),
                                                      jax.tree.leaves(old.players[name].params), strict=True))


@pytest.mark.parametrize("name", sorted(READS))
def test_a_step_reads_only_its_own_fields(config_of, tmp_path, name):
  """The loop's own step (compiled once for this and the all-configs test), at the first step and
  once every phase trains, on a batch and on the same batch with every field it must not read
  garbled: identical states and metrics, bitwise; garbling the fields it reads changes them."""
  c = config_of(name)
  run, step = loop_step(c, tmp_path)
  batch, done = run.next_batch(), {}

  def at(t):  # (state at step t, the state after the step, its metrics) on `batch`, each step run once
    if t not in done:
      state = run.state.replace(step=jnp.asarray(t, jnp.int32))
      done[t] = (state, *step(jax.tree.map(jnp.copy, state), batch)[1:])
    return done[t]

  for t in (0, c.num_steps // 2):  # tiny configs: every pretraining over by num_steps // 2
    state, a, ma = at(t)
    _, b, mb = step(jax.tree.map(jnp.copy, state), garble(batch, READS[name]))
    for x, y in zip(jax.tree.leaves((a, ma)), jax.tree.leaves((b, mb)), strict=True):
      np.testing.assert_array_equal(x, y)
  _, g, _ = step(jax.tree.map(jnp.copy, state), garble(batch, {}))
  assert any(moved(g, a, player) for player in a.players)
  if name in PHASES:
    PHASES[name](c, at)


def dtn_phases(c, at):
  """f trains alone during its pretraining (g, D and the task classifier t on G(x^s) wait), then
  stays fixed while g, D and t train."""
  start, early, _ = at(0)
  assert moved(early, start, "f") and not any(moved(early, start, p) for p in ("g", "d", "t"))
  start, later, _ = at(c.dtn.pretrain_steps)
  assert not moved(later, start, "f") and all(moved(later, start, p) for p in ("g", "d", "t"))


def simgan_phases(c, at):
  """Algorithm 1 and its initialisation: R on the self-regularisation alone (D untouched), then D
  alone (R's parameters and optimizer state held), then both."""
  s = c.simgan
  start, a, ma = at(0)
  assert moved(a, start, "r") and not moved(a, start, "d")
  assert float(ma["r/loss"]) == pytest.approx(s.self_reg * float(ma["r/self_reg"]), rel=1e-6)
  start, b, _ = at(s.pretrain_r)
  assert moved(b, start, "d") and not moved(b, start, "r")
  for u, v in zip(jax.tree.leaves(b.r.opt_state), jax.tree.leaves(start.r.opt_state), strict=True):
    np.testing.assert_array_equal(u, v)
  start, both, _ = at(s.pretrain_r + s.pretrain_d)
  assert moved(both, start, "r") and moved(both, start, "d")


PHASES = {"dtn.py": dtn_phases, "simgan.py": simgan_phases}


def test_simgan_step_is_algorithm_1(config_of, tmp_path):
  """Algorithm 1 once both pretrainings are over, with SGD and no history (D's fake batch is the
  step's own refinements): the K_g refiner updates are gradient steps of Eq. 4 (D fixed), each on a
  fresh synthetic minibatch; then D's loss of Eq. 2 on another minibatch refined by the updated R --
  refined images labelled refined (-log D), real ones real (-log(1 - D)), each summed over the
  patches -- and D's step down its gradient. Networks run here, losses written from the paper. The
  refiner ends in the paper's 1x1 convolution to the image (Sec. 3.1)."""
  c = config_of("simgan.py")
  c.optim.r = ml_collections.ConfigDict({"name": "sgd", "lr": 0.01, "momentum": 0.0})
  c.optim.d = c.optim.r.copy_and_resolve_references()
  c.gan.replay_size = 0
  run, step = loop_step(c, tmp_path)
  batch = run.next_batch()
  s, n, k = c.simgan, c.batch_size, c.simgan.refiner_steps + 1
  before, new, m = step(run.state.replace(step=jnp.asarray(s.pretrain_r + s.pretrain_d, jnp.int32)), batch)
  split = lambda v: jnp.asarray(v).reshape(n, k, *v.shape[1:])  # noqa: E731  minibatch i: rows i, k + i, ...
  xs, real = split(batch["source"]["image"]), split(batch["target"]["image"])[:, k - 1]
  r, d = before.r, before.d
  last = max((name for name in r.params if name.startswith("Conv_")), key=lambda name: int(name[5:]))
  assert r.params[last]["kernel"].shape == (1, 1, c.model.width, xs.shape[-1])  # Sec. 3.1: 1x1 to the image
  per_image = lambda v: jnp.sum(v, axis=(1, 2, 3))  # noqa: E731

  def r_loss(params, x):  # sum over patches of -log(1 - D(R(x))) + lambda ||R(x) - x||_1, batch mean
    refined = r.apply(params, x)[0]
    p_refined = jax.nn.sigmoid(d.apply(d.params, refined)[0])
    return jnp.mean(per_image(-jnp.log1p(-p_refined)) + s.self_reg * per_image(jnp.abs(refined - x)))

  params = r.params
  for i in range(k - 1):
    params = jax.tree.map(lambda p, g: p - 0.01 * g, params, jax.jit(jax.grad(r_loss))(params, xs[:, i]))
  for got, want in zip(jax.tree.leaves(new.r.params), jax.tree.leaves(params), strict=True):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
  refined = r.apply(new.r.params, xs[:, k - 1])[0]

  def d_loss(pd):  # -sum log D(x~) - sum log(1 - D(y)), D the probability of "refined"
    return (jnp.mean(per_image(-jnp.log(jax.nn.sigmoid(d.apply(pd, refined)[0]))))
            + jnp.mean(per_image(-jnp.log1p(-jax.nn.sigmoid(d.apply(pd, real)[0])))))

  np.testing.assert_allclose(m["d/loss"], d_loss(d.params), rtol=1e-5)
  want_d = jax.tree.map(lambda p, g: p - 0.01 * g, d.params, jax.jit(jax.grad(d_loss))(d.params))
  for got, want in zip(jax.tree.leaves(new.d.params), jax.tree.leaves(want_d), strict=True):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", ["pixelda", "dtn", "simgan"])
def test_the_bounds_train_with_a_methods_classifier_recipe(method):
  """configs/dann.py:<bound>:<method>: the label predictor and extractor take `method`'s task-classifier
  optimizer (the same updates as optax's own optimizer of that config), batch, streams and number of
  classifier updates (DTN's t waits for f's pretraining); the plain bounds keep DANN's SGD."""
  m = load_config(f"{method}.py")
  t = m.optim.t
  per_tensor = optax.stateless(lambda u, p: jax.tree.map(  # TF's clip_by_norm on each tensor
      lambda g: g * jnp.minimum(1.0, t.grad_clip / jnp.linalg.norm(g)), u))
  clip = per_tensor if t.get("grad_clip_by", "global") == "tensor" else optax.clip_by_global_norm(t.grad_clip)
  lr = (optax.exponential_decay(t.lr, t.lr_decay_steps, t.lr_decay_rate, staircase=True)
        if t.get("lr_decay_rate") else t.lr)
  want_tx = optax.chain(*([clip] if t.get("grad_clip") else []), optax.adam(lr, b1=t.b1, b2=t.b2, eps=t.eps))
  grads = [{"w": jnp.asarray([0.3, -2.0, 7.0])}, {"w": jnp.asarray([-0.1, 0.5, 1.0])}]
  for bound in ("source_only", "target_only"):
    c = load_config("dann.py", f"{bound}:{method}")
    assert not c.dann.adapt and c.dann.labels == bound.split("_")[0] and c.batch_size == m.batch_size
    assert c.num_steps == m.num_steps - (m.dtn.pretrain_steps if method == "dtn" else 0)
    assert dict(c.data.streams) == dict(m.data.streams) and c.data.image_size == m.data.image_size
    for player in ("f", "c"):
      tx = state_lib.optimizer(c.optim[player], c.num_steps)
      opt, ref = tx.init(grads[0]), want_tx.init(grads[0])
      for g in grads:
        (got, opt), (want, ref) = tx.update(g, opt), want_tx.update(g, ref)
        np.testing.assert_allclose(got["w"], want["w"], rtol=1e-5)
  plain = load_config("dann.py", "source_only")
  assert plain.optim.f.name == "sgd" and plain.batch_size == 64 and plain.dann.recipe == "dann"
  with pytest.raises(ConfigError, match="unknown configs/dann.py argument 'source_only:cyclegan'"):
    load_config("dann.py", "source_only:cyclegan")


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
  grey = base.from_arrays("grey", {"image": np.zeros((4, 8, 8, 1), np.float32), "label": np.zeros(4, np.int32)}, 10, kind="images")
  colour = base.from_arrays("colour", {"image": np.zeros((4, 8, 8, 3), np.float32)}, kind="images")
  with pytest.raises(DataError, match=r"one shape: .* gives \(8, 8, 1\), .* gives \(8, 8, 3\)"):
    adaptation.example_batch(c, {"source": grey, "target": colour}, "dann")
  with pytest.raises(DataError, match="has no labels, but dann"):
    adaptation.example_batch(c, {"source": colour, "target": colour}, "dann")
  c.data.streams = ml_collections.ConfigDict({"a": "digits", "b": "digits"})

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
  a, b = builtin.font_digits(40, 16), builtin.font_digits(40, 16)
  ra, rb = a.get(np.arange(40)), b.get(np.arange(40))
  np.testing.assert_array_equal(ra["image"], rb["image"])
  assert ra["image"].shape == (40, 16, 16, 1) and set(ra["label"]) <= set(range(10)) and len(set(ra["label"])) > 5
  ink = (ra["image"] > 0).mean((1, 2, 3))
  assert ink.min() > 0.02 and ink.max() < 0.6  # a white digit on black, never an empty or a full frame
  assert len(builtin.digit_fonts()) >= 10
