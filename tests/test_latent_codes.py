"""Latent codes and labels: CGAN, InfoGAN, AC-GAN, SGAN, ALI/BiGAN and the time-series data, each
by its defining property, plus their sample pictures and evaluation metrics."""

import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from PIL import Image

from ganjax import metrics, sampling, train
from ganjax.algorithms import acgan, ali, cgan, infogan, sgan
from ganjax.algorithms.common import sample_latent
from ganjax.data import builtin, readers
from ganjax.errors import ConfigError, DataError


def digits_batch(n):
  return {k: jnp.asarray(v) for k, v in builtin.digits().get(np.arange(n)).items()}


def nonzero(tree) -> bool:
  return any(float(jnp.max(jnp.abs(x))) > 0 for x in jax.tree.leaves(tree))


# ---------------------------------------------------------------- InfoGAN

def test_infogan_mi_term_trains_g_and_q(config_of):
  c = config_of("infogan.py")
  batch = digits_batch(c.batch_size)
  state = infogan.init(c, jax.random.key(0), batch)
  cat, cont = infogan.sample_codes(jax.random.key(1), c.batch_size, c)
  z = sample_latent(jax.random.key(2), c.batch_size, c.model)

  def mi(g_params, d_params, q_params):
    x = state.g.apply(g_params, infogan.generator_input(z, cat, cont, c))[0]
    h = infogan.stabilizers.features(state.d, d_params, x)[1]
    return infogan.mi_loss(state.q.apply(q_params, h)[0], cat, cont, c)[0]

  g_grad, d_grad, q_grad = jax.jit(jax.grad(mi, argnums=(0, 1, 2)))(state.g.params, state.d.params, state.q.params)
  # the MI lower bound reaches G through its samples, Q, and D's shared trunk, but not D's own head
  assert nonzero(g_grad) and nonzero(q_grad) and nonzero(d_grad["Dense_0"])
  assert not nonzero(d_grad["Dense_1"])


@pytest.mark.parametrize("variance", ["fixed", "learned"])
def test_infogan_mi_term_is_the_gaussian_and_categorical_likelihood(config_of, variance):
  """-L_I + H(c) = -log Q(c_cat | x) - log Q(c_cont | x) + const, with Q's continuous part a factored
  Gaussian (unit or learned variance), against scipy's densities."""
  from scipy import stats

  c = config_of("infogan.py")
  c.info.continuous_variance, c.info.lambda_cat, c.info.lambda_cont = variance, 1.0, 0.3
  rng = np.random.default_rng(0)
  n, k, m = 16, c.info.categories, c.info.continuous
  cat, cont = rng.integers(0, k, n), rng.uniform(-1, 1, (n, m))
  q = rng.normal(size=(n, k + (2 if variance == "learned" else 1) * m))
  log_softmax = q[:, :k] - np.log(np.exp(q[:, :k]).sum(-1, keepdims=True))
  ce = -np.mean(log_softmax[np.arange(n), cat])
  std = np.exp(0.5 * q[:, k + m:]) if variance == "learned" else np.ones((n, m))
  nll = -np.mean(stats.norm.logpdf(cont, q[:, k:k + m], std).sum(-1)) - m * 0.5 * np.log(2 * np.pi)
  got = infogan.mi_loss(jnp.asarray(q, jnp.float32), jnp.asarray(cat), jnp.asarray(cont, jnp.float32), c)[0]
  np.testing.assert_allclose(got, ce + 0.3 * nll, rtol=1e-5)


@pytest.mark.parametrize("q_step", ["d", "g"])
def test_infogan_q_step_decides_whether_d_sees_the_mi_term(config_of, q_step):
  """q_step="d" (the authors' code): the MI term changes D's update (through the shared trunk);
  q_step="g": D's update is D's GAN loss alone, bitwise. Q learns in both."""
  c = config_of("infogan.py")
  c.info.q_step = q_step
  batch = digits_batch(c.batch_size)
  after = {}
  for lam in (0.0, 1.0):
    c.info.lambda_cat = c.info.lambda_cont = lam
    state = infogan.init(c, jax.random.key(0), batch)
    after[lam] = jax.jit(infogan.train_step)(state, batch, jax.random.key(1))[0]
  same_d = all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(after[0.0].d.params), jax.tree.leaves(after[1.0].d.params)))
  assert same_d == (q_step == "g")
  moved = jax.tree.map(lambda a, b: a - b, after[1.0].q.params, infogan.init(c, jax.random.key(0), batch).q.params)
  assert nonzero(moved)


def test_infogan_codes_and_traversals(config_of):
  c = config_of("infogan.py")
  cat, cont = infogan.sample_codes(jax.random.key(0), 1000, c)
  assert set(np.unique(cat)) == set(range(10)) and cont.shape == (1000, 2)
  assert float(cont.min()) >= -1 and float(cont.max()) <= 1
  state = infogan.init(c, jax.random.key(0), digits_batch(2))
  t = infogan.traversal(state, jax.random.key(3), 0, np.linspace(-2, 2, 5))
  assert t.shape == (10 * 5, 8, 8, 1)
  c.model.discriminator = "mlp"
  with pytest.raises(ConfigError, match="Q head"):
    infogan.check(c)


def test_cluster_accuracy_matches_categories_to_labels():
  labels = np.repeat(np.arange(4), 25)
  perm = np.array([2, 0, 3, 1])
  assert metrics.class_accuracy(perm[labels], labels, "hungarian") == ("cluster_accuracy", 1.0)
  assert metrics.class_accuracy(perm[labels], labels, "identity")[1] < 0.5
  noisy = perm[labels].copy()
  noisy[:10] = (noisy[:10] + 1) % 4
  assert metrics.class_accuracy(noisy, labels, "hungarian")[1] == pytest.approx(0.9)


# ---------------------------------------------------------------- AC-GAN

def log_sigmoid(a):
  """log sigmoid(a) in float64: log P(S = real | X) for a source logit a."""
  return -np.logaddexp(0.0, -np.asarray(a, np.float64))


def log_softmax_at(logits, labels):
  """log softmax(logits)[i, labels[i]] in float64: log P(C = c | X) for class logits (B, K)."""
  a = np.asarray(logits, np.float64)
  a = a - a.max(-1, keepdims=True)
  return (a - np.log(np.exp(a).sum(-1, keepdims=True)))[np.arange(len(a)), np.asarray(labels)]


def conditional_draws(key, n, c):
  """A conditional step's generated rows: classes y uniform over K (`fold_in(key, 1)`), z from the prior
  (`fold_in(key, 0)`), and G's input [z, one_hot(y)]."""
  k = c.model.num_classes
  y = jax.random.randint(jax.random.fold_in(key, 1), (n,), 0, k)
  z = sample_latent(jax.random.fold_in(key, 0), n, c.model)
  return jnp.concatenate([z, jax.nn.one_hot(y, k)], axis=-1), y


def test_acgan_step_is_odena_eq_2_3_on_ds_logits(config_of):
  """Odena et al. 2017, Eq. 2-3, written out from D's 1 + K logits (source l_0, classes l_1..l_K) on
  the step's own draws, X_fake = G(c, z):
      L_S = E log P(S=real | X_real) + E log P(S=fake | X_fake),   P(S=real | X) = sigmoid(l_0),
      L_C = E log P(C=c | X_real) + E log P(C=c | X_fake),         P(C | X) = softmax(l_1..l_K);
  D minimises -L_S - L_C; G minimises -L_C plus its (non-saturating) source term -E log P(S=real | X_fake),
  with the class c it was given, against the updated D."""
  c = config_of("acgan.py")
  n = c.batch_size
  batch = digits_batch(n)
  state = acgan.init(c, jax.random.key(0), batch)
  key = jax.random.key(1)
  new, m = jax.jit(acgan.train_step)(state, batch, key)
  x, y = batch["image"], np.asarray(batch["label"])

  @jax.jit
  def logits(state, new):  # the players in training mode, as the step runs them
    g_in, fake_y = conditional_draws(jax.random.fold_in(key, 0), n, c)
    fake = state.g.apply(state.g.params, g_in)[0]
    real_out, ms = state.d.apply(state.d.params, x)
    fake_out, _ = state.d.apply(state.d.params, fake, model_state=ms)
    g_in, g_y = conditional_draws(jax.random.fold_in(key, 1), n, c)
    g_out = new.d.apply(new.d.params, state.g.apply(state.g.params, g_in)[0])[0]
    return real_out, fake_out, fake_y, g_out, g_y

  real_out, fake_out, fake_y, g_out, g_y = logits(state, new)
  l_s = np.mean(log_sigmoid(real_out[:, 0])) + np.mean(log_sigmoid(-np.asarray(fake_out[:, 0])))
  l_c = np.mean(log_softmax_at(real_out[:, 1:], y)) + np.mean(log_softmax_at(fake_out[:, 1:], fake_y))
  np.testing.assert_allclose(m["d/source"], -l_s, rtol=1e-4)
  np.testing.assert_allclose(m["d/class"], -l_c, rtol=1e-4)
  np.testing.assert_allclose(m["d/loss"], -l_s - l_c, rtol=1e-4)
  np.testing.assert_allclose(m["d/real_class_accuracy"], np.mean(np.argmax(real_out[:, 1:], -1) == y))
  g_source, g_class = -np.mean(log_sigmoid(g_out[:, 0])), -np.mean(log_softmax_at(g_out[:, 1:], g_y))
  np.testing.assert_allclose(m["g/source"], g_source, rtol=1e-4)
  np.testing.assert_allclose(m["g/class"], g_class, rtol=1e-4)
  np.testing.assert_allclose(m["g/loss"], g_source + g_class, rtol=1e-4)


# ---------------------------------------------------------------- conditional GAN

def test_cgan_players_both_see_the_label(config_of):
  c = config_of("cgan.py")
  batch = digits_batch(c.batch_size)
  state = cgan.init(c, jax.random.key(0), batch)
  x = batch["image"]
  out0 = state.d(x, jnp.zeros(c.batch_size, jnp.int32))
  out1 = state.d(x, jnp.ones(c.batch_size, jnp.int32))
  assert not np.allclose(out0, out1)  # D(x | y) depends on y
  rows = cgan.class_rows(state, jax.random.key(1), columns=3)
  assert rows.shape == (30, 8, 8, 1)
  assert not np.allclose(rows[0], rows[3])  # same noise, another class: another image
  np.testing.assert_allclose(rows[0], cgan.class_rows(state, jax.random.key(1), columns=3)[0])
  samples, labels = cgan.generate_labeled(state, jax.random.key(2), 50)
  assert samples.shape == (50, 8, 8, 1) and set(np.unique(labels)) <= set(range(10))


def test_cgan_step_scores_each_sample_with_the_label_g_was_given(config_of):
  """Mirza & Osindero 2014, Eq. 2 on the step's own draws: D's loss is
  -E log D(x | y) - E log(1 - D(G(z | y') | y')) with y' the very label G was given (its one-hot
  appended to z), and G's non-saturating loss -E log D(G(z | y) | y) against the updated D."""
  c = config_of("cgan.py")
  n = c.batch_size
  batch = digits_batch(n)
  state = cgan.init(c, jax.random.key(0), batch)
  key = jax.random.key(2)
  new, m = jax.jit(cgan.train_step)(state, batch, key)

  @jax.jit
  def logits(state, new):
    g_in, fake_y = conditional_draws(jax.random.fold_in(key, 0), n, c)
    real_out, ms = state.d.apply(state.d.params, batch["image"], batch["label"])
    fake_out, _ = state.d.apply(state.d.params, state.g.apply(state.g.params, g_in)[0], fake_y, model_state=ms)
    g_in, g_y = conditional_draws(jax.random.fold_in(key, 1), n, c)
    return real_out, fake_out, new.d.apply(new.d.params, state.g.apply(state.g.params, g_in)[0], g_y)[0]

  real_out, fake_out, g_out = logits(state, new)
  d_loss = -np.mean(log_sigmoid(real_out)) - np.mean(log_sigmoid(-np.asarray(fake_out)))
  np.testing.assert_allclose(m["d/loss"], d_loss, rtol=1e-5)
  np.testing.assert_allclose(m["g/loss"], -np.mean(log_sigmoid(g_out)), rtol=1e-5)


# ---------------------------------------------------------------- semi-supervised GAN

def test_sgan_labeled_set_has_exactly_n_balanced_examples(config_of):
  c = config_of("sgan.py")
  src = builtin.digits()
  picked = sgan.example_batch(c, src)
  assert len(picked["label"]) == c.sgan.num_labeled == 100
  assert np.all(np.bincount(picked["label"], minlength=10) == 10)
  state = sgan.init(c, jax.random.key(0), picked)
  assert state.extra["labeled"]["label"].shape == (100,)
  c.sgan.num_labeled = 15
  with pytest.raises(ConfigError, match="not a multiple"):
    sgan.example_batch(c, src)
  # the released code's labeled batches: each of the 100 exactly once (a permutation); with replacement
  # a batch of 100 from 100 repeats some (P(no repeat) = 100!/100^100)
  once = sgan.labeled_rows(jax.random.key(3), 100, 100, "permutation")
  assert sorted(np.asarray(once).tolist()) == list(range(100))
  assert len(set(np.asarray(sgan.labeled_rows(jax.random.key(3), 100, 100, "replacement")).tolist())) < 100
  c.sgan.num_labeled, c.sgan.labeled_draw, c.sgan.labeled_batch = 100, "permutation", 200
  with pytest.raises(ConfigError, match="labeled_batch=200 <= sgan.num_labeled=100"):
    sgan.init(c, jax.random.key(0), picked)


def test_sgan_never_reads_the_unlabeled_batch_labels(config_of):
  c = config_of("sgan.py")
  c.sgan.labeled_batch = 8
  state = sgan.init(c, jax.random.key(0), sgan.example_batch(c, builtin.digits()))
  batch = digits_batch(c.batch_size)
  garbled = {"image": batch["image"], "label": (batch["label"] + 3) % 10}
  step = jax.jit(sgan.train_step)
  a, ma = step(state, batch, jax.random.key(1))
  b, mb = step(state, garbled, jax.random.key(1))
  for x, y in zip(jax.tree.leaves((a, ma)), jax.tree.leaves((b, mb)), strict=True):
    np.testing.assert_array_equal(x, y)
  # ... while the labeled pool's labels do: the supervised term is -E log softmax(l(x))_y over the step's
  # labeled rows (Salimans et al. Sec. 5), at the pool's labels, whatever they are.
  pool = dict(state.extra["labeled"])
  shifted = {**pool, "label": (pool["label"] + 1) % 10}
  _, mc = step(state.replace(extra={**state.extra, "labeled": shifted}), batch, jax.random.key(1))
  key = jax.random.key(1)
  pick = sgan.labeled_rows(jax.random.fold_in(key, 2), c.sgan.labeled_batch, 100, c.sgan.labeled_draw)
  logits = state.d.apply(state.d.params, pool["image"][pick], rngs={"noise": jax.random.fold_in(key, 100)})[0]
  for labels, metrics_ in ((pool["label"], ma), (shifted["label"], mc)):
    np.testing.assert_allclose(metrics_["d/supervised"], -np.mean(log_softmax_at(logits, np.asarray(labels)[pick])),
                               rtol=1e-5)


def test_sgan_the_released_codes_options(config_of):
  """The code's choices as options: G matches a second unlabeled batch (`sgan.fm_batch="second"`:
  D's loss never reads those rows, G's does), D's data-dependent initialisation on N random training
  images (`sgan.init_images`: their pre-activations standardised), G's hidden weights Glorot-uniform
  (`model.weight_init="glorot"`, Lasagne's default), and the feature-matching mean over features."""
  from ganjax import algorithms, stabilizers
  from ganjax.networks import salimans

  c = config_of("sgan.py")
  c.sgan.labeled_batch, c.sgan.fm_batch, c.sgan.init_images = 8, "second", 40
  c.sgan.noisy_init, c.model.pixel_range = False, "signed"  # clean init on the pixels as given, to check by hand
  c.gan.feature_matching_reduction = "sum"
  src = builtin.digits()
  assert algorithms.rows_per_step(sgan, c) == 2 * c.batch_size
  example = sgan.example_batch(c, src)
  assert example["init_image"].shape[0] == 40 and len(example["label"]) == c.sgan.num_labeled
  state = sgan.init(c, jax.random.key(0), example)
  x = jnp.asarray(example["init_image"]).reshape((40, -1))
  v, scale = state.d.params["WNDense_0"]["v"], state.d.model_state["weight_norm"]["WNDense_0"]["scale"]
  a = x @ (v * scale / jnp.sqrt(jnp.sum(v**2, 0))) + state.d.params["WNDense_0"]["bias"]
  np.testing.assert_allclose(jnp.mean(a, 0), 0, atol=1e-4)
  np.testing.assert_allclose(jnp.std(a, 0), 1, rtol=1e-3)
  rows = digits_batch(2 * c.batch_size)
  other = {**rows, "image": rows["image"].at[1::2].set(-rows["image"][1::2])}  # only G's rows change
  step = jax.jit(sgan.train_step)
  key = jax.random.key(1)
  s1, m1 = step(state, rows, key)
  s2, m2 = step(state, other, key)
  assert float(m1["d/loss"]) == float(m2["d/loss"])
  # G's loss: sum_f (E f(x) - E f(G(z)))^2 on the updated D's last hidden layer, x the second batch's rows
  fake = state.g.apply(state.g.params, sample_latent(jax.random.fold_in(key, 1), c.batch_size, c.model))[0]

  def features(d, x, salt):
    variables = {"params": d.params, **d.model_state}
    _, inter = d.apply_fn(variables, x, train=True, mutable=["intermediates", *d.model_state],
                          rngs={"noise": jax.random.fold_in(key, salt)})
    return np.asarray(inter["intermediates"]["features"][0], np.float64)

  for new, images, metrics_ in ((s1, rows["image"], m1), (s2, other["image"], m2)):
    gap = features(new.d, images[1::2], 105).mean(0) - features(new.d, fake, 106).mean(0)
    np.testing.assert_allclose(metrics_["g/loss"], np.sum(gap**2), rtol=1e-4)
  c.gan.feature_matching_reduction = "mean"  # the same step's G loss over the features' count
  _, m3 = jax.jit(sgan.train_step)(sgan.init(c, jax.random.key(0), example), rows, jax.random.key(1))
  np.testing.assert_allclose(float(m3["g/loss"]), float(m1["g/loss"]) / c.model.d_hidden[-1], rtol=1e-5)
  c.sgan.fm_batch = "third"
  with pytest.raises(ConfigError, match="unknown sgan.fm_batch 'third'"):
    sgan.init(c, jax.random.key(0), example)
  kernels = {}
  for init in ("glorot", "lecun"):
    g = salimans.Generator(out_shape=(4, 4, 1), hidden=(300, 200), hidden_init=init)
    kernels[init] = g.init(jax.random.key(0), jnp.zeros((2, 100)), train=False)["params"]["Dense_0"]["kernel"]
  bound = np.sqrt(6 / (100 + 300))  # Glorot-uniform on [-b, b], std b / sqrt(3); lecun normal std 1 / sqrt(100)
  assert float(jnp.max(jnp.abs(kernels["glorot"]))) <= bound
  assert abs(float(jnp.std(kernels["glorot"])) / (bound / np.sqrt(3)) - 1) < 0.03
  assert abs(float(jnp.std(kernels["lecun"])) * 10 - 1) < 0.03
  real, fake = np.random.default_rng(0).normal(size=(2, 6, 5))
  want = ((real.mean(0) - fake.mean(0))**2)
  real, fake = jnp.asarray(real), jnp.asarray(fake)
  np.testing.assert_allclose(stabilizers.feature_matching_loss(real, fake, "mean"), want.mean(), rtol=1e-5)
  np.testing.assert_allclose(stabilizers.feature_matching_loss(real, fake), want.sum(), rtol=1e-5)


def test_salimans_discriminator_weight_norm_data_init_and_noise():
  """Salimans & Kingma's weight normalisation, W = g v / ||v||, with the data-dependent init (each
  layer's pre-activations standardised on the init batch: clean by default, with D's noise on as in
  the code with `noisy_init`), fixed hidden scales, a trained output scale, and Gaussian noise only
  when an rng named "noise" is given."""
  from ganjax.networks import salimans

  x = jnp.asarray(np.random.default_rng(0).normal(size=(64, 20)), jnp.float32)
  d = salimans.Discriminator(hidden=(16, 8), num_outputs=3)
  variables = d.data_init(d.init(jax.random.key(0), x, train=False), x)
  p, wn = variables["params"], variables["weight_norm"]
  v, g, b = (np.asarray(a, np.float64) for a in (p["WNDense_0"]["v"], wn["WNDense_0"]["scale"], p["WNDense_0"]["bias"]))
  a = np.asarray(x, np.float64) @ (v * g / np.linalg.norm(v, axis=0)) + b
  np.testing.assert_allclose(a.mean(0), 0, atol=1e-4)
  np.testing.assert_allclose(a.std(0), 1, rtol=1e-3)
  assert "scale" not in p["WNDense_0"] and "scale" in p["WNDense_2"]  # hidden scales fixed, the output's trained
  out = d.apply(variables, x, train=False)
  np.testing.assert_allclose(np.asarray(out).std(0), 1, rtol=1e-3)  # the logits are standardised too
  np.testing.assert_array_equal(out, d.apply(variables, x, train=True))  # no rng: no noise
  assert not np.allclose(out, d.apply(variables, x, train=True, rngs={"noise": jax.random.key(1)}))
  # the code's initialisation pass runs with the noise on: the first layer's scale then normalises
  # x v/||v|| + noise, whose variance is the clean one plus sigma_in^2 (a unit direction)
  big = jnp.asarray(np.random.default_rng(1).normal(size=(4000, 20)), jnp.float32)
  loud = salimans.Discriminator(hidden=(16, 8), num_outputs=3, noisy_init=True)
  noisy = loud.data_init(loud.init(jax.random.key(0), big, train=False), big, key=jax.random.key(2))
  v = np.asarray(noisy["params"]["WNDense_0"]["v"], np.float64)
  clean_var = (np.asarray(big, np.float64) @ (v / np.linalg.norm(v, axis=0))).var(0)
  np.testing.assert_allclose(noisy["weight_norm"]["WNDense_0"]["scale"], 1 / np.sqrt(clean_var + d.input_noise**2),
                             rtol=0.05)
  clean = d.data_init(d.init(jax.random.key(0), big, train=False), big, key=jax.random.key(2))  # the default
  np.testing.assert_allclose(clean["weight_norm"]["WNDense_0"]["scale"], 1 / np.sqrt(clean_var), rtol=1e-3)


def test_salimans_unit_pixels_are_the_codes_sigmoid_and_input_noise(config_of):
  """model.pixel_range="unit" (openai/improved-gan: [0, 1] pixels, G's sigmoid, D's input noise 0.3):
  G returns 2 sigmoid(a) - 1 where the signed G returns tanh(a); D reads (x + 0.6 e + 1) / 2, which is
  the code's u + 0.3 e on u = (x + 1) / 2 with the same draw e; the config sets both players."""
  from ganjax.algorithms import common
  from ganjax.errors import ConfigError
  from ganjax.networks import salimans

  z = jax.random.uniform(jax.random.key(0), (6, 10))
  signed, unit = salimans.Generator((4, 4, 1), hidden=(8,)), salimans.Generator((4, 4, 1), hidden=(8,), unit_pixels=True)
  v = signed.init(jax.random.key(1), z)
  a = np.arctanh(np.clip(np.asarray(signed.apply(v, z, mutable=["batch_stats"])[0], np.float64), -1 + 1e-7, 1 - 1e-7))
  np.testing.assert_allclose(unit.apply(v, z, mutable=["batch_stats"])[0], 2 / (1 + np.exp(-a)) - 1, atol=1e-5)
  x = jax.random.uniform(jax.random.key(2), (6, 4, 4, 1), minval=-1, maxval=1)
  d_unit = salimans.Discriminator(hidden=(8,), num_outputs=3, unit_pixels=True)  # input noise 0.6, the default
  d_code = salimans.Discriminator(hidden=(8,), num_outputs=3, input_noise=0.3)  # the code's, on [0, 1]
  dv = d_code.init(jax.random.key(3), x, train=False)
  rngs = {"noise": jax.random.key(4)}
  np.testing.assert_allclose(d_unit.apply(dv, x, rngs=rngs), d_code.apply(dv, (x + 1) / 2, rngs=rngs), rtol=1e-5, atol=1e-6)
  c = config_of("sgan.py")
  c.model.pixel_range = "unit"
  assert common.generator_network(c, (28, 28, 1)).unit_pixels and common.discriminator_network(c).unit_pixels
  c.model.pixel_range = "bytes"
  with pytest.raises(ConfigError, match="unknown model.pixel_range 'bytes'; valid: signed, unit"):
    common.discriminator_network(c)


def test_sgan_test_time_average_of_d(config_of):
  """sgan.d_average: a <- a + r (theta - a) from 0 after every step; held-out images are classified
  with a / (1 - (1 - r)^t)."""
  c = config_of("sgan.py", steps=2)
  c.sgan.d_average = 0.5
  state = sgan.init(c, jax.random.key(0), sgan.example_batch(c, builtin.digits()))
  batch = digits_batch(c.batch_size)
  step = jax.jit(sgan.train_step)
  s1 = step(state, batch, jax.random.key(1))[0]
  s2 = step(s1, batch, jax.random.key(2))[0]
  want = jax.tree.map(lambda p1, p2: (0.25 * p1 + 0.5 * p2) / 0.75, s1.d.params, s2.d.params)
  for got, w in zip(jax.tree.leaves(sgan.test_params(s2)), jax.tree.leaves(want)):
    np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)


def test_sgan_unsupervised_loss_is_the_k_plus_one_class_gan_loss():
  rng = np.random.default_rng(0)
  real, fake = jnp.asarray(rng.normal(size=(5, 3))), jnp.asarray(rng.normal(size=(4, 3)))
  d = lambda l: np.exp(l).sum(-1) / (np.exp(l).sum(-1) + 1)  # noqa: E731
  expected = -np.mean(np.log(d(np.asarray(real)))) - np.mean(np.log(1 - d(np.asarray(fake))))
  np.testing.assert_allclose(sgan.unsupervised_loss(real, fake), expected, rtol=1e-5)


def test_sgan_torch_port_initialises_as_weight_normalisation_says_and_trains(tmp_path):
  """launch/sgan_torch.py (Salimans et al.'s released MNIST script ported to PyTorch, a diagnostic):
  after its D's data-dependent initialisation every layer's pre-activations on the init batch have
  zero mean and unit variance (Salimans & Kingma 2016, Sec. 3: g <- g / sigma, b <- -mu / sigma),
  recomputed here from theta, the scales and the biases; ganjax's initialised D and G, copied into
  the port's, give ganjax's logits and samples; a tiny run writes one row per evaluation."""
  torch = pytest.importorskip("torch")  # optional: `pip install -e '.[bench]'`
  import importlib.util
  import subprocess
  import sys

  from tiny import ROOT

  spec = importlib.util.spec_from_file_location("sgan_torch", ROOT / "launch" / "sgan_torch.py")
  port = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(port)
  gen = torch.Generator().manual_seed(0)
  d, _ = port.build(torch, 64, 10, gen)
  x = torch.randn((300, 64), generator=gen) * 3 + 1
  port.discriminate(torch, d, x, 0.0, gen, noise=False, init=True)
  h = x
  for layer in d:
    theta = layer["theta"].detach().numpy()
    w = theta * layer["scale"].detach().numpy() / np.sqrt((theta**2).sum(0))
    a = h.numpy() @ w + layer["b"].detach().numpy()
    np.testing.assert_allclose(a.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(a.std(0), 1, rtol=1e-3)
    h = torch.relu(torch.from_numpy(a))
  # the same networks: ganjax's initialised D and G, copied into the port, give ganjax's outputs
  from tiny import load_config

  c = load_config("sgan.py")
  c.model.pixel_range = "signed"
  state = sgan.init(c, jax.random.key(0), sgan.example_batch(c, builtin.digits()))
  dp, scales, gp = state.d.params, state.d.model_state["weight_norm"], state.g.params
  tt = lambda a: torch.from_numpy(np.array(a, np.float32))  # noqa: E731
  layers = [dp[f"WNDense_{i}"] for i in range(len(dp))]
  d = [{"theta": tt(p["v"]), "b": tt(p["bias"]),
        "scale": tt(p["scale"] if "scale" in p else scales[f"WNDense_{i}"]["scale"])} for i, p in enumerate(layers)]
  x = jnp.asarray(builtin.digits().get(np.arange(50))["image"])
  np.testing.assert_allclose(port.discriminate(torch, d, tt(x).reshape(50, -1), 0.6, gen, noise=False).numpy(),
                             state.d.apply(dp, x, train=False)[0], atol=2e-5)
  z = sample_latent(jax.random.key(1), 50, c.model)
  g = {"w1": tt(gp["Dense_0"]["kernel"]), "b1": tt(gp["BatchNorm_0"]["bias"]), "w2": tt(gp["Dense_1"]["kernel"]),
       "b2": tt(gp["BatchNorm_1"]["bias"]), "w3": tt(gp["out_v"]), "s3": tt(gp["out_scale"]), "b3": tt(gp["out_bias"])}
  np.testing.assert_allclose(port.generate(torch, g, tt(z), unit=False).numpy(),
                             np.asarray(state.g.apply(gp, z)[0]).reshape(50, -1), atol=2e-5)
  out = tmp_path / "curve.jsonl"
  subprocess.run([sys.executable, str(ROOT / "launch" / "sgan_torch.py"), "--config=configs/sgan.py",
                  "--config.batch_size=20", "--config.num_steps=2", "--eval_every=1", f"--out={out}"],
                 cwd=ROOT, check=True, capture_output=True, timeout=600)
  rows = [json.loads(line) for line in out.read_text().splitlines()]
  assert [r["step"] for r in rows] == [1, 2] and rows[1]["train_seconds"] >= rows[0]["train_seconds"] > 0
  assert all(0 <= r["test_accuracy"] <= 1 and 0 <= r["test_accuracy_raw"] <= 1 for r in rows)
  assert all(np.isfinite([r["d/supervised"], r["d/unsupervised"], r["g/loss"]]).all() for r in rows)


# ---------------------------------------------------------------- ALI / BiGAN

def sgd(lr):
  return ml_collections.ConfigDict({"name": "sgd", "lr": lr, "momentum": 0.0, "grad_clip": 0.0})


@pytest.mark.parametrize("arg", [None, "bigan"])
def test_ali_d_scores_the_encoder_and_generator_pairs_and_e_learns_through_d(config_of, arg):
  """Dumoulin et al. 2016, Eq. 1-2 (Donahue et al. 2016 for BiGAN) on the step's own draws: D's loss is
  -E log D(x, E(x)) - E log(1 - D(G(z), z)), with E(x) = mu(x) + sigma(x) eps (ALI) or mu(x) (BiGAN);
  then G and E take one step on -E log(1 - D'(x, E(x))) - E log D'(G(z), z) against the updated D'.
  E's gradient reaches it only through D's score of the real pair: with SGD(eta) for G and E, their
  updates are -eta times the gradients of that objective, written out here and differentiated."""
  c = config_of("ali.py", arg)
  if arg == "bigan":  # BiGAN's MNIST recipe: batch norm in the MLP generator, weight decay, U[-1, 1]^50 codes
    assert c.optim.g.weight_decay == 2.5e-5 and c.model.latent_dist == "uniform" and not c.ali.stochastic_encoder
  eta, n = 0.1, c.batch_size
  c.optim.g, c.optim.e = sgd(eta), sgd(eta)
  batch = digits_batch(n)
  state = ali.init(c, jax.random.key(0), batch)
  x = batch["image"]
  key = jax.random.key(1)
  new, m = jax.jit(ali.train_step)(state, batch, key)
  z = sample_latent(jax.random.fold_in(key, 0), n, c.model)

  def pair_logits(d, g_params, e_params):  # D's logits for (x, E(x)) and (G(z), z)
    (mu, logvar), _ = state.e.apply(e_params, x)
    code = mu + jnp.exp(0.5 * logvar) * jax.random.normal(jax.random.fold_in(key, 1), mu.shape) \
        if c.ali.stochastic_encoder else mu
    return d.apply(d.params, x, code)[0], d.apply(d.params, state.g.apply(g_params, z)[0], z)[0]

  @jax.jit
  def expected(state, new):
    def ge_objective(params):
      real, fake = pair_logits(new.d, params["g"], params["e"])
      return -jnp.mean(jnp.log1p(-jax.nn.sigmoid(real))) - jnp.mean(jnp.log(jax.nn.sigmoid(fake)))

    return pair_logits(state.d, state.g.params, state.e.params), jax.grad(ge_objective)(
        {"g": state.g.params, "e": state.e.params})

  (real, fake), grads = expected(state, new)
  np.testing.assert_allclose(m["d/loss"], -np.mean(log_sigmoid(real)) - np.mean(log_sigmoid(-np.asarray(fake))),
                             rtol=1e-5)
  for name in ("g", "e"):
    for old, upd, grad in zip(jax.tree.leaves(state.players[name].params), jax.tree.leaves(new.players[name].params),
                              jax.tree.leaves(grads[name]), strict=True):
      np.testing.assert_allclose(upd - old, -eta * grad, rtol=1e-3, atol=1e-7)
  assert ali.reconstruct(new, x).shape == x.shape
  if arg == "bigan":
    assert "batch_stats" in state.g.model_state and nonzero(jax.tree.map(
        lambda a, b: a - b, new.g.model_state["batch_stats"], state.g.model_state["batch_stats"]))
    from ganjax.algorithms.common import generator_network
    c.model.generator = "dcgan"
    with pytest.raises(ConfigError, match="model.g_batch_norm is the MLP generator's option"):
      generator_network(c, x.shape[1:])


# ---------------------------------------------------------------- sample pictures

@pytest.mark.parametrize("name,pictures", [
    ("cgan.py", {"classes": (10, 10)}),
    ("infogan.py", {"traversal_c1": (10, 10), "traversal_c2": (10, 10)}),
    ("ali.py", {"reconstructions": None}),
    ("timeseries_infogan.py", {"traversal_c1": None}),
])
def test_sample_mode_writes_the_method_pictures(tmp_path, config_of, name, pictures):
  c = config_of(name)  # the all-configs test's tiny run: its compiled programs
  train.train(c, tmp_path)
  paths = sampling.sample(c, tmp_path)
  for picture, grid in pictures.items():
    img = Image.open(paths[picture])
    if grid:  # rows x columns of 8x8 images with a 1-pixel border, upscaled 4x
      rows, cols = grid
      assert img.size == (4 * (cols * 9 + 1), 4 * (rows * 9 + 1))


# ---------------------------------------------------------------- time-series data

def test_signals_dataset_has_four_labeled_families():
  src = builtin.signals(0, size=400, length=32)
  x = src.get(np.arange(400))
  assert x["image"].shape == (400, 32, 2) and src.num_classes == 4
  assert np.abs(x["image"]).max() <= 1.0
  assert np.all(np.bincount(x["label"], minlength=4) > 50)
  np.testing.assert_array_equal(builtin.signals(0, size=400, length=32).get(np.arange(5))["image"], x["image"][:5])
  square = x["image"][x["label"] == 1][:, :, 0]  # square waves sit near +-amp, not in between
  assert np.mean(np.abs(square) > 0.45) > 0.9


def test_csv_windows(tmp_path):
  t = np.arange(100)
  rows = ["a,b,label"] + [f"{np.sin(i / 5):.4f},{i},{int(i >= 50)}" for i in t]
  path = tmp_path / "series.csv"
  path.write_text("\n".join(rows))
  src = readers.csv_windows(path, window=20, stride=10)
  x = src.get(np.arange(src.size))
  assert src.size == 9 and x["image"].shape == (9, 20, 2)
  assert x["image"].min() >= -1 and x["image"].max() <= 1
  np.testing.assert_allclose(x["image"][0, :, 1], (2 * np.arange(20) / 99 - 1), rtol=1e-5)  # min-max scaled
  np.testing.assert_array_equal(x["label"], [0, 0, 0, 0, 0, 1, 1, 1, 1])
  bad = tmp_path / "bad.csv"
  bad.write_text("1,2\n3,x\n")
  with pytest.raises(DataError, match="non-numeric"):
    readers.csv_windows(bad, window=1)
  with pytest.raises(DataError, match="fewer than one window"):
    readers.csv_windows(path, window=500)


def test_label_conditioned_layer_appends_label_maps():
  from ganjax.networks.layers import LabelConditioned
  import flax.linen as nn

  class Probe(nn.Module):
    @nn.compact
    def __call__(self, x, train=True):
      return x

  out = LabelConditioned(Probe(), 3).apply({}, jnp.zeros((2, 4, 4, 1)), jnp.array([0, 2]))
  assert out.shape == (2, 4, 4, 4)
  np.testing.assert_array_equal(out[1, :, :, 1:], np.broadcast_to([0, 0, 1], (4, 4, 3)))



@pytest.mark.config("timeseries_infogan.py")
def test_infogan_codes_diagnostic_on_a_trained_run(tmp_path, config_of):
  """launch/infogan_codes.py on a tiny time-series InfoGAN: the code's accuracy equals the evaluation's
  cluster_accuracy, the nuisance is each window's dominant frequency, one entry per category."""
  import importlib.util

  from tiny import ROOT

  c = config_of("timeseries_infogan.py")
  c.eval_every = 0
  train.train(c, tmp_path)
  spec = importlib.util.spec_from_file_location("codes", ROOT / "launch" / "infogan_codes.py")
  codes = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(codes)
  out = codes.analyse(str(tmp_path))
  assert out["accuracy_vs_labels"] == json.load(open(tmp_path / "eval.json"))["cluster_accuracy"]
  assert out["nuisance"] == "dominant frequency" and len(out["category_majority_label_and_purity"]) == 4
  assert 0.0 <= out["linear_probe_d_features"] <= 1.0 and 0.0 <= out["nmi_vs_labels"] <= 1.0
  # the frequency estimate: a pure 3-cycle sine has its peak at FFT bin 3
  t = np.arange(64) / 64
  assert codes.nuisance(np.sin(2 * np.pi * 3 * t)[None, :, None])[1][0] == 3
  # the objective where training ended: the last training row the tiny run logged (step 4)
  row = [json.loads(r) for r in open(tmp_path / "metrics.jsonl") if "q/categorical_ce" in r][-1]
  np.testing.assert_allclose(out["objective_at_end"]["mi_bound_categorical"], np.log(4) - row["q/categorical_ce"], rtol=1e-6)
  # on a written log: the mean over the last tenth of the training rows (evaluation rows skipped),
  # the bound ln 10 - CE and its fraction of ln 10 (2.302585...)
  log = tmp_path / "log"
  log.mkdir()
  rows = [{"step": s, "q/categorical_ce": s / 100, "d/adversarial": float(s)} for s in range(1, 21)]
  rows.insert(10, {"step": 10, "eval/cluster_accuracy": 0.5})
  (log / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
  end = codes.objective_at_end(str(log), 10)
  assert end["steps"] == [19, 20] and end["d_adversarial"] == 19.5
  np.testing.assert_allclose([end["mi_bound_categorical"], end["mi_bound_fraction_of_log_k"]],
                             [2.302585093 - 0.195, (2.302585093 - 0.195) / 2.302585093], rtol=1e-8)


def test_infogan_torch_reference_trains_and_scores_the_same_split(tmp_path):
  """launch/infogan_torch.py: a tiny run writes one curve row per evaluation (Hungarian accuracy on
  the held-out split); its "normal" initialisation is the authors' N(0, 0.02) and its "torch"
  weights are ganjax's weight_init="torch" bounds, layer by layer (PyTorch's own defaults)."""
  torch = pytest.importorskip("torch")  # optional: `pip install -e '.[bench]'`
  import subprocess
  import sys

  from tiny import ROOT, load_config

  from ganjax import networks
  from ganjax.tools.bench_torch import _infogan, init_weights

  out = tmp_path / "curve.jsonl"
  subprocess.run([sys.executable, str(ROOT / "launch" / "infogan_torch.py"), "--config=configs/infogan.py",
                  "--config.batch_size=8", "--config.num_steps=2", "--eval_every=1", "--init=normal", f"--out={out}"],
                 cwd=ROOT, check=True, capture_output=True, timeout=600)
  rows = [json.loads(line) for line in out.read_text().splitlines()]
  assert [r["step"] for r in rows] == [1, 2] and rows[1]["train_seconds"] >= rows[0]["train_seconds"] > 0
  c = load_config("infogan.py")
  # the Hungarian accuracy of argmax_c Q(c | x) on the held-out split the run loads: a count of its images over
  # their number (`test_cluster_accuracy_matches_categories_to_labels` checks the matching itself)
  from ganjax import data

  held_out = data.load(c).test.size
  for r in rows:
    count = r["cluster_accuracy"] * held_out
    assert 0 <= r["cluster_accuracy"] <= 1 and abs(count - round(count)) < 1e-6
  c.model.width, c.model.fc_width = 16, 256
  g, trunk, _, _ = _infogan(torch, torch.nn, c, (8, 8, 1))
  torch_bounds = [float(p.detach().abs().max()) for m in (g, trunk) for p in m.parameters() if p.dim() >= 2]
  init_weights(torch, torch.nn, trunk, "normal")
  assert abs(float(trunk[-3].weight.detach().std()) - 0.02) < 0.002  # D's FC layer
  width = c.model.latent_dim + c.info.categories + c.info.continuous
  gv = networks.generator("infogan", out_shape=(8, 8, 1), width=16, fc_width=256, weight_init="torch").init(
      jax.random.key(0), jnp.zeros((2, width)), train=False)["params"]
  dv = networks.discriminator("infogan", width=16, fc_width=256, weight_init="torch").init(
      jax.random.key(0), jnp.zeros((2, 8, 8, 1)), train=False)["params"]
  ours = [gv["Dense_0"], gv["Dense_1"], gv["ConvTranspose_0"], gv["ConvTranspose_1"], dv["Conv_0"], dv["Conv_1"], dv["Dense_0"]]
  for theirs, mine in zip(torch_bounds, ours):  # the same U(+-b) in both: the largest |w| of each within 15%
    assert abs(float(np.abs(mine["kernel"]).max()) / theirs - 1) < 0.15, (theirs, float(np.abs(mine["kernel"]).max()))
