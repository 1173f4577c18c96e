"""PixelDA against the authors' released code (tensorflow/models, research/domain_adaptation/
pixel_domain_adaptation): the objectives of its D step (D and T) and G step assembled here from the
networks' outputs, the generator's layers written out, D's clean input, T's private first layers, and
the MNIST -> MNIST-M hparams as the default config."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from ganjax import data
from ganjax.algorithms import pixelda
from ganjax.errors import ConfigError
from ganjax.networks.adaptation import NoiseConditioned
from tiny import load_config

DN = ("NHWC", "HWIO", "NHWC")


def conv(x, kernel, bias=0.0, stride=1):
  return jax.lax.conv_general_dilated(x, kernel, (stride, stride), "SAME", dimension_numbers=DN) + bias


def train_batch(c):
  train = {k: s.train for k, s in data.load_streams(c).items()}
  batch = {k: {f: jnp.asarray(v) for f, v in t.get(np.arange(c.batch_size)).items()} for k, t in train.items()}
  return pixelda.example_batch(c, train), batch


def assert_update(new, old, want_step):
  """new - old == -want_step leaf by leaf (SGD at rate 1), to 1e-3 of the largest step in the tree."""
  scale = max(float(jnp.max(jnp.abs(s))) for s in jax.tree.leaves(want_step))
  assert scale > 0
  for got, o, w in zip(jax.tree.leaves(new), jax.tree.leaves(old), jax.tree.leaves(want_step), strict=True):
    np.testing.assert_allclose(np.asarray(got - o), -np.asarray(w), rtol=1e-3, atol=1e-3 * scale)


def test_the_steps_are_the_released_d_step_and_g_step(config_of, monkeypatch):
  """One step with SGD at rate 1 (update = -gradient), a deterministic D (no noise, no dropout) and
  a known z: D moves by the gradient of d_weight [BCE(D(x^t), 1) + BCE(D(G(x^s)), 0)], T by that of
  t_weight [CE(T_s(x^s)) + CE(T_t(G(x^s)))] (D's step: T_s on the source images, T_t on the adapted
  ones), and G, after them, by that of g_weight BCE(D'(G(x^s)), 1) + task_weight [CE(T'_s(x^s)) +
  CE(T'_t(G(x^s)))] with the updated D' and T'. The weights are the released ones (1 for T)."""
  c = config_of("pixelda.py")
  sgd = {"name": "sgd", "lr": 1.0, "momentum": 0.0, "grad_clip": 0.0, "weight_decay": 0.0, "lr_decay_start": 1.0}
  c.optim = ml_collections.ConfigDict({k: dict(sgd) for k in ("g", "d", "t")})
  c.pixelda.d_width, c.pixelda.d_noise, c.pixelda.d_dropout = 4, 0.0, 0.0
  p = c.pixelda
  assert (p.d_weight, p.g_weight, p.task_weight, p.t_weight) == (0.135603587834, 0.0113173311334, 0.0100959947002, 1.0)
  example, batch = train_batch(c)
  state = jax.jit(lambda key, e: pixelda.init(c, key, e))(jax.random.key(0), example)
  z = jax.random.uniform(jax.random.key(5), (c.batch_size, p.noise_dim), minval=-1.0, maxval=1.0)
  monkeypatch.setattr(pixelda, "noise", lambda key, n, dim: z)
  new, metrics = jax.jit(pixelda.train_step)(state, batch, jax.random.key(1))

  @jax.jit  # the reference as one program, the weights its arguments (op by op, it compiled ~900 programs)
  def reference(state, batch, z):
    x, y, real = batch["source"]["a"], batch["source"]["label"], batch["target"]["b"]
    g, d, t = state.g, state.d, state.t
    train = {"train": True, "mutable": ["batch_stats"]}
    G = lambda gp: g.apply_fn({"params": gp, **g.model_state}, x, z, **train)[0]  # noqa: E731
    D = lambda dp, img: d.apply_fn({"params": dp, **d.model_state}, img, **train)[0]  # noqa: E731
    T = lambda tp, img, domain: t.apply_fn({"params": tp}, img, domain=domain, train=True)  # noqa: E731
    bce = lambda o, label: -jnp.mean(label * jax.nn.log_sigmoid(o) + (1 - label) * jax.nn.log_sigmoid(-o))  # noqa: E731
    ce = lambda logits: -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))  # noqa: E731
    fake = G(g.params)
    d_objective = lambda dp: p.d_weight * (bce(D(dp, real), 1.0) + bce(D(dp, fake), 0.0))  # noqa: E731
    t_objective = lambda tp: p.t_weight * (ce(T(tp, x, "source")) + ce(T(tp, fake, "target")))  # noqa: E731
    d_step, t_step = jax.grad(d_objective)(d.params), jax.grad(t_objective)(t.params)
    d1 = jax.tree.map(lambda a, s: a - s, d.params, d_step)
    t1 = jax.tree.map(lambda a, s: a - s, t.params, t_step)

    def g_objective(gp):
      adapted = G(gp)
      task = ce(T(t1, x, "source")) + ce(T(t1, adapted, "target"))
      return p.g_weight * bce(D(d1, adapted), 1.0) + p.task_weight * task

    losses = {"d/loss": d_objective(d.params), "t/loss": t_objective(t.params), "g/loss": g_objective(g.params)}
    return d_step, t_step, jax.grad(g_objective)(g.params), losses

  d_step, t_step, g_step, losses = reference(state, batch, z)
  assert_update(new.d.params, state.d.params, d_step)
  assert_update(new.t.params, state.t.params, t_step)
  assert_update(new.g.params, state.g.params, g_step)
  for k, want in losses.items():
    np.testing.assert_allclose(float(metrics[k]), float(want), rtol=1e-4)


def test_d_has_no_noise_on_its_input_image_and_noise_after_its_layers(config_of):
  """The config's D (released discriminator_image_noise=False, noise 0.2 on the hidden layers): its
  first convolution sees the clean image, while its output still varies with the noise draw; with
  `d_image_noise` the input is perturbed too."""
  c = config_of("pixelda.py")
  assert c.pixelda.d_noise == 0.2 and not c.pixelda.d_image_noise
  x = jax.random.normal(jax.random.key(0), (4, 8, 8, 3))

  def first_conv_and_output(image_noise, seed):
    c.pixelda.d_image_noise = image_noise
    d = pixelda.networks(c, 3)[1]
    variables = d.init(jax.random.key(1), x, train=False)
    out, st = d.apply(variables, x, train=True, rngs={"noise": jax.random.key(seed), "dropout": jax.random.key(9)},
                      mutable=["batch_stats", "intermediates"], capture_intermediates=True)
    k = variables["params"]["Conv_0"]
    return st["intermediates"]["Conv_0"]["__call__"][0], conv(x, k["kernel"], k["bias"]), out

  first, clean, out = first_conv_and_output(False, 2)
  np.testing.assert_allclose(first, clean, rtol=1e-5, atol=1e-6)
  assert not np.allclose(out, first_conv_and_output(False, 3)[2])  # the hidden layers' noise
  noisy_first, clean, _ = first_conv_and_output(True, 2)
  assert np.max(np.abs(noisy_first - clean)) > 0.01


def test_the_generator_is_the_released_resnet_generator():
  """NoiseConditioned written out: z -> FC (no bias) -> batch norm (no scale, eps 1e-3) -> ReLU ->
  one channel appended to x; 3x3 conv + ReLU (no batch norm); residual blocks conv-BN-ReLU-conv-BN
  + input; 1x1 conv + tanh. Zero padding, batch statistics in training; weights ~ N(0, 0.02)."""
  x = jax.random.uniform(jax.random.key(0), (4, 6, 6, 3), minval=-1.0, maxval=1.0)
  z = jax.random.uniform(jax.random.key(1), (4, 10), minval=-1.0, maxval=1.0)
  g = NoiseConditioned(3, width=8, blocks=2)
  variables = g.init(jax.random.key(2), x, z, train=False)
  got, _ = g.apply(variables, x, z, train=True, mutable=["batch_stats"])
  P = variables["params"]
  bn = lambda v, name, axes: (v - v.mean(axes)) / jnp.sqrt(v.var(axes) + 1e-3) + P[name]["bias"]  # noqa: E731
  assert set(P["BatchNorm_0"]) == {"bias"} and "bias" not in P["Dense_0"] and "bias" not in P["Conv_1"]
  noise = jax.nn.relu(bn(z @ P["Dense_0"]["kernel"], "BatchNorm_0", 0)).reshape((4, 6, 6, 1))
  h = jax.nn.relu(conv(jnp.concatenate([x, noise], -1), P["Conv_0"]["kernel"], P["Conv_0"]["bias"]))
  for i in range(2):
    r = jax.nn.relu(bn(conv(h, P[f"Conv_{2 * i + 1}"]["kernel"]), f"BatchNorm_{2 * i + 1}", (0, 1, 2)))
    h = h + bn(conv(r, P[f"Conv_{2 * i + 2}"]["kernel"]), f"BatchNorm_{2 * i + 2}", (0, 1, 2))
  assert P["Conv_5"]["kernel"].shape == (1, 1, 8, 3)
  want = jnp.tanh(conv(h, P["Conv_5"]["kernel"], P["Conv_5"]["bias"]))
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
  assert 0.017 < float(jnp.std(P["Dense_0"]["kernel"])) < 0.023  # 360 weights from N(0, 0.02)


def test_t_has_a_private_first_layer_per_domain_and_scores_the_target_through_the_adapted_one(config_of):
  c = config_of("pixelda.py")
  example, batch = train_batch(c)
  state = pixelda.init(c, jax.random.key(0), example)
  t, xt = state.t, batch["target"]["b"]
  logits = lambda params, domain: t.apply_fn({"params": params}, xt, domain=domain, train=False)  # noqa: E731
  assert not np.allclose(logits(t.params, "source"), logits(t.params, "target"))
  same_first = {**t.params, "source_conv": t.params["target_conv"]}  # everything after the first layer is shared
  np.testing.assert_array_equal(logits(same_first, "source"), logits(same_first, "target"))
  np.testing.assert_array_equal(pixelda.predict_class(state, xt), jnp.argmax(logits(t.params, "target"), -1))
  c.pixelda.task_private = False  # Eq. 3's single T
  one = pixelda.init(c, jax.random.key(0), example).t
  assert "source_conv" not in one.params
  np.testing.assert_array_equal(one.apply_fn({"params": one.params}, xt, domain="source", train=False),
                                one.apply_fn({"params": one.params}, xt, domain="target", train=False))


def test_the_default_config_is_the_released_mnist_m_one_and_cpu_only_shrinks_it():
  c, cpu = load_config("pixelda.py"), load_config("pixelda.py", "cpu")
  assert (c.model.width, c.pixelda.blocks, c.pixelda.d_width, c.num_steps) == (64, 6, 64, 250_000)
  assert (cpu.model.width, cpu.pixelda.blocks, cpu.pixelda.d_width, cpu.num_steps) == (16, 2, 32, 3000)
  assert {k: (o.lr, o.b1, o.grad_clip, o.weight_decay) for k, o in c.optim.items()} == {
      k: (1e-3, 0.5, 5.0, 0.0) for k in ("g", "d", "t")}
  assert (c.batch_size, c.pixelda.d_dropout, c.pixelda.init_std, c.pixelda.task_private) == (32, 0.1, 0.02, True)
  sizes = ("model.width", "pixelda.blocks", "pixelda.d_width", "num_steps")
  flat = lambda cfg: {k: v for k, v in _flatten(cfg.to_dict()).items() if k not in sizes}  # noqa: E731
  assert flat(c) == flat(cpu)
  with pytest.raises(ConfigError, match=r"unknown configs/pixelda.py argument 'gpu'; valid: \(no argument\), cpu"):
    load_config("pixelda.py", "gpu")


def test_bad_pixelda_settings_stop_with_one_line(config_of):
  c = config_of("pixelda.py")
  c.pixelda.t_weight = -1.0
  with pytest.raises(ConfigError, match="loss weights must be >= 0"):
    pixelda.check(c)
  c.pixelda.t_weight, c.pixelda.d_dropout = 1.0, 1.0
  with pytest.raises(ConfigError, match=r"d_dropout in \[0, 1\)"):
    pixelda.check(c)


def _flatten(d, prefix=""):
  out = {}
  for k, v in d.items():
    out.update(_flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
  return out
