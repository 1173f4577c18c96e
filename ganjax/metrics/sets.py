"""Set-to-set metrics of generated against real samples in a feature space (ganjax's dataset
classifier's penultimate features at evaluation), each following its paper's protocol:

- KID (Bińkowski et al. 2018, "Demystifying MMD GANs", Sec. 3): the unbiased estimate of the
  squared MMD with the cubic polynomial kernel k(a, b) = (a.b / d + 1)^3, averaged over `subsets`
  random subsets of `subset_size` from each set; reported with its standard deviation over them.
- Improved precision and recall (Kynkäänniemi et al. 2019, Sec. 3): the manifold of a set is the
  union of balls around its points with radius the distance to their k-th nearest neighbour
  (k = 3); precision is the fraction of generated samples inside the real manifold, recall the
  fraction of real samples inside the generated one.
- Density and coverage (Naeem et al. 2020, Sec. 3, k = 5): density = (1 / kM) sum_j sum_i
  1[Y_j in B(X_i, NND_k(X_i))]; coverage = fraction of real X_i whose ball holds a generated sample.
- Nearest-neighbour overfitting test (the seeds' memorisation check): each generated sample's
  distance to its nearest training image against held-out real images' distance to theirs; a ratio
  well below 1 means samples sit closer to the training set than new data does: copies.
- Diversity: mean pairwise distance within the generated set over that within real data.
"""

from __future__ import annotations

import numpy as np


def _sq_dists(a, b):
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  d = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2.0 * a @ b.T
  return np.maximum(d, 0.0)


def _flat(x):
  x = np.asarray(x, np.float64)
  return x.reshape((len(x), -1))


def kid(real, fake, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
  """(mean, std) of the unbiased polynomial-kernel MMD^2 over random subsets."""
  real, fake = _flat(real), _flat(fake)
  m = min(subset_size, len(real), len(fake))
  d = real.shape[1]
  rng = np.random.default_rng(seed)
  values = []
  for _ in range(subsets):
    x = real[rng.choice(len(real), m, replace=False)]
    y = fake[rng.choice(len(fake), m, replace=False)]
    kxx, kyy, kxy = ((x @ x.T) / d + 1)**3, ((y @ y.T) / d + 1)**3, ((x @ y.T) / d + 1)**3
    values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                  - 2.0 * kxy.mean())
  return float(np.mean(values)), float(np.std(values))


def _kth_radius(x, k: int):
  """Distance of each point to its k-th nearest neighbour in its own set (itself excluded)."""
  d = np.sqrt(_sq_dists(x, x))
  return np.sort(d, axis=1)[:, k]  # column 0 is the point itself


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
  real, fake = _flat(real), _flat(fake)
  r_real, r_fake = _kth_radius(real, k), _kth_radius(fake, k)
  d = np.sqrt(_sq_dists(fake, real))  # (fake, real)
  precision = np.mean(np.any(d <= r_real[None, :], axis=1))
  recall = np.mean(np.any(d.T <= r_fake[None, :], axis=1))
  return float(precision), float(recall)


def density_coverage(real, fake, k: int = 5) -> tuple[float, float]:
  real, fake = _flat(real), _flat(fake)
  r_real = _kth_radius(real, k)
  inside = np.sqrt(_sq_dists(fake, real)) <= r_real[None, :]  # (fake, real)
  density = inside.sum() / (k * len(fake))
  coverage = np.mean(inside.any(axis=0))
  return float(density), float(coverage)


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
