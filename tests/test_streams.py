"""Several players and several data streams through the loop, with methods of the tests' own:
a four-player, two-stream method (CycleGAN's shape: two generators, two discriminators, unpaired
domains a and b) that trains, checkpoints and resumes bitwise after SIGTERM on 1 and 4 devices;
paired streams; integer token sequences."""

import os
import signal
import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from ganjax import algorithms, base_config, checkpoint, data, losses, networks, train
from ganjax import state as state_lib
from ganjax.algorithms.common import grad_norm, init_player
from ganjax.errors import DataError


# ---------------------------------------------------------------- a four-player, two-stream method

def _cycle_init(config, key, batch):
  shape = batch["a"]["image"].shape[1:]
  flat = int(np.prod(shape))
  g = networks.generator("mlp", out_shape=shape, hidden=(16,))
  d = networks.discriminator("mlp", hidden=(16,))
  keys = jax.random.split(key, 4)
  players = {"g_ab": init_player(config, "g_ab", g, keys[0], jnp.zeros((2, flat))),
             "g_ba": init_player(config, "g_ba", g, keys[1], jnp.zeros((2, flat))),
             "d_a": init_player(config, "d_a", d, keys[2], jnp.zeros((2, *shape))),
             "d_b": init_player(config, "d_b", d, keys[3], jnp.zeros((2, *shape)))}
  return state_lib.create(config, players)


def _cycle_step(state, batch, key):
  a, b = batch["a"]["image"], batch["b"]["image"]
  p = state.players
  flat = lambda x: x.reshape((x.shape[0], -1))  # noqa: E731
  fake_b = jax.lax.stop_gradient(p["g_ab"](flat(a)))
  fake_a = jax.lax.stop_gradient(p["g_ba"](flat(b)))

  def d_loss(params, name, real, fake):
    return losses.d_loss_least_squares(p[name].apply(params, real)[0], p[name].apply(params, fake)[0])

  la, ga = jax.value_and_grad(d_loss)(p["d_a"].params, "d_a", a, fake_a)
  lb, gb = jax.value_and_grad(d_loss)(p["d_b"].params, "d_b", b, fake_b)

  def g_loss(params):
    fb, fa = p["g_ab"].apply(params["g_ab"], flat(a))[0], p["g_ba"].apply(params["g_ba"], flat(b))[0]
    cycle = jnp.mean(jnp.abs(p["g_ba"].apply(params["g_ba"], flat(fb))[0] - a)) + \
        jnp.mean(jnp.abs(p["g_ab"].apply(params["g_ab"], flat(fa))[0] - b))
    adv = losses.g_loss_least_squares(p["d_b"](fb)) + losses.g_loss_least_squares(p["d_a"](fa))
    return adv + 10.0 * cycle

  lg, gg = jax.value_and_grad(g_loss)({"g_ab": p["g_ab"].params, "g_ba": p["g_ba"].params})
  new = {"d_a": p["d_a"].update(ga), "d_b": p["d_b"].update(gb), "g_ab": p["g_ab"].update(gg["g_ab"]),
         "g_ba": p["g_ba"].update(gg["g_ba"])}
  metrics = {"d_a/loss": la, "d_b/loss": lb, "g/loss": lg, "g/grad_norm": grad_norm(gg),
             "data/a_mean": jnp.mean(a), "data/b_mean": jnp.mean(b)}
  return state.replace(step=state.step + 1).with_players(**new), metrics


algorithms.register("tiny_cycle", types.SimpleNamespace(init=_cycle_init, train_step=_cycle_step))


def cycle_config(devices: int, steps: int = 6):
  c = base_config.get_config()
  c.algorithm = "tiny_cycle"
  c.batch_size, c.num_steps, c.log_every, c.checkpoint_every = 8, steps, 2, 100
  c.sample_every, c.eval_every, c.progress, c.compilation_cache = 0, -1, False, ""
  c.mesh.num_devices = devices
  c.data.streams = ml_collections.ConfigDict({"a": "digits", "b": "digits"})
  c.optim = ml_collections.ConfigDict({name: base_config.adam(1e-3) for name in ("g_ab", "g_ba", "d_a", "d_b")})
  return c


def _sigterm_at(step_to_stop):
  def hook(step, state):
    if step == step_to_stop:
      os.kill(os.getpid(), signal.SIGTERM)
  return hook


@pytest.mark.parametrize("devices", [1, 4])
def test_four_players_two_streams_resume_bitwise_after_sigterm(tmp_path, devices):
  c = cycle_config(devices)
  straight = train.train(c, tmp_path / "straight")
  assert set(straight.players) == {"g_ab", "g_ba", "d_a", "d_b"}
  for player in straight.players.values():  # each its own optax state, from config.optim.<player>
    assert int(jax.tree.leaves(player.opt_state)[0]) == 6
  stopped = train.train(c, tmp_path / "resumed", hooks=[_sigterm_at(3)])
  assert int(stopped.step) == 3
  saved = checkpoint.Checkpointer(tmp_path / "resumed" / "checkpoints")
  assert saved.all_steps() == [3]
  assert {"data_a", "data_b", "state"} <= set(os.listdir(tmp_path / "resumed" / "checkpoints" / "3"))
  resumed = train.train(c, tmp_path / "resumed")
  for x, y in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_unpaired_streams_are_shuffled_and_positioned_on_their_own(tmp_path):
  c = cycle_config(1)
  run = train.Run(c, tmp_path, restore=False)
  first = run.next_batch()
  a, b = np.asarray(first["a"]["image"]), np.asarray(first["b"]["image"])
  assert a.shape == b.shape and not np.array_equal(a, b)  # the same data, independent orders
  pa, pb = run.pipelines["a"], run.pipelines["b"]
  assert not np.array_equal(pa.indices(0), pb.indices(0))
  np.testing.assert_array_equal(pa.indices(0), data.make(pa.source, 8, c.seed).indices(0))  # stream 0: the usual order
  run.checkpoints.close()


# ---------------------------------------------------------------- paired streams and token sequences

def _png(path, value, shape=(4, 4)):
  from PIL import Image

  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def test_paired_folders_keep_rows_together(tmp_path):
  for i in range(10):
    _png(tmp_path / "a" / f"{i:02d}.png", 20 * i)
    _png(tmp_path / "b" / f"{i:02d}.png", 255 - 20 * i, (4, 4, 3))
  c = base_config.get_config()
  c.data.name = f"paired:{tmp_path}"
  c.data.holdout = 3
  split = data.load(c)
  assert (split.train.size, split.test.size) == (7, 3)
  for part in (split.train, split.test):
    rows = part.get(np.arange(part.size))
    assert rows["a"].shape[1:] == (4, 4, 1) and rows["b"].shape[1:] == (4, 4, 3)
    a = (rows["a"][:, 0, 0, 0] + 1) / 2 * 255
    b = (rows["b"][:, 0, 0, 0] + 1) / 2 * 255
    np.testing.assert_allclose(a + b, 255.0, atol=1e-3)  # a's partner is b of the same name
  _png(tmp_path / "a" / "extra.png", 0)
  with pytest.raises(DataError, match="without a partner, e.g. extra.png"):
    data.load(c)


def _bigram_init(config, key, batch):
  v = config.model.num_classes
  table = types.SimpleNamespace(apply=lambda variables, *a, **k: variables["params"]["logits"])
  return state_lib.create(config, {"lm": state_lib.Player.create(
      table, state_lib.optimizer(config.optim.lm), {"params": {"logits": jnp.zeros((v, v))}})})


def _bigram_step(state, batch, key):
  tokens = batch["tokens"]

  def nll(params):
    logits = params["logits"][tokens[:, :-1]]
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]))

  loss, grads = jax.value_and_grad(nll)(state.lm.params)
  return state.replace(step=state.step + 1).with_players(lm=state.lm.update(grads)), {"lm/nll": loss}


algorithms.register("tiny_bigram", types.SimpleNamespace(init=_bigram_init, train_step=_bigram_step))


def test_token_sequences_train_a_tiny_language_model(tmp_path):
  text = tmp_path / "text.txt"
  text.write_text("abcab" * 200 + "the end\n", encoding="utf-8")
  c = base_config.get_config()
  c.algorithm = "tiny_bigram"
  c.data.name, c.data.window = f"text:{text}", 16
  c.batch_size, c.num_steps, c.log_every, c.checkpoint_every = 8, 30, 10, 30
  c.sample_every, c.eval_every, c.progress, c.compilation_cache = 0, -1, False, ""
  split = data.load(c)
  vocab = split.train.vocabulary
  assert vocab == tuple(sorted(set("abcab the end\n")))
  tokens = split.train.get(np.arange(2))["tokens"]
  assert tokens.dtype == np.int32 and tokens.shape == (2, 16)
  assert "".join(vocab[t] for t in tokens[0]) == ("abcab" * 4)[:16]
  c.model.num_classes = len(vocab)
  c.optim = ml_collections.ConfigDict({"lm": base_config.adam(0.1)})
  state = train.train(c, tmp_path / "run")
  # The bigram model learned the text's transitions: after "a" comes "b".
  assert int(np.argmax(state.lm.params["logits"][vocab.index("a")])) == vocab.index("b")
  with pytest.raises(DataError, match="fewer than one window"):
    c.data.window = 10_000
    data.load(c)
