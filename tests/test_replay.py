"""The replay memory (`ganjax.stabilizers.replay_mix`, `init_extra`) against the image pool of the
CycleGAN / pix2pix authors' released code (`util/image_pool.py`, `ImagePool.query`), written out
below from its definition: until the pool holds `pool_size` images, each queried image is stored
and returned as it is; once full, each image is either returned as it is, or swapped with a stored
one, which is returned in its place. The memory starts empty: no method fills it at init."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import parallel, stabilizers
from ganjax.algorithms import gan
from ganjax.data import builtin


class ImagePool:
  """The authors' pool, one image at a time; its coin flips and slots are handed in, so that a run
  of `replay_mix` can be replayed through it with the same choices."""

  def __init__(self, pool_size: int):
    self.pool_size, self.images = pool_size, []

  def query(self, images, swaps):
    """swaps[i]: the slot row i swaps with once the pool is full, or None (returned as it is)."""
    out = []
    for image, slot in zip(images, swaps):
      if len(self.images) < self.pool_size:
        self.images.append(image)
        out.append(image)
      elif slot is None:
        out.append(image)
      else:
        out.append(self.images[slot])
        self.images[slot] = image
    return out


def choices(served, fresh, memory_before):
  """The pool's choices that `replay_mix` made, read from its output: None for a row served as it
  is, else the slot holding the value it was served (before the query, or stored by an earlier row
  of the same query)."""
  swaps = []
  for i, value in enumerate(served):
    if value == fresh[i]:
      swaps.append(None)
      continue
    where = np.flatnonzero(memory_before == value)
    if where.size == 0:  # an image this very query stored in a free slot
      where = [len([v for v in memory_before if v != 0]) + list(fresh).index(value)]
    swaps.append(int(where[0]))
  return swaps


def test_random_rows_are_the_image_pool_from_empty_to_full():
  """Pool of 6, batches of 4, unique values per image: the first batch and the first two rows of the
  second fill the pool and are served as they are; from then on every row is either served as it
  is or swapped with a stored image, and the pool, replayed with the same choices, agrees exactly."""
  size, n = 6, 4
  memory, filled = jnp.zeros((size, 1)), jnp.zeros((), jnp.int32)
  pool = ImagePool(size)
  mix = jax.jit(stabilizers.replay_mix, static_argnums=(2, 4))
  swapped = 0
  for t in range(40):
    fresh = 1.0 + 100 * t + jnp.arange(n, dtype=jnp.float32)[:, None]
    before = np.asarray(memory[:, 0])
    served, memory = mix(memory, fresh, 0.5, jax.random.key(t), "random", filled)
    filled = stabilizers.replay_filled(filled, n, size)
    swaps = choices(np.asarray(served[:, 0]), np.asarray(fresh[:, 0]), before)
    if t == 0:
      assert swaps == [None] * 4  # filling: served as they are
    if t == 1:
      assert swaps[:2] == [None, None]  # the last two free slots
    expected = pool.query(list(np.asarray(fresh[:, 0])), swaps)
    np.testing.assert_array_equal(np.asarray(served[:, 0]), expected)
    np.testing.assert_array_equal(np.asarray(memory[:, 0]), pool.images + [0.0] * (size - len(pool.images)))  # empty: 0
    swapped += sum(s is not None for s in swaps)
  assert int(filled) == size and not np.any(np.asarray(memory) == 0)  # nothing it started with is left
  assert 0.35 < swapped / (40 * n - 6) < 0.65  # the pool's 50 / 50 once full


def test_fixed_rows_fill_then_serve_half_the_batch_from_the_history():
  """rows="fixed" (SimGAN's half-batch history): two batches of 4 fill a memory of 8 and are served
  as they are, in its slots 0-7 in order; then the first round(0.5 * 4) = 2 rows come from the
  memory and take 2 of its slots."""
  memory, filled = jnp.zeros((8, 1)), jnp.zeros((), jnp.int32)
  for t in range(2):
    fresh = 1.0 + 4 * t + jnp.arange(4.0)[:, None]
    served, memory = stabilizers.replay_mix(memory, fresh, 0.5, jax.random.key(t), "fixed", filled)
    filled = stabilizers.replay_filled(filled, 4, 8)
    np.testing.assert_array_equal(served, fresh)
  np.testing.assert_array_equal(np.asarray(memory[:, 0]), np.arange(1.0, 9.0))
  fresh = 100.0 + jnp.arange(4.0)[:, None]
  served, new = stabilizers.replay_mix(memory, fresh, 0.5, jax.random.key(2), "fixed", filled)
  assert np.all(np.isin(np.asarray(served[:2, 0]), np.arange(1.0, 9.0)))
  np.testing.assert_array_equal(served[2:], fresh[2:])
  changed = np.flatnonzero(np.asarray(new[:, 0] != memory[:, 0]))
  assert len(changed) == 2 and sorted(np.asarray(new[changed, 0])) == [100.0, 101.0]


def _gan_setup(config_of, replay_size):
  c = config_of("gan.py")
  c.gan.replay_size, c.gan.replay_fraction = replay_size, 0.5
  images = builtin.digits().get(np.arange(c.batch_size))["image"]
  batch = {"image": jnp.asarray(jax.image.resize(images, (len(images), 8, 8, 1), "bilinear"))}
  return c, gan.init(c, jax.random.key(0), batch), batch


def test_a_method_starts_with_an_empty_memory_and_d_first_sees_fresh_fakes(config_of):
  """From init: an empty (zero) memory with fill level 0; the first D batch is the fresh samples, so
  D's loss equals the one without a memory, and the batch fills the first slots."""
  c, state, batch = _gan_setup(config_of, 16)
  assert int(state.extra[stabilizers.REPLAY_FILLED]) == 0 and not np.any(np.asarray(state.extra["replay"]))
  new, m = jax.jit(gan.train_step)(state, batch, jax.random.key(1))
  _, plain, _ = _gan_setup(config_of, 0)
  _, m0 = jax.jit(gan.train_step)(plain, batch, jax.random.key(1))
  np.testing.assert_allclose(float(m["d/loss"]), float(m0["d/loss"]), rtol=1e-6)
  assert int(new.extra[stabilizers.REPLAY_FILLED]) == c.batch_size
  stored = np.any(np.asarray(new.extra["replay"]).reshape(16, -1) != 0, axis=1)
  np.testing.assert_array_equal(stored, np.arange(16) < c.batch_size)


def test_the_memory_rows_are_sharded_and_its_fill_level_replicated(config_of):
  c, state, batch = _gan_setup(config_of, 16)
  mesh = parallel.make_mesh(4)
  shardings = parallel.state_shardings(jax.eval_shape(lambda: state), mesh, gan.METHOD.sharded_extra)
  assert shardings.extra["replay"].spec == jax.sharding.PartitionSpec("data")
  assert shardings.extra[stabilizers.REPLAY_FILLED].spec == jax.sharding.PartitionSpec()


@pytest.mark.parametrize("rows", ["fixed", "random"])
def test_a_full_memory_without_a_fill_level_is_unchanged(rows):
  """filled = size behaves exactly as a memory without a fill level (one that started full)."""
  memory, fresh = 1000.0 + jnp.arange(16.0)[:, None], jnp.arange(8.0)[:, None]
  a = stabilizers.replay_mix(memory, fresh, 0.5, jax.random.key(5), rows)
  b = stabilizers.replay_mix(memory, fresh, 0.5, jax.random.key(5), rows, jnp.asarray(16, jnp.int32))
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x, y)
