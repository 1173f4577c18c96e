"""The input pipeline: a source's rows in process-local batches through a grain iterator. One global
index stream (a fresh permutation per epoch from (seed, epoch), repeated forever, cut into batches
at the *global* batch size) is computed identically by every JAX process, and each process keeps its
own contiguous slice of rows, so the data a step sees does not depend on how many processes or
devices there are, and the grain iterator's state (one integer) restores the exact position. Rows
are gathered from the source a batch at a time; a stream i > 0 of several has its own shuffles."""

from __future__ import annotations

from typing import Optional

import grain
import jax
import numpy as np

from ganjax.data.base import Source
from ganjax.errors import DataError


class Pipeline:
  """Iterates process-local batches of a source; `iterator` is the checkpointable grain iterator."""

  def __init__(self, source: Source, global_batch: int, seed: int, shuffle: bool = True,
               process_index: Optional[int] = None, process_count: Optional[int] = None, stream: int = 0):
    self.source = source
    self.process_index = jax.process_index() if process_index is None else process_index
    self.process_count = jax.process_count() if process_count is None else process_count
    if global_batch % self.process_count:
      raise DataError(f"batch_size={global_batch} is not divisible by the {self.process_count} processes")
    if global_batch > source.size:
      raise DataError(f"batch_size={global_batch} is larger than the dataset {source.name} "
                      f"({source.size} examples)")
    self.global_batch = global_batch
    self.local_batch = global_batch // self.process_count
    self.seed, self.shuffle, self.stream = seed, shuffle, stream  # stream i > 0: its own shuffles
    self._lo = self.process_index * self.local_batch
    self._perms = {}
    # An endless grain dataset over batch numbers: its iterator state (one integer) is the data position.
    # Rows are computed a whole batch at a time (a per-example grain shuffle + batch costs ~30 us per
    # example in Python, which limited small models).
    self.dataset = grain.MapDataset.range(2**62).map(self._batch)
    self.iterator = iter(self.dataset.to_iter_dataset())

  def _permutation(self, epoch: int) -> np.ndarray:
    if epoch not in self._perms:
      if len(self._perms) > 4:
        self._perms.pop(min(self._perms))
      rng = np.random.default_rng([self.seed, epoch] if self.stream == 0 else [self.seed, epoch, self.stream])
      self._perms[epoch] = rng.permutation(self.source.size) if self.shuffle else np.arange(self.source.size)
    return self._perms[epoch]

  def indices(self, batch_number: int) -> np.ndarray:
    """Rows of the global batch `batch_number`: positions in an endless stream of per-epoch shuffles."""
    n = self.source.size
    pos = np.arange(batch_number * self.global_batch, (batch_number + 1) * self.global_batch)
    epochs, offsets = np.divmod(pos, n)
    out = np.empty_like(pos)
    for e in np.unique(epochs):
      sel = epochs == e
      out[sel] = self._permutation(int(e))[offsets[sel]]
    return out

  def _batch(self, batch_number) -> dict:
    idx = self.indices(int(batch_number))
    mine = idx[self._lo:self._lo + self.local_batch]
    if self.source.get_augmented is None or not self.shuffle:
      return self.source.get(mine)
    # Random augmentation drawn for the whole global batch, so no row depends on the process count.
    rng = np.random.default_rng([self.seed, int(batch_number), self.stream, 17])
    keep = np.zeros(self.global_batch, bool)
    keep[self._lo:self._lo + self.local_batch] = True
    return self.source.get_augmented(mine, _Slice(rng, self.global_batch, keep))

  def __iter__(self):
    return self

  def __next__(self) -> dict:
    return next(self.iterator)


class _Slice:
  """A numpy Generator's draws for the global batch, of which this process keeps its own rows."""

  def __init__(self, rng, n: int, keep):
    self.rng, self.n, self.keep = rng, n, keep

  def integers(self, low, high, size):
    return self.rng.integers(low, high, self.n)[self.keep]

  def random(self, size):
    return self.rng.random(self.n)[self.keep]


def make(source: Source, global_batch: int, seed: int, **kw) -> Pipeline:
  return Pipeline(source, global_batch, seed, **kw)
