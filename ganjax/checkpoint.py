"""The only module that talks to orbax: one checkpoint holds the whole run.

Each step directory holds three items in one `ocp.args.Composite`: `state` (every player's params,
model state and optax state, the step, method extras), `data` (the grain iterator position, one
file per process; `data_<stream>` for each of several streams) and `config` (JSON, for humans and `--mode=sample/eval`). Saves are asynchronous;
`close()` waits for the last one. A checkpoint that cannot be read stops with one line that names
it; nothing on disk is touched. A state whose leaves (key paths, shapes, dtypes) differ from the
checkpoint's is refused from the checkpoint's metadata, before orbax starts reading any array: a
failed read leaves orbax's abandoned reads behind, which may print asyncio tracebacks.
"""

from __future__ import annotations

import gc
import json
import os
import warnings
from typing import Optional

import grain
import jax
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

from ganjax.errors import CheckpointError

# orbax writes a replicated array "replica-parallel" (each replica writes a slice of it) by default
# off GPUs, slicing every leaf with its own compiled program: for the hundreds of small leaves of a
# GAN state (and four simulated CPU devices) that costs more than it saves (84 compilations, ~3 s, for
# DTN's first checkpoint). Leaves under 4 MiB per replica slice are written by one replica.
MIN_REPLICA_PARALLEL_BYTES = 4 << 20


def _register_array_handler():
  from absl import logging

  default = ocp.type_handlers.get_type_handler(jax.Array)
  handler = ocp.type_handlers.ArrayHandler(min_slice_bytes_for_replica_parallel=MIN_REPLICA_PARALLEL_BYTES,
                                           array_metadata_store=getattr(default, "_array_metadata_store", None))
  verbosity = logging.get_verbosity()
  logging.set_verbosity(logging.ERROR)  # (orbax warns that it overrides its own handler)
  try:
    ocp.type_handlers.register_type_handler(jax.Array, handler, override=True)
  finally:
    logging.set_verbosity(verbosity)


_register_array_handler()


class Checkpointer:

  def __init__(self, directory, max_to_keep: int = 3, async_save: bool = True):
    self.directory = os.path.abspath(os.path.expanduser(str(directory)))
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                           enable_async_checkpointing=async_save)
    try:
      self.manager = ocp.CheckpointManager(self.directory, options=options)
    except Exception as e:
      raise CheckpointError(f"cannot open checkpoint directory {self.directory}: {e}".splitlines()[0]) from None

  def latest_step(self) -> Optional[int]:
    return self.manager.latest_step()

  def all_steps(self):
    return list(self.manager.all_steps())

  def save(self, step: int, state, data_iterator=None, config=None, force: bool = False) -> bool:
    """`data_iterator`: one grain iterator, or {stream: iterator} (each saved on its own)."""
    items = {"state": ocp.args.StandardSave(state)}
    for name, it in _iterators(data_iterator).items():
      items[name] = grain.checkpoint.CheckpointSave(it)
    if config is not None:
      items["config"] = ocp.args.JsonSave(json.loads(config.to_json_best_effort()))
    return self.manager.save(int(step), args=ocp.args.Composite(**items), force=force)

  def restore(self, abstract_state, data_iterator=None, step: Optional[int] = None):
    """Restores into the structure and shardings of `abstract_state` (and the iterator in place)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise CheckpointError(f"no checkpoint in {self.directory}")
    difference = self._structure_difference(step, abstract_state)
    if difference:
      raise CheckpointError(self._unreadable(step, difference))
    items = {"state": ocp.args.StandardRestore(abstract_state)}
    for name, it in _iterators(data_iterator).items():
      items[name] = grain.checkpoint.CheckpointRestore(it)
    try:
      restored = self.manager.restore(step, args=ocp.args.Composite(**items))
    except Exception as e:
      _collect_abandoned_reads()
      raise CheckpointError(self._unreadable(step, _one_line(e))) from None
    return restored["state"]

  def _structure_difference(self, step: int, abstract_state) -> Optional[str]:
    """How the leaves saved at `step` differ from those of `abstract_state` (key paths, shapes,
    dtypes), read from the checkpoint's metadata alone; None when they agree."""
    handler = ocp.StandardCheckpointHandler()
    try:
      saved = _leaves(handler.metadata(epath.Path(self.directory) / str(step) / "state").tree)
    except Exception as e:
      return _one_line(e)
    finally:
      handler.close()
    wanted = _leaves(abstract_state)
    differ = [k for k in sorted(saved.keys() | wanted.keys())
              if k not in saved or k not in wanted or (saved[k] and wanted[k] and saved[k] != wanted[k])]
    if not differ:
      return None
    first = differ[0]
    shown = lambda leaves: leaves[first] or "present" if first in leaves else "absent"  # noqa: E731
    more = f"; and {len(differ) - 1} more" if len(differ) > 1 else ""
    return f"{first}: {shown(saved)} saved, {shown(wanted)} now{more}"

  def _unreadable(self, step: int, why: str) -> str:
    return (f"checkpoint step {step} in {self.directory} is unreadable or was written by a different config "
            f"({why}); it was left untouched: move that step's folder away to resume from an earlier one")

  def restore_config(self, step: Optional[int] = None) -> Optional[dict]:
    step = self.latest_step() if step is None else step
    if step is None:
      return None
    try:
      return self.manager.restore(step, args=ocp.args.Composite(config=ocp.args.JsonRestore()))["config"]
    except Exception:
      return None

  def wait(self):
    self.manager.wait_until_finished()

  def close(self):
    self.manager.wait_until_finished()
    self.manager.close()


def _iterators(data_iterator) -> dict:
  """Checkpoint item names of the data iterators: "data" for one, "data_<stream>" for several."""
  if data_iterator is None:
    return {}
  if isinstance(data_iterator, dict):
    return {f"data_{name}": it for name, it in data_iterator.items()}
  return {"data": data_iterator}


def _leaves(tree) -> dict:
  """{"a/b/c": "float32[2, 3]"} of a state, its abstract state or its saved metadata; "" for a leaf
  without a shape or dtype, or a PRNG key array (saved as its raw data): compared by its path alone."""
  def describe(leaf):
    dtype, shape = getattr(leaf, "dtype", None), getattr(leaf, "shape", None)
    if shape is None or dtype is None or jax.dtypes.issubdtype(dtype, jax.dtypes.extended):
      return ""
    return f"{np.dtype(dtype).name}{list(shape)}"
  return {"/".join(map(str, path)): describe(leaf) for path, leaf in ocp.tree.to_flat_dict(tree).items()}


def _one_line(e: Exception) -> str:
  msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
  return f"{type(e).__name__}: {msg[:200]}" if msg else type(e).__name__


def _collect_abandoned_reads():
  """A failed orbax restore leaves un-awaited read coroutines behind; collect them here, quietly,
  instead of letting the garbage collector warn about them at some random later point."""
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    gc.collect()


def abstract(state, sharding):
  """ShapeDtypeStructs in the structure of `state`, for restoring, with `sharding`: one sharding
  for every leaf, or a pytree of them in the structure of `state`."""
  if isinstance(sharding, jax.sharding.Sharding):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), state)
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), state, sharding)
