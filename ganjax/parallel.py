"""Device mesh, shardings, and global batches assembled from process-local data.

Data parallelism over every device of every process: one mesh axis, `data`. The state is
replicated, batches are split along their leading axis. `jax.jit` with these `NamedSharding`s does
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


def check_batch_size(global_batch: int, mesh):
  n = mesh.devices.size
  if global_batch % n:
    raise ConfigError(f"batch_size={global_batch} is not divisible by the {n} devices of the mesh")


def global_batch(local: dict, mesh) -> dict:
  """Process-local numpy batch -> global jax.Array batch sharded along `data`."""
  sharding = batch_sharding(mesh)
  if jax.process_count() == 1:  # the same result, without the multi-process bookkeeping (2x faster)
    return jax.device_put({k: np.asarray(v) for k, v in local.items()}, sharding)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in local.items()}


def local_copy(tree):
  """Replicated (possibly multi-process) arrays -> numpy, from this process's own copy."""
  return jax.tree.map(lambda x: np.asarray(x.addressable_shards[0].data) if isinstance(x, jax.Array)
                      else np.asarray(x), tree)
