"""Unit tests of the small core modules: state, parallel, checkpoint, images, writers, method records."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import linen as nn

from ganjax import algorithms, checkpoint, data, images, parallel, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.method import Classifier, Method, Sampler
from ganjax.errors import CheckpointError, ConfigError
from tiny import CONFIGS, load_config


def player():
  module = nn.Sequential([nn.Dense(3)])
  variables = module.init(jax.random.key(0), jnp.zeros((1, 2)))
  return state_lib.Player.create(module, optax.sgd(0.5), variables)


def test_player_update_applies_its_own_optimizer():
  p = player()
  grads = jax.tree.map(jnp.ones_like, p.params)
  q = p.update(grads)
  for a, b in zip(jax.tree.leaves(p.params), jax.tree.leaves(q.params)):
    np.testing.assert_allclose(b, a - 0.5)
  assert q.apply_fn is p.apply_fn and q.tx is p.tx


def test_train_state_reads_players_by_name_and_is_a_plain_pytree():
  s = state_lib.create(ml_collections.ConfigDict({"a": 1}), {"g": player(), "d": player()})
  assert s.g is s.players["g"] and int(s.step) == 0
  with pytest.raises(AttributeError, match="^q$"):  # no player q
    _ = s.q
  leaves, treedef = jax.tree.flatten(s)
  assert all(isinstance(x, jax.Array) for x in leaves)
  assert jax.tree.unflatten(treedef, leaves).config == s.config
  s2 = s.with_players(g=s.g.replace(params=jax.tree.map(jnp.zeros_like, s.g.params)))
  assert s2.d is s.d and float(jnp.abs(jax.tree.leaves(s2.g.params)[0]).sum()) == 0


def test_optimizer_from_config():
  cfg = ml_collections.ConfigDict({"name": "rmsprop", "lr": 5e-5, "grad_clip": 1.0})
  assert isinstance(state_lib.optimizer(cfg), optax.GradientTransformation)
  with pytest.raises(ConfigError, match="unknown optimizer 'adamw'; valid: adam, rmsprop, sgd"):
    state_lib.optimizer(ml_collections.ConfigDict({"name": "adamw", "lr": 1.0}))


def test_mesh_and_global_batches():
  mesh = parallel.make_mesh()
  assert mesh.devices.size == jax.device_count() == 4
  parallel.check_batch_size(8, mesh)
  with pytest.raises(ConfigError, match="batch_size=6 is not divisible by the 4 devices"):
    parallel.check_batch_size(6, mesh)
  with pytest.raises(ConfigError, match="only 4 devices"):
    parallel.make_mesh(8)
  batch = parallel.global_batch({"image": np.arange(8.0).reshape(8, 1)}, mesh)
  assert batch["image"].sharding.spec == jax.sharding.PartitionSpec("data")
  assert len(batch["image"].addressable_shards) == 4
  np.testing.assert_array_equal(np.asarray(batch["image"])[:, 0], np.arange(8.0))
  replicated = jax.device_put(jnp.arange(3.0), parallel.replicated(mesh))
  np.testing.assert_array_equal(parallel.local_copy(replicated), [0.0, 1.0, 2.0])


def test_checkpoint_roundtrip_with_config(tmp_path):
  mesh = parallel.make_mesh()
  rep = parallel.replicated(mesh)
  s = jax.device_put(state_lib.create(ml_collections.ConfigDict({"a": 1}), {"g": player()}), rep)
  ck = checkpoint.Checkpointer(tmp_path, max_to_keep=2)
  ck.save(3, s, config=ml_collections.ConfigDict({"seed": 7}))
  ck.wait()
  restored = ck.restore(checkpoint.abstract(s, rep))
  for a, b in zip(jax.tree.leaves(s), jax.tree.leaves(restored), strict=True):
    np.testing.assert_array_equal(a, b)
  assert ck.restore_config() == {"seed": 7}
  ck.close()


def test_a_state_of_another_structure_is_refused_before_orbax_reads(tmp_path, monkeypatch):
  rep = parallel.replicated(parallel.make_mesh())
  s = jax.device_put(state_lib.create(ml_collections.ConfigDict({"a": 1}), {"g": player()}), rep)
  ck = checkpoint.Checkpointer(tmp_path)
  ck.save(3, s)
  ck.wait()

  def read(*args, **kw):
    raise AssertionError("orbax was asked to read")

  monkeypatch.setattr(ck.manager, "restore", read)
  wider = nn.Sequential([nn.Dense(4)])
  other = state_lib.Player.create(wider, optax.sgd(0.5), wider.init(jax.random.key(0), jnp.zeros((1, 2))))
  with pytest.raises(CheckpointError, match=r"step 3 .* written by a different config \(players/g/params/layers_0/"
                                            r"bias: float32\[3\] saved, float32\[4\] now; and 1 more\)"):
    ck.restore(checkpoint.abstract(state_lib.create(s.config, {"g": other}), rep))
  with pytest.raises(CheckpointError, match=r"\(extra/ema: absent saved, float32\[2\] now\)"):
    ck.restore(checkpoint.abstract(s.replace(extra={"ema": jnp.zeros(2)}), rep))
  monkeypatch.undo()
  assert int(ck.restore(checkpoint.abstract(s, rep)).step) == 0  # the same structure reads
  ck.close()


def test_images():
  x = np.linspace(-1, 1, 5 * 4 * 3 * 1).reshape(5, 4, 3, 1)
  g = images.grid(x, ncol=2)
  assert g.shape == (3 * 5 + 1, 2 * 4 + 1, 1) and g.dtype == np.uint8
  np.testing.assert_array_equal(images.to_uint8(np.array([-1.0, 0.0, 1.0])), [0, 128, 255])
  s = images.draw("points", np.zeros((10, 2)), reference=lambda: np.ones((10, 2)))
  assert s.shape == (400, 400, 3)
  assert images.draw("images", x, ncol=2).shape == g.shape
  assert images.in_rows("images") and images.in_rows("series") and not images.in_rows("points")
  assert not images.in_rows("tokens") and set(images.DRAW) < set(data.KINDS)  # tokens are text


def test_metric_writer(tmp_path):
  from ganjax.writers import MetricWriter

  w = MetricWriter(tmp_path, 0, 10, progress=False)
  w.scalars(5, {"g/loss": np.float32(1.5), "d/loss": 2})
  w.image(5, "samples", np.zeros((4, 4, 3), np.uint8))
  w.close()
  assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {"step": 5, "g/loss": 1.5, "d/loss": 2.0}
  assert list((tmp_path / "tensorboard").iterdir())


def test_staircase_decay_and_per_tensor_clipping_are_tensorflows():
  """`lr_decay_rate`/`lr_decay_steps`: SGD's step at update u is lr * r^floor(u / steps) (TF's staircase
  exponential_decay); `grad_clip_by="tensor"`: each tensor g -> g min(1, c / ||g||) on its own (TF's
  clip_by_norm per variable), where the global norm would scale the small tensor too."""
  from ganjax import state as state_lib

  cfg = ml_collections.ConfigDict({"name": "sgd", "lr": 0.5, "lr_decay_rate": 0.1, "lr_decay_steps": 2})
  tx = state_lib.optimizer(cfg)
  params, opt = {"w": jnp.zeros(())}, None
  opt = tx.init(params)
  moves = []
  for _ in range(5):
    upd, opt = tx.update({"w": jnp.ones(())}, opt, params)
    moves.append(-float(upd["w"]))
  np.testing.assert_allclose(moves, [0.5, 0.5, 0.05, 0.05, 0.005], rtol=1e-6)
  grads = {"big": jnp.full((4,), 5.0), "small": jnp.full((4,), 0.5)}  # norms 10 and 1
  for by, small_scale in [("tensor", 1.0), ("global", 5.0 / np.sqrt(100 + 1))]:
    cfg = ml_collections.ConfigDict({"name": "sgd", "lr": 1.0, "grad_clip": 5.0, "grad_clip_by": by})
    tx = state_lib.optimizer(cfg)
    upd, _ = tx.update(grads, tx.init(grads), grads)
    np.testing.assert_allclose(-np.asarray(upd["small"]), 0.5 * small_scale, rtol=1e-5)
    big_norm = np.linalg.norm(np.asarray(upd["big"]))
    np.testing.assert_allclose(big_norm, 5.0 if by == "tensor" else 10 * 5.0 / np.sqrt(101), rtol=1e-5)


def _fn(*args):
  return None


def test_a_misspelled_part_of_a_method_record_is_refused_naming_the_valid_ones():
  with pytest.raises(ConfigError, match=r"^Sampler has no part 'generate_labelled' \(did you mean 'generate_labeled'\?\); "
                                        r"valid: generate, generate_labeled, grids, density_decoder$"):
    Sampler(_fn, generate_labelled=_fn)
  with pytest.raises(ConfigError, match=r"^Method has no part 'CONFIG_BLOCK'; valid: init, train_step, sampler, "
                                        r"translator, .*, config_block, sharded_extra$"):
    Method(init=_fn, train_step=_fn, CONFIG_BLOCK="gan")
  with pytest.raises(ConfigError, match=r"^Method has no part 'generate' \(it is Sampler's: sampler=Sampler\(\.\.\.\)\); "):
    dataclasses.replace(Method(init=_fn, train_step=_fn), generate=_fn)  # a copy is checked as a new record
  with pytest.raises(ConfigError, match=r"^Classifier.matching must be one of identity, hungarian, got 'exact'$"):
    Classifier(_fn, matching="exact")
  with pytest.raises(ConfigError, match=r"^Method.sampler must be a Sampler\(...\) or None, got <function"):
    Method(init=_fn, train_step=_fn, sampler=_fn)  # a bare generate, not its part


def test_a_method_record_without_init_or_train_step_is_refused():
  with pytest.raises(ConfigError, match=r"^Method needs train_step: Method\(init=\.\.\., train_step=\.\.\.\)$"):
    Method(init=_fn)
  with pytest.raises(ConfigError, match=r"^Method needs init and train_step: "):
    Method()
  with pytest.raises(ConfigError, match=r"^Method.train_step must be a function, got None$"):
    Method(init=_fn, train_step=None)
  with pytest.raises(ConfigError, match=r"^register\('mine', \.\.\.\) takes a method's record, Method\(init=\.\.\., "
                                        r"train_step=\.\.\.\), not module$"):
    algorithms.register("mine", algorithms.gan)  # a module is no record
  assert "mine" not in algorithms.ALGORITHMS


def test_what_a_record_leaves_out_is_derived():
  built_in, elsewhere = algorithms.get("gan"), Method(init=_fn, train_step=_fn, adversarial=stabilizers.Adversarial())
  assert built_in.config_block == "gan" and elsewhere.config_block is None  # a fork reads its original's block
  assert built_in.sharded_extra == elsewhere.sharded_extra == stabilizers.SHARDED_EXTRA  # the replay memory
  assert Method(init=_fn, train_step=_fn).sharded_extra == ()
  assert Method(init=_fn, train_step=_fn, config_block="mine").config_block == "mine"


def test_every_registered_method_is_a_valid_record_naming_a_config_block_of_its_configs():
  blocks = {}
  for name, arg in [(n, None) for n in CONFIGS] + [("bgan.py", "discrete"), ("bgan.py", "tokens")]:
    c = load_config(name, arg)
    method = algorithms.get(c.algorithm)
    assert method.config_block is None or method.config_block in c, (name, arg, method.config_block)
    blocks[c.algorithm] = method.config_block
  built_in = sorted(n for n, m in algorithms.ALGORITHMS.items() if m.train_step.__module__.startswith("ganjax."))
  assert sorted(blocks) == built_in  # every method has a config (tests may have registered others)
  assert blocks["unrolled_gan"] == "unrolled" and blocks["infogan"] == "info" and blocks["bgan_tokens"] == "bgan"
  assert blocks["cgan"] is blocks["acgan"] is None and blocks["vae"] == "vae"
  for name, method in algorithms.ALGORITHMS.items():
    assert isinstance(method, Method) and dataclasses.replace(method) == method, name  # checked again, unchanged
    assert (method.adversarial is not None) == (method.sharded_extra == stabilizers.SHARDED_EXTRA), name


def test_a_states_config_is_frozen_from_a_copy():
  """A FrozenConfigDict compares through the ConfigDict it was made from; the state's must not follow
  that config's later changes, or two runs' programs would share a cache key (`state.frozen`)."""
  from ganjax import base_config

  c = base_config.get_config()
  before = state_lib.frozen(c)
  c.optim.g.lr = 0.5
  assert before.optim.g.lr != 0.5 and before != state_lib.frozen(c)
  assert before == state_lib.frozen(base_config.get_config())
