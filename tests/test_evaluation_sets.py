"""The evaluation's conventions, each against a case that tells them apart: blocked k-NN equal to the
papers' formulas, ties (prdc's strict < for density/coverage, Kynkäänniemi et al.'s <= for
precision/recall), KID's subset size, FID's imaginary part, the numpy metrics without JAX, the
self-supervised feature space, unlabelled folders (one class is none) end to end, and
`python -m ganjax.evaluate`."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganjax import evaluate, train
from ganjax.errors import ConfigError, DataError, MetricError
from ganjax.metrics import fid, quality, selfsup, sets
from ganjax.run import Run


def paper_prdc(real, fake, k_pr=3, k_dc=5, strict_dc=True):
  """Precision/recall (Kynkäänniemi et al. 2019, Sec. 3) and density/coverage (Naeem et al. 2020,
  Eqs. 3-4) straight from their definitions: explicit pairwise norms, one matrix, no blocks."""
  norm = lambda a, b: np.linalg.norm(a[:, None] - b[None], axis=-1)  # noqa: E731
  d_rr, d_ff, d_fr = norm(real, real), norm(fake, fake), norm(fake, real)
  nnd = lambda d, k: np.sort(d, axis=1)[:, k]  # noqa: E731  (column 0: the point itself)
  inside = (d_fr < nnd(d_rr, k_dc)[None]) if strict_dc else (d_fr <= nnd(d_rr, k_dc)[None])
  return {"precision": np.mean((d_fr <= nnd(d_rr, k_pr)[None]).any(1)),
          "recall": np.mean((d_fr.T <= nnd(d_ff, k_pr)[None]).any(1)),
          "density": inside.sum() / (k_dc * len(fake)), "coverage": np.mean(inside.any(0))}


def test_blocked_memberships_equal_one_block_and_the_papers_formulas():
  rng = np.random.default_rng(0)
  real, fake = rng.normal(size=(120, 6)), rng.normal(size=(90, 6)) + 0.3
  one_block = sets.manifold_metrics(real, fake, block_bytes=1 << 40)
  blocked = sets.manifold_metrics(real, fake, block_bytes=8 * 120 * 7)  # 7 rows per block
  assert blocked == one_block
  assert blocked == pytest.approx(paper_prdc(real, fake), abs=0)
  on_jax = sets.manifold_metrics(real, fake, backend="jax", block_bytes=8 * 120 * 16)  # the accelerator path
  assert on_jax == pytest.approx(one_block, abs=0)


def test_ties_density_coverage_strict_precision_recall_inclusive():
  """Exact duplicates (all-zero ReLU rows, samples copying real ones): radii are 0, and whether a
  point at distance 0 is inside decides the figures. Integer features make every distance exact."""
  rng = np.random.default_rng(1)
  real = np.concatenate([np.zeros((8, 4)), rng.integers(0, 3, (30, 4))]).astype(float)
  fake = np.concatenate([np.zeros((10, 4)), real[8:28], rng.integers(0, 4, (10, 4))]).astype(float)
  expected = paper_prdc(real, fake)
  inclusive = paper_prdc(real, fake, strict_dc=False)
  assert inclusive["density"] > expected["density"] + 0.5  # the case discriminates the two conventions
  got = sets.manifold_metrics(real, fake, block_bytes=8 * 38 * 5)
  assert got == pytest.approx(expected, abs=1e-12)
  assert sets.density_coverage(real, fake) == pytest.approx((expected["density"], expected["coverage"]), abs=1e-12)
  # precision with a strict < would be 0.575: points on a ball's boundary (at its radius) count as inside
  assert sets.precision_recall(real, fake) == (expected["precision"], expected["recall"]) == (0.95, 1.0)


def test_kid_subset_size_is_refused_when_it_leaves_no_randomness():
  rng = np.random.default_rng(2)
  real, fake = rng.normal(size=(100, 5)), rng.normal(size=(80, 5))
  with pytest.raises(ConfigError, match="larger than the smaller set"):
    sets.kid(real, fake, subsets=5, subset_size=90)
  with pytest.raises(ConfigError, match="equals the smaller set"):
    sets.kid(real, fake, subsets=5, subset_size=80)

  class Cfg:
    class eval:  # noqa: N801
      kid_subset_size, kid_subsets = 0, 5

  assert quality.kid_subset_size(Cfg, 100, 80) == 40  # 0: 1,000 capped at half the smaller set
  assert sets.kid(real, fake, subsets=5, subset_size=40)[1] > 0  # a real spread
  # the unbiased MMD^2 of one subset pair, from Bińkowski et al.'s Eq. (the kernel (x.y/d + 1)^3)
  x, y = real[:10], fake[:10]
  k = lambda a, b: (a @ b / 5 + 1) ** 3  # noqa: E731
  mmd = (sum(k(x[i], x[j]) for i in range(10) for j in range(10) if i != j) / 90
         + sum(k(y[i], y[j]) for i in range(10) for j in range(10) if i != j) / 90
         - 2 * sum(k(x[i], y[j]) for i in range(10) for j in range(10)) / 100)
  assert sets.kid(x, np.concatenate([y, y[:1] + 100]), subsets=1, subset_size=10)[0] != mmd  # random subsets
  assert sets.kid(x, y, subsets=1, subset_size=10)[0] == pytest.approx(mmd, rel=1e-12)


def test_fid_refuses_an_imaginary_square_root_like_pytorch_fid():
  with pytest.raises(MetricError, match="imaginary component"):
    fid.frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
  assert fid.frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)) == pytest.approx(2 + 2 * 1)


def test_numpy_metrics_import_without_jax():
  code = "import sys, ganjax.metrics.sets, ganjax.metrics.fid; print(sorted({'jax', 'flax'} & set(sys.modules)))"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
  assert out.stdout.strip() == "[]"


def test_nt_xent_is_simclr_eq_1():
  rng = np.random.default_rng(3)
  z1, z2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
  z = np.concatenate([z1, z2])
  z /= np.linalg.norm(z, axis=1, keepdims=True)
  losses = []
  for i in range(8):
    j = (i + 4) % 8
    denominator = sum(np.exp(z[i] @ z[k] / 0.5) for k in range(8) if k != i)
    losses.append(-np.log(np.exp(z[i] @ z[j] / 0.5) / denominator))
  assert float(selfsup.nt_xent(z1, z2)) == pytest.approx(np.mean(losses), rel=1e-5)


def _write_pngs(directory, images):
  directory.mkdir(parents=True, exist_ok=True)
  for i, img in enumerate(images):
    Image.fromarray(img).save(directory / f"{i:03d}.png")


def _digits(n, offset=0):
  from sklearn.datasets import load_digits

  return (load_digits().images[offset:offset + n] * 15.9).astype(np.uint8)


def test_an_unlabelled_folder_gets_every_metric_in_self_features(tmp_path, config_of):
  _write_pngs(tmp_path / "data", _digits(80))
  c = config_of("gan.py", steps=1)
  c.data.name, c.eval_every = f"folder:{tmp_path / 'data'}", 0
  train.train(c, tmp_path / "run")
  result = json.loads((tmp_path / "run" / "eval.json").read_text())
  assert result["features"] == "self"
  for key in ("fid", "fid_real_reference", "kid", "kid_std", "precision", "recall", "density", "coverage",
              "self/pair_accuracy", "seconds/kid", "seconds/precision_recall_density_coverage"):
    assert np.isfinite(result[key]), key
  assert result["kid_std"] > 0 and "classifier_score" not in result
  c.eval.kid_subset_size = c.eval.num_samples  # refused before training, not after it
  with pytest.raises(ConfigError, match=f"KID subset size {c.eval.num_samples}"):
    Run(c, tmp_path / "run2")


def test_evaluate_cli_scores_folders_and_arrays(tmp_path, capsys):
  _write_pngs(tmp_path / "real", _digits(60))
  _write_pngs(tmp_path / "fake", _digits(50, offset=100)[:, ::-1])  # upside-down digits
  np.savez(tmp_path / "fake.npz", images=_digits(50, offset=100)[:, None])  # NCHW uint8, like PyTorch code
  out = evaluate.main([f"--real={tmp_path / 'real'}", f"--fake={tmp_path / 'fake'}", "--self_features_steps=5",
                       f"--cache_dir={tmp_path / 'cache'}", f"--output={tmp_path / 'e.json'}", "--no-progress"])
  assert out["features"] == "self" and json.loads((tmp_path / "e.json").read_text()) == out
  upright = evaluate.evaluate_files(tmp_path / "real", tmp_path / "fake.npz", self_features_steps=5,
                                    cache_dir=tmp_path / "cache", progress=False)
  assert upright["fid"] < out["fid"]  # the same feature net (cached), upright digits are closer
  feats = np.random.default_rng(0).normal(size=(40, 8))
  np.save(tmp_path / "a.npy", feats)
  np.savez(tmp_path / "b.npz", features=feats[::-1] + 0.0)
  same = evaluate.evaluate_files(tmp_path / "a.npy", tmp_path / "b.npz", progress=False)
  assert same["features"] == "precomputed" and same["fid"] == pytest.approx(0, abs=1e-9)
  assert same["precision"] == same["recall"] == same["coverage"] == 1.0
  np.savez(tmp_path / "bad.npz", images=np.full((4, 8, 8, 1), 3.0, np.float32))
  capsys.readouterr()  # (what the runs above printed)
  for fake, message in (("missing", "does not exist"), ("bad.npz", "must lie in"), ("a.npy", "both be images")):
    with pytest.raises(SystemExit) as exit_:
      evaluate.main([f"--real={tmp_path / 'real'}", f"--fake={tmp_path / fake}", "--output="])
    lines = capsys.readouterr().err.strip().splitlines()  # one line, exit status 1
    assert exit_.value.code == 1 and len(lines) == 1 and lines[0].startswith("ganjax: error: ") and message in lines[0]
  np.savez(tmp_path / "small.npz", images=np.zeros((5, 4, 4, 1), np.uint8))
  with pytest.raises(DataError, match="--image_size"):
    evaluate.evaluate_files(tmp_path / "real", tmp_path / "small.npz")


def test_evaluate_reads_one_class_as_unlabelled(tmp_path):
  """A folder with a single class subfolder, or an array whose labels hold one class, is unlabelled:
  `--features=auto` resolves to the self-supervised encoder, not a one-class classifier."""
  from ganjax.metrics import features

  _write_pngs(tmp_path / "faces" / "all", _digits(6))
  np.savez(tmp_path / "one.npz", images=_digits(6), labels=np.full(6, 3))
  np.savez(tmp_path / "two.npz", images=_digits(6), labels=np.arange(6) % 2)
  for path in (tmp_path / "faces", tmp_path / "one.npz"):
    loaded = evaluate.load(path, "--train")
    assert loaded["labels"] is None and loaded["num_classes"] == 0, path
    assert features.resolve("auto", loaded["labels"] is not None) == "self"
  two = evaluate.load(tmp_path / "two.npz", "--train")
  assert two["labels"].tolist() == [0, 1, 0, 1, 0, 1] and two["num_classes"] == 2


def test_inception_weights_add_the_whole_suite_in_inception_features(config_of, monkeypatch):
  """With eval.inception_weights every set metric is reported again, prefixed inception_ (the network
  itself is replaced by a cheap projection here; tests/test_inception.py tests the real one)."""
  from ganjax import data
  from ganjax.metrics import features

  make = features.make
  monkeypatch.setattr(features, "make", lambda kind, *a, **k: (
      features.FeatureSpace("inception", lambda x: np.asarray(x).reshape(len(x), -1)[:, ::3]) if kind == "inception"
      else make(kind, *a, **k)))
  c = config_of("gan.py")
  c.eval.inception_weights, c.eval.features = "weights.npz", "self"
  split = data.load(c)
  samples = split.test.get(np.arange(64))["image"] + 0.1
  out = quality.sample_quality(samples, split, c)
  assert out["features"] == "self"
  for key in ("fid", "fid_real_reference", "kid", "kid_std", "precision", "recall", "density", "coverage"):
    assert np.isfinite(out[f"inception_{key}"]), key
  # in the (stand-in) Inception features, not the run's: the Fréchet distance of the projections, written out
  # (Heusel et al.: ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), the trace from the product's eigenvalues)
  real, fake = (np.asarray(x, np.float64).reshape(len(x), -1)[:, ::3]
                for x in (split.test.get(np.arange(split.test.size))["image"], samples))
  s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
  root_trace = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
  expected = np.sum((real.mean(0) - fake.mean(0))**2) + np.trace(s1) + np.trace(s2) - 2 * root_trace
  assert out["inception_fid"] == pytest.approx(expected, rel=1e-6) and abs(out["fid"] - expected) > 1e-3 * expected
  assert "seconds/inception_kid" in out and "seconds/inception_features" in out
