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
