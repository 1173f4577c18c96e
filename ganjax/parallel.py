"""Device mesh, shardings, and global batches assembled from process-local data.

Data parallelism over every device of every process: one mesh axis, `data`. The state is
replicated, except the `extra` arrays a method's record names in its `sharded_extra` (a replay buffer), whose
leading axis is split over `data` like the batches (kept replicated when its rows do not divide over the
devices). `jax.jit` with these `NamedSharding`s does
the rest (no pmap); multi-process runs see the very same program.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from ganjax.errors import ConfigError

DATA = "data"


def make_mesh(num_devices: int = 0) -> jax.sharding.Mesh:
  """A 1-D mesh over all devices (or the first `num_devices` of a single process)."""
  n = num_devices or jax.device_count()
  if n > jax.device_count():
    raise ConfigError(f"mesh.num_devices={n} but only {jax.device_count()} devices are visible")
  devices = jax.devices()[:n]
  return jax.sharding.Mesh(np.asarray(devices), (DATA,))


def replicated(mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA))


def state_shardings(state, mesh, sharded_extra=()):
  """A pytree of shardings in the structure of `state` (a TrainState, or its eval_shape): every
  leaf replicated but those under `state.extra[name]` for `name` in `sharded_extra`."""
  rep, split = replicated(mesh), batch_sharding(mesh)
  shardings = jax.tree.map(lambda _: rep, state)
  if not sharded_extra:
    return shardings
  n = mesh.devices.size
  extra = dict(shardings.extra)
  for name in sharded_extra:
    # rows that do not divide over the devices (CycleGAN's 50-image pool on 4 or 8) stay replicated: the
    # same values either way, only where they are held differs
    if name in state.extra and not any(leaf.shape[0] % n for leaf in jax.tree.leaves(state.extra[name])):
      extra[name] = jax.tree.map(lambda _: split, state.extra[name])
  return shardings.replace(extra=extra)


def check_batch_size(global_batch: int, mesh):
  n = mesh.devices.size
  if global_batch % n:
    raise ConfigError(f"batch_size={global_batch} is not divisible by the {n} devices of the mesh")


def global_batch(local: dict, mesh) -> dict:
  """Process-local numpy batch (a dict, or a dict of streams' dicts) -> global jax.Array batch
  sharded along `data`."""
  sharding = batch_sharding(mesh)
  if jax.process_count() == 1:  # the same result, without the multi-process bookkeeping (2x faster)
    return jax.device_put(jax.tree.map(np.asarray, local), sharding)
  return jax.tree.map(lambda v: jax.make_array_from_process_local_data(sharding, np.asarray(v)), local)


def local_copy(tree):
  """Replicated (possibly multi-process) arrays -> numpy, from this process's own copy."""
  return jax.tree.map(lambda x: np.asarray(x.addressable_shards[0].data) if isinstance(x, jax.Array)
                      else np.asarray(x), tree)
