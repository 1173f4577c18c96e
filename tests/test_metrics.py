import numpy as np
import pytest

from ganjax.data import sources
from ganjax.metrics import classifier, fid, modes


def test_fid_of_a_set_with_itself_is_zero_and_matches_the_closed_form():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((4000, 3))
  assert fid.fid(a, a) == pytest.approx(0.0, abs=1e-6)
  # Two Gaussians with diagonal covariances: ||mu1-mu2||^2 + sum (s1 + s2 - 2 sqrt(s1 s2)).
  mu1, mu2 = np.array([0.0, 1.0]), np.array([2.0, -1.0])
  s1, s2 = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
  expected = 8.0 + (1 + 9 - 2 * 3) + (4 + 1 - 2 * 2)
  assert fid.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
  # ... and from samples, within sampling error.
  x = rng.multivariate_normal(mu1, s1, 200_000)
  y = rng.multivariate_normal(mu2, s2, 200_000)
  assert fid.fid(x, y) == pytest.approx(expected, rel=0.02)


def test_classifier_score_bounds():
  confident_uniform = np.eye(10)[np.arange(1000) % 10]
  assert fid.classifier_score(confident_uniform) == pytest.approx(10.0, rel=1e-6)
  one_class = np.eye(10)[np.zeros(1000, int)]
  assert fid.classifier_score(one_class) == pytest.approx(1.0, rel=1e-6)
  uninformative = np.full((1000, 10), 0.1)
  assert fid.classifier_score(uninformative) == pytest.approx(1.0, rel=1e-6)


def test_mode_metrics():
  centers = sources.mixture_centers("ring8")
  perfect = sources.mixture("ring8", seed=0, size=2500).get(np.arange(2500))["image"]
  m = modes.mode_metrics(perfect, "ring8")
  assert m["modes_covered"] == 8 and m["high_quality_fraction"] > 0.98
  collapsed = np.repeat(centers[:1], 2500, 0)
  m = modes.mode_metrics(collapsed, "ring8")
  assert m["modes_covered"] == 1 and m["high_quality_fraction"] == 1.0
  off_mode = np.zeros((2500, 2))  # the ring's centre: far from every mode
  m = modes.mode_metrics(off_mode, "ring8")
  assert m["modes_covered"] == 0 and m["high_quality_fraction"] == 0.0
  g = modes.mode_metrics(sources.mixture_centers("grid25"), "grid25")
  assert g["modes_covered"] == 25 and g["modes_total"] == 25
  # high quality: within 3 standard deviations of the data's modes (VEEGAN), 3 x 0.05 on the grid
  near = sources.mixture_centers("grid25") + np.array([0.12, 0.0])
  assert modes.mode_metrics(near, "grid25")["high_quality_fraction"] == 1.0
  assert modes.mode_metrics(near, "grid25", std=0.02)["high_quality_fraction"] == 0.0


def test_classifier_learns_and_is_cached(tmp_path):
  src = sources.digits()
  batch = src.get(np.arange(src.size))
  x, y = batch["image"].reshape(src.size, -1), batch["label"]  # vectors: the MLP variant, fast
  net = classifier.load_or_train(x[:1400], y[:1400], 10, tmp_path, steps=150)
  assert net.accuracy(x[1400:], y[1400:]) > 0.8
  files = list((tmp_path / "classifiers").iterdir())
  assert len(files) == 1
  again = classifier.load_or_train(x[:1400], y[:1400], 10, tmp_path, steps=150)
  np.testing.assert_array_equal(again(x[:8])[0], net(x[:8])[0])
  feats, probs = net(x[:8])
  assert feats.shape == (8, classifier.FEATURES) and np.allclose(probs.sum(1), 1, atol=1e-5)
  files[0].write_bytes(b"corrupt")  # a corrupt cache entry is retrained, not trusted
  third = classifier.load_or_train(x[:1400], y[:1400], 10, tmp_path, steps=150)
  assert third.accuracy(x[1400:], y[1400:]) > 0.8


# ---------------------------------------------------------------- set metrics (ganjax.metrics.sets)

def test_set_metrics_on_known_answers():
  from ganjax.metrics import sets

  rng = np.random.default_rng(0)
  real = rng.normal(size=(400, 8))
  same = rng.normal(size=(400, 8))
  shifted = same + 3.0
  # KID: ~0 for two samples of one distribution (unbiased), clearly positive for a shifted one.
  k_same, k_std = sets.kid(real, same, subsets=20, subset_size=200)
  k_shift, _ = sets.kid(real, shifted, subsets=20, subset_size=200)
  assert abs(k_same) < 3 * k_std + 1e-3 and k_shift > 100 * max(abs(k_same), 1e-4)
  # precision / recall / density / coverage of a set against itself.
  assert sets.precision_recall(real, real) == (1.0, 1.0)
  density, coverage = sets.density_coverage(real, real)
  assert coverage == 1.0 and density >= 1.0
  assert sets.precision_recall(real, shifted)[0] < 0.05  # samples off the real manifold
  collapsed = np.repeat(real[:1], 400, axis=0)  # one point: precise, no recall, no coverage
  p, r = sets.precision_recall(real, collapsed)
  assert p == 1.0 and r < 0.05 and sets.density_coverage(real, collapsed)[1] < 0.05
  assert sets.mean_pairwise_distance(collapsed) == 0.0
  # nearest-neighbour test: copies of training points have distance 0, fresh data does not.
  train = rng.normal(size=(300, 16))
  dist, idx = sets.nearest_neighbour_distances(train[5:9] + 1e-9, train)
  np.testing.assert_array_equal(idx, [5, 6, 7, 8])
  g, h, ratio = sets.overfitting_ratio(train[:100], rng.normal(size=(100, 16)), train)
  assert g < 1e-6 < h and ratio < 1e-6


def test_real_reference_is_a_random_subset_of_the_whole_training_split():
  """The real-vs-real floor must not use the first N training images: on the MNIST test split those
  are the easier half of the file."""
  from ganjax import metrics
  from ganjax.data.sources import from_arrays

  train = from_arrays("t", {"image": np.arange(1000, dtype=np.float32).reshape(1000, 1, 1, 1)})
  ref = metrics.real_reference(train, 100)[:, 0, 0, 0]
  assert len(np.unique(ref)) == 100 and ref.max() > 500  # drawn from all of it, not rows 0..99
  np.testing.assert_array_equal(ref, metrics.real_reference(train, 100)[:, 0, 0, 0])  # seeded


def test_nearest_neighbour_accuracy_is_the_1nn_vote_written_out():
  """BiGAN's feature measure: each held-out point takes the label of its Euclidean nearest training
  point (brute force in numpy here); images are flattened."""
  from ganjax.metrics import nearest_neighbour_accuracy

  rng = np.random.default_rng(0)
  tr, te = rng.normal(size=(40, 3, 2, 1)), rng.normal(size=(25, 3, 2, 1))
  tr_y, te_y = rng.integers(0, 3, 40), rng.integers(0, 3, 25)
  d = ((te.reshape(25, 1, -1) - tr.reshape(1, 40, -1))**2).sum(-1)
  expected = np.mean(tr_y[d.argmin(1)] == te_y)
  assert nearest_neighbour_accuracy(tr, tr_y, te, te_y) == expected and 0 < expected < 1
  assert nearest_neighbour_accuracy(tr, tr_y, tr, tr_y) == 1.0  # every training point is its own neighbour
