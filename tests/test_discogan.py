"""DiscoGAN's released recipe (github.com/SKTBrain/DiscoGAN, discogan/image_translation.py and model.py)
against formulas written from that code: G's loss (1 - r) * (0.1 GAN + 0.9 feature matching) + r * MSE
with r's curriculum, D's halved BCE, D updated on iterations t % 3 == 0 and G on the others, PyTorch's
Adam with coupled weight decay; and the authors' fully convolutional generator."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ganjax import state as state_lib
from ganjax.algorithms import discogan
from ganjax.errors import ConfigError
from ganjax.networks.autoencoder import Autoencoder

PLAYERS = ("g", "f", "d_b", "d_a")


def softplus(v):
  return np.logaddexp(0.0, v)  # -log sigmoid(-v): BCE(sigmoid(v), 0); softplus(-v) is BCE(sigmoid(v), 1)


def fm_released(real_blocks, fake_blocks):
  """get_fm_loss: per block, HingeEmbeddingLoss((mean_real - mean_fake)^2, target 1) = the mean of it."""
  total = 0.0
  for real, fake in zip(real_blocks, fake_blocks):
    l2 = (real.mean(0) - fake.mean(0)) * (real.mean(0) - fake.mean(0))
    total += l2.mean()
  return total


def g_loss_released(gan, fm, recon, rate):
  """gen_loss_A_total + gen_loss_B_total: (gen_loss * 0.1 + fm_loss * 0.9) * (1 - rate) + recon_loss * rate."""
  return sum((gan[k] * 0.1 + fm[k] * 0.9) * (1.0 - rate) + recon[k] * rate for k in ("b", "a"))


def trajectory(c, batches):
  """[(state before step t, batch t, metrics of step t, state after)] of the method's own step."""
  state = jax.jit(lambda k, e: discogan.init(c, k, e))(jax.random.key(0), batches[0])
  step = jax.jit(discogan.train_step)
  out = []
  for t, batch in enumerate(batches):
    new, metrics = step(state, batch, jax.random.key(t))
    out.append((state, batch, jax.device_get(metrics), new))
    state = new
  return out


def changed(before, after):
  return any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(before.params), jax.tree.leaves(after.params)))


def numpy_mlp_d(params, x, layers: int):
  """The MLP discriminator written out: (logit, [leaky_relu(0.2) hidden layers])."""
  h, blocks = np.asarray(x, np.float64), []
  for i in range(layers):
    layer = params[f"Dense_{i}"]
    h = h @ np.asarray(layer["kernel"], np.float64) + np.asarray(layer["bias"], np.float64)
    h = np.where(h > 0, h, 0.2 * h)
    blocks.append(h)
  last = params[f"Dense_{layers}"]
  return (h @ np.asarray(last["kernel"], np.float64) + np.asarray(last["bias"], np.float64))[:, 0], blocks


def test_released_recipe_on_the_toy_matches_image_translation_py(config_of):
  """`:released` (MLP players): iteration t updates both Ds iff t % 3 == 0 and both Gs otherwise; at D's
  turns each D's loss is 0.5 BCE(D(real), 1) + 0.5 BCE(D(G(x)), 0); at G's turns the loss is the released
  weighting of 0.1 GAN + 0.9 feature matching (D's hidden layers from the second) and the MSE
  reconstruction, with rate 0.01 before `gan_curriculum` iterations and 0.5 from then on."""
  c = config_of("discogan.py", "released")
  c.model.d_hidden = (16, 16)
  c.discogan.gan_curriculum = 4  # iteration 4 is a G turn: the first at rate 0.5
  rng = np.random.default_rng(0)
  batches = [{s: {"image": jnp.asarray(rng.normal(0.0, 2.0, (8, 2)), jnp.float32)} for s in ("a", "b")}
             for _ in range(6)]
  gen = lambda p, x: np.asarray(p.apply(p.params, x)[0][0], np.float64)  # noqa: E731  (the output, not the code)
  for t, (s, batch, m, new) in enumerate(trajectory(c, batches)):
    d_turn = t % 3 == 0  # `if iters % args.update_interval == 0: dis_loss.backward()` else gen_loss
    assert [changed(s.players[n], new.players[n]) for n in PLAYERS] == [not d_turn] * 2 + [d_turn] * 2, t
    a, b = np.asarray(batch["a"]["image"]), np.asarray(batch["b"]["image"])
    ab, ba = gen(s.g, a), gen(s.f, b)
    aba, bab = gen(s.f, ab.astype(np.float32)), gen(s.g, ba.astype(np.float32))
    d_b, d_a = (lambda x: numpy_mlp_d(s.d_b.params, x, 2)), (lambda x: numpy_mlp_d(s.d_a.params, x, 2))
    if d_turn:
      want = 0.5 * np.mean(softplus(-d_b(b)[0])) + 0.5 * np.mean(softplus(d_b(ab)[0]))
      np.testing.assert_allclose(m["d_b/loss"], want, rtol=1e-5)
      continue
    gan = {"b": np.mean(softplus(-d_b(ab)[0])), "a": np.mean(softplus(-d_a(ba)[0]))}
    fm = {"b": fm_released(d_b(b)[1][1:], d_b(ab)[1][1:]), "a": fm_released(d_a(a)[1][1:], d_a(ba)[1][1:])}
    recon = {"b": np.mean((aba - a) ** 2), "a": np.mean((bab - b) ** 2)}  # recon_loss_A pairs with D_B's terms
    rate = 0.01 if t < 4 else 0.5
    np.testing.assert_allclose(m["g/loss"], g_loss_released(gan, fm, recon, rate), rtol=1e-4)


def test_released_images_match_feature_maps_and_unit_pixels(config_of):
  """`:released_images` at 16 px (two D blocks): G's loss at its first turn from the networks, the
  feature matching on D's batch-normed blocks (flax's captured batch-norm outputs through leaky
  ReLU 0.2, not the blocks the network sows) and the reconstruction MSE on [0, 1] pixels."""
  c = config_of("discogan.py", "released_images")
  c.data.image_size = 16
  rng = np.random.default_rng(1)
  batches = [{s: {"image": jnp.asarray(rng.uniform(-1, 1, (8, 16, 16, 3)), jnp.float32)} for s in ("a", "b")}
             for _ in range(2)]
  s, batch, m, new = trajectory(c, batches)[1]
  assert not changed(s.d_b, new.d_b) and changed(s.g, new.g)

  @jax.jit
  def d_outputs(player, x):  # batch statistics, as PyTorch's training-mode forward
    variables = {"params": player.params, **player.model_state}
    out, inter = player.apply_fn(variables, x, train=True, capture_intermediates=True,
                                 mutable=["intermediates", "batch_stats"])
    return out, inter["intermediates"]["_ConvTrunk_0"]["BatchNorm_0"]["__call__"][0]

  def d(player, x):
    out, bn = (np.asarray(v, np.float64) for v in d_outputs(player, jnp.asarray(x, jnp.float32)))
    return out, [np.where(bn > 0, bn, 0.2 * bn).reshape(len(x), -1)]

  g_out = jax.jit(lambda p, x: p.apply(p.params, x)[0][0])
  gen = lambda p, x: np.asarray(g_out(p, jnp.asarray(x, jnp.float32)), np.float64)  # noqa: E731
  a, b = np.asarray(batch["a"]["image"], np.float64), np.asarray(batch["b"]["image"], np.float64)
  ab, ba = gen(s.g, a), gen(s.f, b)
  aba, bab = gen(s.f, ab), gen(s.g, ba)
  unit = lambda x: (x + 1.0) / 2.0  # noqa: E731  their images are cv2's / 255, their G a sigmoid
  gan = {"b": np.mean(softplus(-d(s.d_b, ab)[0])), "a": np.mean(softplus(-d(s.d_a, ba)[0]))}
  fm = {"b": fm_released(d(s.d_b, b)[1], d(s.d_b, ab)[1]), "a": fm_released(d(s.d_a, a)[1], d(s.d_a, ba)[1])}
  recon = {"b": np.mean((unit(aba) - unit(a)) ** 2), "a": np.mean((unit(bab) - unit(b)) ** 2)}
  np.testing.assert_allclose(m["g/loss"], g_loss_released(gan, fm, recon, 0.01), rtol=1e-4)


def test_released_optimizer_is_pytorchs_adam_with_coupled_weight_decay(config_of):
  """optim.Adam(lr=2e-4, betas=(0.5, 0.999), weight_decay=1e-5) for the four players: two steps on a
  kernel equal PyTorch's update, the decay added to the gradient before the moments."""
  c = config_of("discogan.py", "released")
  rng = np.random.default_rng(2)
  w = rng.normal(0, 1, (3, 4))
  grads = [rng.normal(0, 1e-3, (3, 4)) for _ in range(2)]
  for name in PLAYERS:
    tx = state_lib.optimizer(c.optim[name], c.num_steps)
    params = {"kernel": jnp.asarray(w, jnp.float32)}
    opt = tx.init(params)
    p, mom, vel = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
      updates, opt = tx.update({"kernel": jnp.asarray(g, jnp.float32)}, opt, params)
      params = optax.apply_updates(params, updates)
      g = g + 1e-5 * p  # torch.optim.Adam: grad = grad.add(p, alpha=weight_decay)
      mom, vel = 0.5 * mom + 0.5 * g, 0.999 * vel + 0.001 * g * g
      p = p - 2e-4 / (1 - 0.5**t) * mom / (np.sqrt(vel) / np.sqrt(1 - 0.999**t) + 1e-8)
      np.testing.assert_allclose(np.asarray(params["kernel"]), p, rtol=1e-5, atol=1e-9)


def test_fully_convolutional_generator_is_the_authors_model_py():
  """bottleneck="conv": at 64 px and width 64 the layers of their Generator (4x4 convs 3-64-128-256-512
  down to 4x4, batch norm on all but the first; transposed 512-256-128-64-3 with batch norm on all but
  the last); no dense layer; at 32 px the code is a 4x4 map and the output the input's shape."""
  g = Autoencoder((64, 64, 3), kind="dcgan", width=64, bottleneck="conv")
  shapes = jax.eval_shape(lambda: g.init(jax.random.key(0), jnp.zeros((2, 64, 64, 3)), train=False))["params"]
  enc, dec = shapes["_ConvTrunk_0"], shapes["decoder"]
  assert [enc[f"Conv_{i}"]["kernel"].shape for i in range(4)] == [(4, 4, 3, 64), (4, 4, 64, 128), (4, 4, 128, 256),
                                                                   (4, 4, 256, 512)]
  assert [dec[f"ConvTranspose_{i}"]["kernel"].shape for i in range(4)] == [(4, 4, 512, 256), (4, 4, 256, 128),
                                                                           (4, 4, 128, 64), (4, 4, 64, 3)]
  assert sum(k.startswith("BatchNorm") for k in enc) == 3 and sum(k.startswith("BatchNorm") for k in dec) == 3
  paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(shapes)]
  assert not any("Dense" in p for p in paths)
  small = Autoencoder((32, 32, 3), kind="dcgan", width=4, bottleneck="conv")
  x = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, (2, 32, 32, 3)), jnp.float32)
  variables = jax.jit(lambda x: small.init(jax.random.key(1), x, train=False))(x)
  (out, code), _ = jax.jit(lambda v, x: small.apply(v, x, mutable=["batch_stats"]))(variables, x)
  assert out.shape == x.shape and code.shape == (2, 4, 4, 16) and float(jnp.max(jnp.abs(out))) <= 1.0


def test_images_config_builds_the_fully_convolutional_generators(config_of):
  """`:images` (Sec. 3.2's objective) and `:released_images` build G_AB and G_BA without a dense layer."""
  for arg in ("images", "released_images"):
    c = config_of("discogan.py", arg)
    x = {s: {"image": jnp.zeros((2, 8, 8, 3))} for s in ("a", "b")}
    shapes = jax.eval_shape(lambda: discogan.init(c, jax.random.key(0), x))
    for name in ("g", "f"):
      paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(shapes.players[name].params)]
      assert paths and not any("Dense" in p for p in paths), (arg, name)


@pytest.mark.parametrize("arg,field,value,match", [
    ("released", "weighting", "mean", "unknown discogan.weighting 'mean'"),
    (None, "bottleneck", "conv", "bottleneck='conv' is the convolutional generator's"),
    ("released", "update_interval", 0, "update_interval must be an integer >= 1"),
    ("released", "starting_rate", 1.5, "starting_rate must be in"),
    ("released", "d_loss_scale", 0.0, "d_loss_scale must be > 0"),
    (None, "unit_pixels", True, "unit_pixels maps"),
])
def test_bad_discogan_settings_are_one_line(config_of, arg, field, value, match):
  c = config_of("discogan.py", arg)
  c.discogan[field] = value
  with pytest.raises(ConfigError, match=match):
    discogan.check(c)


def test_feature_matching_needs_blocks_after_feature_from(config_of):
  """The tiny MLP discriminator has one hidden layer: matching from the second leaves nothing."""
  c = config_of("discogan.py", "released")
  x = {s: {"image": jnp.zeros((8, 2))} for s in ("a", "b")}
  state = discogan.init(c, jax.random.key(0), x)
  with pytest.raises(ConfigError, match="feature_from=1 leaves none of D's 1 hidden blocks"):
    jax.eval_shape(discogan.train_step, state, x, jax.random.key(1))
