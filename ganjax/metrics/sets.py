"""Set-to-set metrics of generated against real samples in a feature space, each following its
paper's protocol and its authors' code's conventions:

- KID (Bińkowski et al. 2018, "Demystifying MMD GANs", Sec. 3): the unbiased estimate of the
  squared MMD with the cubic polynomial kernel k(a, b) = (a.b / d + 1)^3, averaged over `subsets`
  random subsets of `subset_size` from each set; reported with its standard deviation over them. A
  subset size larger than a set is refused, as torch-fidelity does, and so is one equal to the
  smaller set (every subset would be the whole set: no randomness, a std of 0).
- Improved precision and recall (Kynkäänniemi et al. 2019, Sec. 3): the manifold of a set is the
  union of balls around its points with radius the distance to their k-th nearest neighbour
  (k = 3); precision is the fraction of generated samples inside the real manifold, recall the
  fraction of real samples inside the generated one. A point on a ball's boundary is inside: the
  authors' code compares squared distances with `<=`, and so does this one.
- Density and coverage (Naeem et al. 2020, Sec. 3, k = 5): density = (1 / kM) sum_j sum_i
  1[Y_j in B(X_i, NND_k(X_i))]; coverage = fraction of real X_i whose ball holds a generated sample.
  A point on the boundary is outside: the authors' `prdc` package compares Euclidean distances with
  a strict `<`. The difference matters on ties (repeated feature vectors, all-zero ReLU rows,
  samples that copy real ones), where radii are 0: with `<=` every copy would count.
- Nearest-neighbour overfitting test (the seeds' memorisation check): each generated sample's
  distance to its nearest training image against held-out real images' distance to theirs; a ratio
  well below 1 means samples sit closer to the training set than new data does: copies.
- Diversity: mean pairwise distance within the generated set over that within real data.

Memory is linear in the set sizes: the k-NN radii and ball memberships are computed over blocks of
rows (`block_bytes` of distances at a time) and never hold an N x M matrix; the result equals the
one-block computation exactly. `backend="auto"` computes the blocks with JAX on an accelerator when
JAX is already imported and its default backend is not the CPU (float32 at highest matmul precision;
ties at float32 resolution may then differ from the float64 CPU result), else with NumPy in float64.

This module and `ganjax.metrics.fid` import neither JAX nor Flax.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ganjax.errors import ConfigError
from ganjax.metrics import fid as fid_lib

BLOCK_BYTES = 1 << 26  # 64 MiB of float64 distances per block; a few such blocks are live at once


def _sq_dists(a, b):
  """Squared Euclidean distances (a, b) by the dot-product expansion, clipped at 0 (float64)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  d = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :]
  ab = a @ b.T
  ab *= 2.0
  d -= ab
  return np.maximum(d, 0.0, out=d)


def _flat(x):
  x = np.asarray(x, np.float64)
  return x.reshape((len(x), -1))


# ----------------------------------------------------------------------------------------------
# Blocked pairwise passes (NumPy float64, or JAX on an accelerator)


class _NumpyOps:
  name = "numpy"
  xp = np

  def put(self, x):
    return x

  def get(self, x):
    return np.asarray(x)

  def sq_dists(self, a, b):
    return _sq_dists(a, b)

  def smallest(self, d, ks):
    part = np.partition(d, list(ks), axis=1)
    return [part[:, k].copy() for k in ks]  # copies: a view would keep the whole block alive


class _JaxOps:
  name = "jax"

  def __init__(self):
    import jax
    import jax.numpy as jnp

    self.xp, self._jax = jnp, jax

    def sq(a, b):
      ab = jnp.matmul(a, b.T, precision=jax.lax.Precision.HIGHEST)
      return jnp.maximum(jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2.0 * ab, 0.0)

    self.sq_dists = jax.jit(sq)

  def put(self, x):
    return self._jax.device_put(np.asarray(x, np.float32))

  def get(self, x):
    return np.asarray(x)

  def smallest(self, d, ks):
    values = -self._jax.lax.top_k(-d, max(ks) + 1)[0]
    return [values[:, k] for k in ks]


def _ops(backend: str):
  if backend == "auto":
    jax = sys.modules.get("jax")
    backend = "jax" if jax is not None and jax.default_backend() != "cpu" else "numpy"
  if backend == "numpy":
    return _NumpyOps()
  if backend == "jax":
    return _JaxOps()
  raise ConfigError(f"unknown metric backend {backend!r}; valid: auto, jax, numpy")


def _row_blocks(n_rows: int, n_cols: int, block_bytes: int):
  rows = max(1, int(block_bytes) // (8 * max(1, n_cols)))
  return [slice(i, min(n_rows, i + rows)) for i in range(0, n_rows, rows)]


def progress_bar(items, desc: str, progress: bool, unit: str = "block"):
  """`items`, with a tqdm bar on stderr when `progress`."""
  if not progress:
    return items
  from tqdm import tqdm

  return tqdm(items, desc=f"ganjax: {desc}", unit=unit, file=sys.stderr, leave=False)


def knn_sq_radii(x, ks, *, backend: str = "auto", block_bytes: int = BLOCK_BYTES, progress: bool = False,
                 ops=None) -> dict:
  """{k: squared distance of each row of x to its k-th nearest neighbour in x, itself excluded},
  computed block by block (memory linear in len(x))."""
  ops = ops or _ops(backend)
  x, ks = _flat(x), tuple(sorted(set(ks)))
  if len(x) <= max(ks):
    raise ConfigError(f"{len(x)} points are too few for {max(ks)}-nearest-neighbour balls")
  xd = ops.put(x)
  out = {k: [] for k in ks}
  for s in progress_bar(_row_blocks(len(x), len(x), block_bytes), f"{max(ks)}-NN radii of {len(x)}", progress):
    for k, r in zip(ks, ops.smallest(ops.sq_dists(xd[s], xd), ks)):  # column 0: the point itself
      out[k].append(ops.get(r))
  return {k: np.concatenate(v).astype(np.float64) for k, v in out.items()}


def manifold_metrics(real, fake, *, k_pr: int = 3, k_dc: int = 5, backend: str = "auto",
                     block_bytes: int = BLOCK_BYTES, progress: bool = False) -> dict:
  """Precision, recall (k_pr, boundary inside), density and coverage (k_dc, boundary outside) in
  three blocked passes: real-real radii, fake-fake radii, and one pass over fake-real distances."""
  ops = _ops(backend)
  real, fake = _flat(real), _flat(fake)
  r_real = knn_sq_radii(real, (k_pr, k_dc), ops=ops, block_bytes=block_bytes, progress=progress)
  r_fake = knn_sq_radii(fake, (k_pr,), ops=ops, block_bytes=block_bytes, progress=progress)[k_pr]
  xp = ops.xp
  real_d = ops.put(real)
  pr_real = ops.put(r_real[k_pr])  # squared radii: Kynkäänniemi et al.'s code compares squared distances
  dc_real = xp.sqrt(ops.put(r_real[k_dc]))  # Euclidean radii: prdc compares Euclidean distances
  fake_d, pr_fake = ops.put(fake), ops.put(r_fake)
  precise, inside_count = [], 0.0
  recalled = xp.zeros(len(real), bool)
  nearest_fake = xp.full(len(real), np.inf, dtype=real_d.dtype)
  for s in progress_bar(_row_blocks(len(fake), len(real), block_bytes), f"memberships {len(fake)} x {len(real)}",
                     progress):
    d2 = ops.sq_dists(fake_d[s], real_d)  # (block of fake, real)
    precise.append(ops.get(xp.any(d2 <= pr_real[None, :], axis=1)))
    recalled = recalled | xp.any(d2 <= pr_fake[s][:, None], axis=0)
    d = xp.sqrt(d2)
    inside_count += float(xp.sum(d < dc_real[None, :]))
    nearest_fake = xp.minimum(nearest_fake, xp.min(d, axis=0))
  return {"precision": float(np.mean(np.concatenate(precise))),
          "recall": float(np.mean(ops.get(recalled))),
          "density": inside_count / (k_dc * len(fake)),
          "coverage": float(np.mean(ops.get(nearest_fake < dc_real)))}


def precision_recall(real, fake, k: int = 3, **kw) -> tuple[float, float]:
  m = manifold_metrics(real, fake, k_pr=k, k_dc=k, **kw)
  return m["precision"], m["recall"]


def density_coverage(real, fake, k: int = 5, **kw) -> tuple[float, float]:
  m = manifold_metrics(real, fake, k_pr=k, k_dc=k, **kw)
  return m["density"], m["coverage"]


# ----------------------------------------------------------------------------------------------
# KID, nearest neighbours, diversity


def check_kid_subset_size(subset_size: int, n_real: int, n_fake: int, subsets: int = 100):
  """The one-line refusal of a KID subset size that exceeds a set or leaves no randomness."""
  n = min(n_real, n_fake)
  if subset_size < 2:
    raise ConfigError(f"KID subset size {subset_size} must be at least 2 (eval.kid_subset_size)")
  if subset_size > n:
    raise ConfigError(f"KID subset size {subset_size} is larger than the smaller set ({n_real} real, {n_fake} "
                      f"generated): lower eval.kid_subset_size or use more samples")
  if subset_size == n and subsets > 1:
    raise ConfigError(f"KID subset size {subset_size} equals the smaller set's size: every one of the {subsets} "
                      f"subsets would be the whole set (kid_std 0); lower eval.kid_subset_size")


def kid_subset_size(requested: int, n_real: int, n_fake: int, subsets: int = 100) -> int:
  """`requested`, or with 0 torch-fidelity's 1,000 capped at half the smaller set (so that the
  subsets stay random); checked by `check_kid_subset_size`."""
  size = requested or min(1000, min(n_real, n_fake) // 2)
  check_kid_subset_size(size, n_real, n_fake, subsets)
  return size


def kid(real, fake, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
        progress: bool = False) -> tuple[float, float]:
  """(mean, std) of the unbiased polynomial-kernel MMD^2 over random subsets."""
  real, fake = _flat(real), _flat(fake)
  check_kid_subset_size(subset_size, len(real), len(fake), subsets)
  m, d = subset_size, real.shape[1]
  rng = np.random.default_rng(seed)
  values = []
  for _ in progress_bar(range(subsets), "KID subsets", progress):
    x = real[rng.choice(len(real), m, replace=False)]
    y = fake[rng.choice(len(fake), m, replace=False)]
    kxx, kyy, kxy = ((x @ x.T) / d + 1)**3, ((y @ y.T) / d + 1)**3, ((x @ y.T) / d + 1)**3
    values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                  - 2.0 * kxy.mean())
  return float(np.mean(values)), float(np.std(values))


def nearest_neighbour_distances(queries, reference, batch: int = 1000):
  """(distance to the nearest reference row, its index) for every query row (Euclidean)."""
  queries, reference = _flat(queries), _flat(reference)
  dist, idx = [], []
  for i in range(0, len(queries), batch):
    d = _sq_dists(queries[i:i + batch], reference)
    j = d.argmin(1)
    idx.append(j)
    dist.append(np.sqrt(d[np.arange(len(j)), j]))
  return np.concatenate(dist), np.concatenate(idx)


def overfitting_ratio(generated, heldout, train) -> tuple[float, float, float]:
  """(median NN distance of generated samples to the training set, the same for held-out real
  images, their ratio)."""
  g = float(np.median(nearest_neighbour_distances(generated, train)[0]))
  h = float(np.median(nearest_neighbour_distances(heldout, train)[0]))
  return g, h, g / max(h, 1e-12)


def mean_pairwise_distance(x, max_points: int = 2000, seed: int = 0) -> float:
  x = _flat(x)
  if len(x) > max_points:
    x = x[np.random.default_rng(seed).choice(len(x), max_points, replace=False)]
  d = np.sqrt(_sq_dists(x, x))
  n = len(x)
  return float(d.sum() / (n * (n - 1)))


# ----------------------------------------------------------------------------------------------
# Everything at once


def score(real, fake, *, kid_subsets: int = 100, kid_subset_size: int = 1000, backend: str = "auto",
          block_bytes: int = BLOCK_BYTES, progress: bool = False) -> dict:
  """FID, KID (± std), precision, recall, density and coverage of `fake` against `real` features,
  with each metric's wall time under `seconds/<metric>`."""
  out, t = {}, time.perf_counter()
  out["fid"] = fid_lib.fid(fake, real)
  out["seconds/fid"], t = round(time.perf_counter() - t, 3), time.perf_counter()
  out["kid"], out["kid_std"] = kid(real, fake, kid_subsets, kid_subset_size, progress=progress)
  out["seconds/kid"], t = round(time.perf_counter() - t, 3), time.perf_counter()
  out.update(manifold_metrics(real, fake, backend=backend, block_bytes=block_bytes, progress=progress))
  out["seconds/precision_recall_density_coverage"] = round(time.perf_counter() - t, 3)
  return out
