import types

import numpy as np
import pytest

from ganjax.data import builtin
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
  centers = builtin.mixture_centers("ring8")
  perfect = builtin.mixture("ring8", seed=0, size=2500).get(np.arange(2500))["image"]
  m = modes.mode_metrics(perfect, "ring8")
  # within 3 std of its mode: P(|x - c| <= 3 std) = 1 - exp(-9 / 2) for a 2-D Gaussian (Rayleigh), +-4 binomial stds
  assert m["modes_covered"] == 8 and m["high_quality_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.008)
  collapsed = np.repeat(centers[:1], 2500, 0)
  m = modes.mode_metrics(collapsed, "ring8")
  assert m["modes_covered"] == 1 and m["high_quality_fraction"] == 1.0
  off_mode = np.zeros((2500, 2))  # the ring's centre: far from every mode
  m = modes.mode_metrics(off_mode, "ring8")
  assert m["modes_covered"] == 0 and m["high_quality_fraction"] == 0.0
  g = modes.mode_metrics(builtin.mixture_centers("grid25"), "grid25")
  assert g["modes_covered"] == 25 and g["modes_total"] == 25
  # high quality: within 3 standard deviations of the data's modes (VEEGAN), 3 x 0.05 on the grid
  near = builtin.mixture_centers("grid25") + np.array([0.12, 0.0])
  assert modes.mode_metrics(near, "grid25")["high_quality_fraction"] == 1.0
  assert modes.mode_metrics(near, "grid25", std=0.02)["high_quality_fraction"] == 0.0


def test_classifier_learns_and_is_cached(tmp_path):
  src = builtin.digits()
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


def test_cached_metric_networks_are_keyed_by_their_code(tmp_path, monkeypatch):
  """The classifier and the self-supervised encoder are cached by the data, the settings and the
  source of the modules that define and train them: an edit of that code misses the cache."""
  import importlib
  import sys

  import jax

  from ganjax.metrics import selfsup

  trained = []  # training stand-ins: fresh initial parameters, counted

  def fake_classifier(images, labels, num_classes, steps, seed=0, progress=False):
    trained.append("classifier")
    return classifier.Classifier(num_classes).init(jax.random.key(seed), images[:2])

  def fake_selfsup(images, steps, seed=0, progress=False):
    trained.append("self")
    return selfsup.SimCLR().init(jax.random.key(seed), images[:2])

  monkeypatch.setattr(classifier, "train_classifier", fake_classifier)
  monkeypatch.setattr(selfsup, "train", fake_selfsup)
  x = np.random.default_rng(0).uniform(-1, 1, (16, 4, 4, 1)).astype(np.float32)
  y = np.arange(16) % 2

  def load_both():
    classifier.load_or_train(x, y, 2, tmp_path, steps=3)
    selfsup.load_or_train(x, tmp_path, steps=3)

  load_both()
  load_both()
  assert trained == ["classifier", "self"]  # the second time from the cache
  source = classifier._source
  # an edit of classifier.py retrains both (the encoder's body is the classifier's), of selfsup.py the encoder
  for edited, retrained in ((classifier, ["classifier", "self"]), (selfsup, ["self"])):
    monkeypatch.setattr(classifier, "_source",
                        lambda m, edited=edited: source(m) + (b"\n# edited\n" if m is edited else b""))
    trained.clear()
    load_both()
    assert trained == retrained, edited.__name__
  assert len(list((tmp_path / "classifiers").iterdir())) == 2 and len(list((tmp_path / "self_features").iterdir())) == 3
  # the fingerprint reads the module's file as it is on disk
  (tmp_path / "probe_module.py").write_text("WIDTH = 1\n")
  monkeypatch.syspath_prepend(str(tmp_path))
  module = importlib.import_module("probe_module")
  before = classifier.code_fingerprint(module)
  (tmp_path / "probe_module.py").write_text("WIDTH = 2\n")
  assert classifier.code_fingerprint(module) != before
  (tmp_path / "probe_module.py").write_text("WIDTH = 1\n")
  assert classifier.code_fingerprint(module) == before
  monkeypatch.delitem(sys.modules, "probe_module")


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
  # each real point's ball (radius: the distance to its 5th neighbour, inside: strictly closer) holds
  # itself and its 4 nearest neighbours, so density = 5 N / (5 N)
  assert (density, coverage) == (1.0, 1.0)
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
  from ganjax.data.base import from_arrays

  train = from_arrays("t", {"image": np.arange(1000, dtype=np.float32).reshape(1000, 1, 1, 1)}, kind="images")
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


# ---------------------------------------------------------------- translation tables (ganjax.metrics.translation)

def _ssim_written_out(x, y, data_range, win):
  """Wang et al. 2004's SSIM, Eq. 13, as the translation tables state it: the mean over every full
  `win` x `win` window (uniform weights, sample variances and covariance; windows never cross the
  border), K1 = 0.01, K2 = 0.03, each channel on its own, channels averaged."""
  from numpy.lib.stride_tricks import sliding_window_view

  c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
  per_channel = []
  for ch in range(x.shape[-1]):
    a = sliding_window_view(x[..., ch], (win, win)).reshape(-1, win * win)
    b = sliding_window_view(y[..., ch], (win, win)).reshape(-1, win * win)
    ma, mb = a.mean(1), b.mean(1)
    va, vb = a.var(1, ddof=1), b.var(1, ddof=1)
    cov = ((a - ma[:, None]) * (b - mb[:, None])).sum(1) / (win * win - 1)
    s = (2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    per_channel.append(s.mean())
  return float(np.mean(per_channel))


@pytest.mark.parametrize("height,width,window", [(12, 10, 7), (6, 5, 5)])
def test_translation_psnr_and_ssim_follow_the_stated_protocol(height, width, window):
  """translation/psnr, /ssim and /l1 against formulas written out here: PSNR = 10 log10(R^2 / MSE)
  with R = 2 (images in [-1, 1]), averaged over the images whose PSNR is finite; SSIM with data range
  2, the largest odd window up to 7 that fits, each colour channel on its own, the border windows
  left out. The images make each choice matter: channels with unlike errors, flat regions (where
  the data range sets the constants), a texture finer than the window."""
  from skimage.metrics import structural_similarity

  from ganjax.metrics.translation import pixel_metrics

  rng = np.random.default_rng(0)
  yy, xx = np.mgrid[:height, :width] / max(height, width)
  base = np.stack([0.8 * np.sin(6 * xx + 3 * yy), np.where(xx > 0.5, 0.6, -0.6), 0.1 * np.cos(9 * yy)], -1)
  targets = np.clip(base[None] + rng.normal(0, 0.05, (4, height, width, 3)), -1, 1)
  noise = rng.normal(0, 1, targets.shape) * np.array([0.02, 0.3, 0.1])  # unlike errors per channel
  outputs = np.clip(targets + noise, -1, 1)
  outputs[3] = targets[3]  # an exact reconstruction: infinite PSNR, left out of the mean
  got = pixel_metrics(outputs.astype(np.float32), targets.astype(np.float32))
  o, t = outputs.astype(np.float32).astype(np.float64), targets.astype(np.float32).astype(np.float64)
  mse = ((o - t)**2).reshape(4, -1).mean(1)
  assert got["translation/psnr"] == pytest.approx(np.mean(10 * np.log10(2.0**2 / mse[:3])), rel=1e-9)
  assert got["translation/l1"] == pytest.approx(np.abs(o - t).mean(), rel=1e-9)
  expected = np.mean([_ssim_written_out(o[i], t[i], 2.0, window) for i in range(4)])
  assert got["translation/ssim"] == pytest.approx(expected, rel=1e-9)
  skimage = np.mean([structural_similarity(t[i], o[i], data_range=2.0, channel_axis=-1, win_size=window)
                     for i in range(4)])
  assert skimage == pytest.approx(expected, rel=1e-9)
  # each protocol choice changes the number: the data range, the channels, the window, the border
  grey = lambda a: a.mean(-1, keepdims=True)  # noqa: E731
  others = [np.mean([_ssim_written_out(o[i], t[i], 1.0, window) for i in range(4)]),
            np.mean([_ssim_written_out(grey(o[i]), grey(t[i]), 2.0, window) for i in range(4)]),
            np.mean([_ssim_written_out(o[i], t[i], 2.0, 3) for i in range(4)]),
            np.mean([structural_similarity(t[i], o[i], data_range=2.0, channel_axis=-1, win_size=window,
                                           gaussian_weights=True) for i in range(4)]),
            np.mean([structural_similarity(t[i], o[i], data_range=2.0, channel_axis=-1, win_size=window,
                                           full=True)[1].mean() for i in range(4)])]  # border windows in
  assert min(abs(v - expected) for v in others) > 0.005, others


def test_feature_networks_trained_on_the_way_show_their_progress(monkeypatch):
  """A feature network trained for a loss (SRGAN's, CartoonGAN's phi) or for a metric (the dataset
  classifier behind reconstructions' class accuracy) takes minutes the first time: the caller's
  progress flag reaches the trainer, whose bar names what it trains."""
  import ml_collections

  from ganjax import perceptual
  from ganjax.metrics import classifier as classifier_lib
  from ganjax.metrics import quality, selfsup

  seen = []
  fake = lambda *a, progress=False, **k: seen.append(progress) or types.SimpleNamespace(  # noqa: E731
      params={"params": {"encoder": {}}})
  monkeypatch.setattr(classifier_lib, "load_or_train", fake)
  monkeypatch.setattr(selfsup, "load_or_train", fake)
  p = ml_collections.ConfigDict({"network": "classifier", "steps": 3, "seed": 0})
  images, labels = np.zeros((4, 8, 8, 1), np.float32), np.arange(4) % 2
  for show in (True, False):
    perceptual.prepare(p, images, labels, 2, "/nonexistent", progress=show)
  p.network = "self"
  perceptual.prepare(p, images, None, 0, "/nonexistent", progress=True)
  split = types.SimpleNamespace(train=types.SimpleNamespace(size=4, num_classes=2,
                                                            get=lambda idx: {"image": images[idx], "label": labels[idx]}))
  config = ml_collections.ConfigDict({"eval": {"cache_dir": "/nonexistent", "classifier_steps": 3}})
  quality.classifier_for(split, config, progress=True)
  assert seen == [True, False, True, True]
