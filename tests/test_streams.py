"""Several players and several data streams through the loop: DiscoGAN's four players on two
unpaired streams (with a replay memory and decaying learning rates) train, checkpoint and resume
bitwise after SIGTERM on 4 devices; paired data layouts, MNIST-M, crops; integer token sequences
(with a method of the tests' own)."""

import os
import signal
import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from ganjax import algorithms, base_config, checkpoint, data, train
from ganjax import state as state_lib
from ganjax.data import augment, builtin
from ganjax.data.base import from_arrays
from ganjax.errors import DataError
from ganjax.run import Run


# ---------------------------------------------------------------- four players, two streams: CycleGAN

def cycle_config(devices: int, steps: int = 4):
  """DiscoGAN (`configs/discogan.py`, tiny): G, F, D_B, D_A on two streams (ring8 and grid25), here
  with a replay memory (its rows split over the devices) and decaying learning rates, the state
  CycleGAN's image history and schedule also keep; MLP players, so that the three trainings stay
  cheap (CycleGAN's own step is the all-configs test's)."""
  from tiny import load_config, tiny

  c = tiny(load_config("discogan.py"), steps)
  c.checkpoint_every = 100
  c.eval_every = -1
  c.mesh.num_devices = devices
  c.gan.replay_size = 16
  for player in c.optim.values():
    player.lr_decay_start = 0.5
  return c


def _sigterm_at(step_to_stop):
  def hook(step, state):
    if step == step_to_stop:
      os.kill(os.getpid(), signal.SIGTERM)
  return hook


@pytest.mark.parametrize("devices", [4])  # one device: the resume tests of test_train.py (gan, dcgan, vae, wgan_gp)
def test_four_players_two_streams_resume_bitwise_after_sigterm(tmp_path, devices):
  c = cycle_config(devices)
  straight = train.train(c, tmp_path / "straight")
  assert set(straight.players) == {"g", "f", "d_a", "d_b"} and "replay" in straight.extra
  for player in straight.players.values():  # each its own optax state, from config.optim.<player>
    assert int(jax.tree.leaves(player.opt_state)[0]) == 4
  stopped = train.train(c, tmp_path / "resumed", hooks=[_sigterm_at(2)])
  assert int(stopped.step) == 2
  saved = checkpoint.Checkpointer(tmp_path / "resumed" / "checkpoints")
  assert saved.all_steps() == [2]
  assert {"data_a", "data_b", "state"} <= set(os.listdir(tmp_path / "resumed" / "checkpoints" / "2"))
  resumed = train.train(c, tmp_path / "resumed")
  for x, y in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_unpaired_streams_are_shuffled_and_positioned_on_their_own(tmp_path):
  c = cycle_config(4)
  run = Run(c, tmp_path, restore=False)
  first = run.next_batch()
  a, b = np.asarray(first["a"]["image"]), np.asarray(first["b"]["image"])
  assert a.shape == b.shape and not np.array_equal(a, b)  # two domains, each its own order
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


algorithms.register("tiny_bigram", algorithms.Method(init=_bigram_init, train_step=_bigram_step))


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


def test_pix2pix_aligned_and_cyclegan_unaligned_layouts(tmp_path):
  """aligned:<dir>: each file is A | B side by side, train/ and test/ kept apart; swap_sides is
  pix2pix's BtoA. unaligned:<dir>:a|b: trainA/testA or trainB/testB, each its own size."""
  for part, n in (("train", 5), ("test", 2)):
    for i in range(n):
      _png(tmp_path / "ab" / part / f"{i}.png", 0, (4, 8, 3))
  from PIL import Image

  Image.fromarray(np.concatenate([np.full((4, 4, 3), 40, np.uint8), np.full((4, 4, 3), 200, np.uint8)], 1)).save(
      tmp_path / "ab" / "train" / "0.png")
  c = base_config.get_config()
  c.data.name = f"aligned:{tmp_path / 'ab'}"
  split = data.load(c)
  assert (split.train.size, split.test.size) == (5, 2)
  row = split.train.get(np.arange(1))
  np.testing.assert_allclose([row["a"].max(), row["b"].min()], [40 / 127.5 - 1, 200 / 127.5 - 1], atol=1e-6)
  c.data.swap_sides = True
  np.testing.assert_array_equal(data.load(c).train.get(np.arange(1))["a"], row["b"])
  for side, n in (("trainA", 6), ("testA", 2), ("trainB", 3), ("testB", 1)):
    for i in range(n):
      _png(tmp_path / "h2z" / side / f"{i}.png", 10 * i, (4, 4, 3))
  c.data.swap_sides = False
  sizes = {}
  for side in "ab":
    c.data.name = f"unaligned:{tmp_path / 'h2z'}:{side}"
    s = data.load(c)
    sizes[side] = (s.train.size, s.test.size, list(s.train.element_spec))
  assert sizes == {"a": (6, 2, ["a"]), "b": (3, 1, ["b"])}
  _png(tmp_path / "odd" / "0.png", 0, (4, 7))
  for name, message in ((f"aligned:{tmp_path / 'odd'}", "7 pixels wide, not two halves"),
                        (f"unaligned:{tmp_path / 'h2z'}:c", "names one side"),
                        (f"unaligned:{tmp_path / 'nope'}:a", "is not a directory")):
    c.data.name = name
    with pytest.raises(DataError, match=message):
      data.load(c)


def test_blend_is_mnist_m_and_cyclegan_refuses_an_identity_loss_across_channel_counts(tmp_path):
  """blend:<data>: |patch - digit| on the binarised digit (the stroke inverts the photo patch), the
  digit as 3-channel "a"; an identity loss between 1- and 3-channel domains is one clear line."""
  from tiny import load_config

  c = base_config.get_config()
  c.data.name = "blend:digits"
  rows = data.load(c).train.get(np.arange(50))
  assert rows["a"].shape[-1] == rows["b"].shape[-1] == 3
  for i in (0, 7):  # undo the blend: the patch must be a crop of one of the photos, pixel for pixel
    digit = rows["a"][i, ..., :1] > 0
    blend = (rows["b"][i] + 1) / 2
    patch = np.round(np.where(digit, 1 - blend, blend) * 255).astype(np.uint8)
    assert digit.mean() > 0.1 and any(
        np.all(np.lib.stride_tricks.sliding_window_view(p, patch.shape) == patch, axis=(-3, -2, -1)).any()
        for p in builtin.photos())
  c = load_config("cyclegan.py")
  c.data.streams.a = "digits"  # one-domain data: its grey "image"s are domain A
  c.compilation_cache = ""
  with pytest.raises(DataError, match="A has 1 channels and B 3; set --config.cyclegan.identity_weight=0"):
    Run(c, tmp_path)


def test_random_crop_and_flip_cut_both_sides_alike_and_do_not_depend_on_processes():
  """data.crop / data.flip: a row's A and B (and a half-size partner) are cut at the same random
  window and mirrored together, the draws are the global batch's whatever the process count, the
  held-out rows are centre crops, and a crop larger than the images is one clear line."""
  n = 16
  pos = np.arange(12 * 12, dtype=np.float32).reshape(1, 12, 12, 1) / 1000  # every pixel's value is its place
  a = np.repeat(pos, n, 0) + np.arange(n, dtype=np.float32)[:, None, None, None]
  halve = lambda x: x.reshape(len(x), x.shape[1] // 2, 2, x.shape[2] // 2, 2, 1).mean((2, 4))  # noqa: E731
  src = from_arrays("ramp", {"a": a, "b": -a, "small": halve(a)}, kind="pairs")
  train, test = augment.augmented(src, 8, True), augment.augmented(src, 8, True, train=False)
  assert train.element_spec["a"][0] == (8, 8, 1) and train.element_spec["small"][0] == (4, 4, 1)
  whole = data.make(train, 8, 0)
  batch = whole._batch(3)
  np.testing.assert_array_equal(batch["b"], -batch["a"])  # the same window and mirror for both sides
  np.testing.assert_allclose(batch["small"], halve(batch["a"]), rtol=1e-6)  # the half-size partner too
  corners = batch["a"][:, 0, 0, 0] % 1 * 1000
  assert len(np.unique(np.round(corners))) > 2  # random windows (and mirrors), not all at one place
  flipped = batch["a"][:, 0, 0, 0] > batch["a"][:, 0, 1, 0]
  assert 0 < flipped.sum() < 8
  halves = [data.make(train, 8, 0, process_index=i, process_count=2)._batch(3) for i in (0, 1)]
  np.testing.assert_array_equal(np.concatenate([h["a"] for h in halves]), batch["a"])
  np.testing.assert_array_equal(whole._batch(3)["a"], batch["a"])  # deterministic per batch number
  np.testing.assert_array_equal(test.get(np.arange(2))["a"], a[:2, 2:10, 2:10])  # held out: the centre
  with pytest.raises(DataError, match="data.crop=16 is larger than ramp's 'a' images"):
    augment.augmented(src, 16)
