"""Whole steps of the token-sequence methods against their papers' equations, recomputed here in numpy from
the players' outputs on the step's own random draws (the module's key derivations reproduced, nothing of
its losses or unrolls called): TextGAN's two objectives (Zhang et al. 2017, Eq. 2-3), the Gumbel-softmax
GAN's temperature schedule and the temperature its step uses (Kusner & Hernandez-Lobato 2016), and
NLL_oracle (Yu et al. 2017) against the oracle LSTM stepped token by token in numpy."""

from __future__ import annotations

import math
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import algorithms, data
from ganjax.algorithms import gsgan, textgan
from ganjax.data import sequences as data_seq
from ganjax.metrics import sequences as seq_metrics
from tiny import load_config


def _built(c):
  """(state, batch) of the tiny config `c`: its data's first batch_size rows, the method's init."""
  method = algorithms.get(c.algorithm)
  split = data.load(c)
  example = method.example_batch(c, split.train)  # fixes model.vocab_size / seq_len from the data
  state = jax.jit(lambda k, e: method.init(c, k, e))(jax.random.key(0), example)
  return state, {"tokens": jnp.asarray(split.train.get(np.arange(c.batch_size))["tokens"])}


def _f64(x):
  return np.asarray(x, np.float64)


def _log_sigmoid(v):
  return -np.logaddexp(0.0, -_f64(v))


def _softmax(v):
  v = _f64(v)
  e = np.exp(v - v.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def _mmd2(x, y, sigmas):
  """Gretton et al. (2012)'s biased estimate MMD_b^2 (every pair, i = j included) under the kernel
  k(a, b) = sum_s exp(-||a - b||^2 / (2 s^2)), as a double loop."""
  x, y = _f64(x), _f64(y)
  k = lambda a, b: sum(math.exp(-np.sum((a - b)**2) / (2.0 * s * s)) for s in sigmas)  # noqa: E731
  mean_k = lambda p, q: sum(k(a, b) for a in p for b in q) / (len(p) * len(q))  # noqa: E731
  return mean_k(x, x) + mean_k(y, y) - 2.0 * mean_k(x, y)


def _unroll(g, params, z, length, relax):
  """G's relaxed sentence (B, T, V), stepping its cell in Python: each step's row relax(t, logits), fed
  back as the next input (embedded as row @ E); the start token 0 first, as a one-hot row."""
  cell = jax.jit(lambda carry, x: g.apply_fn({"params": params}, carry, x))  # one step of the LSTM
  carry = g.apply_fn({"params": params}, z, method="initial")
  x = jax.nn.one_hot(jnp.zeros(z.shape[0], jnp.int32), params["embedding"].shape[0])
  rows = []
  for t in range(length):
    carry, logits = cell(carry, x)
    rows.append(relax(t, _f64(logits)))
    x = jnp.asarray(rows[-1], jnp.float32)
  return np.stack(rows, axis=1)


def _d_of(d, key):
  """D's outputs in training mode, each call with the step's dropout key fold_in(key, 10 + salt)."""
  apply = jax.jit(lambda params, x, k: d.apply(params, x, train=True, rngs={"dropout": k})[0])
  return lambda params, x, salt: apply(params, x, jax.random.fold_in(key, 10 + salt))


# ---------------------------------------------------------------- TextGAN (Zhang et al. 2017, Eq. 2-3)

def _mmd2_unbiased(x, y, sigmas):
  """Gretton et al.'s unbiased MMD_u^2 (their Lemma 6: the i = j pairs left out), which the step does not use."""
  x, y = _f64(x), _f64(y)
  k = lambda a, b: sum(math.exp(-np.sum((a - b)**2) / (2.0 * s * s)) for s in sigmas)  # noqa: E731
  pairs = lambda p: [(a, b) for i, a in enumerate(p) for j, b in enumerate(p) if i != j]  # noqa: E731
  within = lambda p: sum(k(a, b) for a, b in pairs(p)) / (len(p) * (len(p) - 1))  # noqa: E731
  return within(x) + within(y) - 2.0 * sum(k(a, b) for a in x for b in y) / (len(x) * len(y))


def test_textgan_step_losses_are_eq2_and_eq3_on_the_steps_draws(config_of):
  """One jitted adversarial step: d/loss is -(L_GAN - lambda_r L_recon + lambda_m MMD^2) of the old D on the
  data and G's soft-argmax sentences (D maximises Eq. 2's L_D), g/loss the MMD^2 of the updated D's
  features (Eq. 3), both recomputed from the players' outputs: z from fold_in(key, 0), dropout salts 0 / 1
  for D's real / fake calls and 2 / 3 for G's; the sentence y_t = softmax(L logits_t) fed back (Sec. 2.2)."""
  c = config_of("textgan.py")
  c.textgan.pretrain_g_steps = 0  # the first step is adversarial
  c.textgan.lambda_r, c.textgan.lambda_m = 0.7, 2.0  # unequal weights: a swapped or dropped term shows
  c.textgan.sigmas = (0.5, 2.0, 8.0)
  p, key = c.textgan, jax.random.key(7)
  state, batch = _built(c)
  new, m = jax.jit(textgan.train_step, static_argnums=3)(state, batch, key, textgan.phase(c, 0))
  n, length = batch["tokens"].shape
  z = jax.random.normal(jax.random.fold_in(key, 0), (n, c.model.latent_dim))
  real = jax.nn.one_hot(batch["tokens"], c.model.vocab_size)
  soft_argmax = lambda t, logits: _softmax(p.inverse_temperature * logits)  # noqa: E731
  fake = jnp.asarray(_unroll(state.g, state.g.params, z, length, soft_argmax), jnp.float32)
  d_of = _d_of(state.d, key)
  real_out, real_f, _ = d_of(state.d.params, real, 0)
  fake_out, fake_f, z_hat = d_of(state.d.params, fake, 1)
  l_gan = np.mean(_log_sigmoid(real_out)) + np.mean(_log_sigmoid(-_f64(fake_out)))  # E log D(s) + E log(1 - D(G(z)))
  l_recon = np.mean(np.sum((_f64(z_hat) - _f64(z))**2, axis=-1))  # E ||z^ - z||^2
  mmd2 = _mmd2(real_f, fake_f, p.sigmas)
  np.testing.assert_allclose(float(m["d/loss"]), -(l_gan - p.lambda_r * l_recon + p.lambda_m * mmd2), rtol=2e-4)
  assert not np.isclose(float(m["d/loss"]), -(l_gan + p.lambda_r * l_recon + p.lambda_m * mmd2), rtol=2e-3)
  assert not np.isclose(float(m["d/loss"]), -(l_gan - p.lambda_r * l_recon), rtol=2e-3)  # the MMD^2 term weighs
  real_f, fake_f = d_of(new.d.params, real, 2)[1], d_of(new.d.params, fake, 3)[1]
  np.testing.assert_allclose(float(m["g/loss"]), _mmd2(real_f, fake_f, p.sigmas), rtol=2e-4)
  assert not np.isclose(float(m["g/loss"]), _mmd2_unbiased(real_f, fake_f, p.sigmas), rtol=2e-3)


# ---------------------------------------------------------------- Gumbel-softmax GAN (Kusner & Hernandez-Lobato 2016)

def _tau(config, step):
  """tau_t = max(tau_min, tau0 exp(-r t)), t the adversarial steps done (after `pretrain_steps` of MLE):
  Jang et al. (2017)'s annealing schedule, with the configs' gsgan block."""
  p = config.gsgan
  # the rate: the config's, or (0) the one taking tau0 to tau_min over the steps after pre-training
  rate = p.tau_rate if p.tau_rate > 0 else math.log(p.tau0 / p.tau_min) / (config.num_steps - p.pretrain_steps)
  return max(p.tau_min, p.tau0 * math.exp(-rate * max(step - p.pretrain_steps, 0)))


def test_gsgan_temperature_anneals_from_tau0_to_a_tenth_over_the_configs_run():
  """configs/gsgan.py: tau from 1 at the first step to 0.1 at the last (5,000), geometric in between, then
  held at tau_min; the same schedule counted from the end of MLE pre-training."""
  c = load_config("gsgan.py")
  assert (c.gsgan.tau0, c.gsgan.tau_min, c.num_steps, c.gsgan.pretrain_steps) == (1.0, 0.1, 5000, 0)
  for step, expected in ((0, 1.0), (1250, 10**-0.25), (2500, 10**-0.5), (5000, 0.1), (8000, 0.1)):
    assert _tau(c, step) == pytest.approx(expected, rel=1e-9)  # the formula above is the config's promise
    np.testing.assert_allclose(float(gsgan.temperature(c, step)), expected, rtol=1e-5)
  c.gsgan.pretrain_steps = 300
  for step in (0, 299, 300, 1550, 5300, 9000):
    np.testing.assert_allclose(float(gsgan.temperature(c, step)), _tau(c, step), rtol=1e-5)


def test_gsgan_temperature_reaches_a_tenth_at_the_end_of_a_run_of_any_length():
  c = load_config("gsgan.py")
  c.num_steps = 1000  # as --config.num_steps=1000 sets it, after get_config
  np.testing.assert_allclose(float(gsgan.temperature(c, c.num_steps)), 0.1, rtol=1e-3)


def test_gsgan_step_relaxes_with_the_scheduled_temperature(config_of):
  """The jitted adversarial step at several state.step (one program): g/tau is _tau, and D's and G's losses
  are the standard GAN game's on G's rows y_t = softmax((logits_t + g_t) / tau) (Kusner Eq. 2) recomputed
  with the step's draws (z from fold_in(key, 0), g_t = gumbel(split(fold_in(key, 1), T)[t]), D's dropout
  salts 0, 1, 2) and that tau -- not tau0; g/softness, 1 - the rows' mean largest entry, falls with tau."""
  c = config_of("gsgan.py")
  c.gsgan.pretrain_steps, c.gsgan.tau_rate, c.gsgan.tau_min = 2, 0.5, 0.05  # tau 1 -> 0.05 within 8 steps
  key = jax.random.key(5)
  state, batch = _built(c)
  step_fn = jax.jit(gsgan.train_step, static_argnums=3)
  n, length = batch["tokens"].shape
  z = jax.random.normal(jax.random.fold_in(key, 0), (n, c.model.latent_dim))
  keys = jax.random.split(jax.random.fold_in(key, 1), length)
  real = jax.nn.one_hot(batch["tokens"], c.model.vocab_size)
  d_of = _d_of(state.d, key)
  logit = lambda x, salt: _f64(d_of(state.d.params, x, salt)[0])  # noqa: E731

  def rows(tau):  # G's Gumbel-softmax sentence at temperature tau, on the step's noise
    relax = lambda t, logits: _softmax((logits + _f64(jax.random.gumbel(keys[t], logits.shape))) / tau)  # noqa: E731
    return jnp.asarray(_unroll(state.g, state.g.params, z, length, relax), jnp.float32)

  d_loss = lambda fake: -np.mean(_log_sigmoid(logit(real, 0))) - np.mean(_log_sigmoid(-logit(fake, 1)))  # noqa: E731
  softness = []
  for step in (2, 5, 40):  # tau = 1, exp(-1.5), tau_min
    tau = _tau(c, step)
    _, m = step_fn(state.replace(step=jnp.asarray(step, jnp.int32)), batch, key, gsgan.phase(c, step))
    np.testing.assert_allclose(float(m["g/tau"]), tau, rtol=1e-5)
    fake = rows(tau)
    np.testing.assert_allclose(float(m["d/loss"]), d_loss(fake), rtol=2e-4)
    np.testing.assert_allclose(float(m["g/loss"]), -np.mean(_log_sigmoid(logit(fake, 2))), rtol=2e-4)
    softness.append(1.0 - np.mean(np.max(_f64(fake), axis=-1)))
    np.testing.assert_allclose(float(m["g/softness"]), softness[-1], rtol=1e-3, atol=1e-5)
    if step > 2:  # the same rows at tau0 are far softer: the step's relaxation is tau's, not tau0's
      assert float(m["g/softness"]) < 0.8 * (1.0 - np.mean(np.max(_f64(rows(c.gsgan.tau0)), axis=-1)))
  assert softness[0] > softness[1] > softness[2]


# ---------------------------------------------------------------- NLL_oracle (Yu et al. 2017)

def _oracle_log_likelihood(params, tokens):
  """log G_oracle(Y) = sum_t log G_oracle(y_t | Y_1:t-1) of each row, the oracle LSTM stepped in numpy: zero
  initial state, the start token 0 first; [e(y_t-1), h] @ W + b split into the gates i, f, o and the
  candidate u; c <- sigmoid(f) c + sigmoid(i) tanh(u), h = sigmoid(o) tanh(c); logits = h @ R + r."""
  e, w, b = _f64(params["embedding"]), _f64(params["gates"]["kernel"]), _f64(params["gates"]["bias"])
  r, rb = _f64(params["readout"]["kernel"]), _f64(params["readout"]["bias"])
  sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
  hidden, out = w.shape[1] // 4, []
  for row in np.asarray(tokens):
    c, h, prev, total = np.zeros(hidden), np.zeros(hidden), 0, 0.0
    for y in row:
      i, f, o, u = np.split(np.concatenate([e[prev], h]) @ w + b, 4)
      c = sigmoid(f) * c + sigmoid(i) * np.tanh(u)
      h = sigmoid(o) * np.tanh(c)
      logits = h @ r + rb
      total += logits[y] - (logits.max() + np.log(np.sum(np.exp(logits - logits.max()))))
      prev = y
    out.append(total)
  return np.array(out)


def test_nll_oracle_is_the_oracles_per_token_nll_of_the_samples():
  """Yu et al. Sec. 4: NLL_oracle = -E_Y~G [sum_t log G_oracle(y_t | Y_1:t-1)], here divided by T (per
  token, as the released code's target_lstm reports it), the mean over all samples (uneven batches
  weigh each sample once), through the metric the evaluation writes (sequence/nll_oracle)."""
  seed, vocab, length = 3, 7, 5
  tokens = np.random.default_rng(0).integers(0, vocab, (11, length)).astype(np.int32)
  _, params = data_seq.oracle_model(seed, vocab, length)
  per_sequence = -_oracle_log_likelihood(params, tokens)  # -sum_t log G_oracle(y_t | Y_1:t-1)
  expected = np.mean(per_sequence) / length
  np.testing.assert_allclose(seq_metrics.oracle_nll(tokens, seed, vocab, batch=4), expected, rtol=1e-5)
  assert not np.isclose(seq_metrics.oracle_nll(tokens, seed, vocab), np.mean(per_sequence), rtol=0.1)
  config = SimpleNamespace(data=SimpleNamespace(name=f"oracle:{seed}", vocab_size=vocab), seed=0)
  split = SimpleNamespace(train=SimpleNamespace(vocabulary=tuple(str(i) for i in range(vocab))))
  metrics = seq_metrics.sequence_quality(tokens, split, config)
  np.testing.assert_allclose(metrics["sequence/nll_oracle"], expected, rtol=1e-5)
