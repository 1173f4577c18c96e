"""`evaluate(...)`: every metric that applies to a method and dataset, as one flat dict.

- 2-D mixtures (`ring8`, `grid25`): VEEGAN's modes covered and high-quality fraction.
- Labelled image data: classifier FID of generated samples against the held-out images, the
  classifier score, and the same two figures for real training images (the real-vs-real reference),
  with the classifier's held-out accuracy.
- Methods with their own `evaluate` (the VAE's test ELBO in nats): averaged over the held-out split.
"""

from __future__ import annotations

import numpy as np

from ganjax.data.fetch import default_cache_dir
from ganjax.metrics import classifier as classifier_lib
from ganjax.metrics import fid as fid_lib
from ganjax.metrics.modes import mode_metrics


def _take(src, n: int, offset: int = 0) -> dict:
  n = min(n, src.size - offset)
  return src.get(np.arange(offset, offset + n))


def sample_quality(samples, split, config) -> dict:
  """Metrics of generated `samples` (numpy, as the data) against the dataset `split`."""
  name = config.data.name
  out = {}
  if name in ("ring8", "grid25"):
    return mode_metrics(samples, name)
  if not split.train.has_labels or np.ndim(samples) != 4:
    return out
  train = _take(split.train, 20_000)
  test = _take(split.test, split.test.size)
  cache = config.eval.get("cache_dir") or default_cache_dir()
  net = classifier_lib.load_or_train(train["image"], train["label"], split.train.num_classes, cache,
                                     config.eval.classifier_steps, seed=0)
  test_f, test_p = net(test["image"])
  gen_f, gen_p = net(samples)
  ref = train["image"][:len(samples)]
  ref_f, ref_p = net(ref)
  out["classifier/test_accuracy"] = float((test_p.argmax(1) == test["label"]).mean())
  out["fid"] = fid_lib.fid(gen_f, test_f)
  out["fid_real_reference"] = fid_lib.fid(ref_f, test_f)
  out["classifier_score"] = fid_lib.classifier_score(gen_p)
  out["classifier_score_real_reference"] = fid_lib.classifier_score(ref_p)
  return out
