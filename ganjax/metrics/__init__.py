"""`evaluate(...)`: every metric that applies to a method and dataset, as one flat dict.

- 2-D mixtures (`ring8`, `grid25`): VEEGAN's modes covered and high-quality fraction.
- Labelled image data: classifier FID of generated samples against the held-out images, the
  classifier score, and the same two figures for as many real training images, drawn at random
  from the whole training split (the real-vs-real reference, `real_reference`), with the
  classifier's held-out accuracy.
- The same feature space also gives KID (± its std over subsets), improved precision and recall,
  density and coverage, and the diversity ratio (mean pairwise feature distance of the samples over
  that of held-out data) with the number of distinct classes among 100 samples; in pixel space, the
  nearest-neighbour overfitting test (`ganjax.metrics.sets` documents each protocol).
- With `eval.inception_weights` (an .npz the user converted, `ganjax.metrics.inception`):
  `inception_fid` and its real-vs-real reference in Inception-v3 pool features.
- Label-conditioned generators (`generate_labeled`): `class_accuracy`, the classifier's accuracy
  on the generated samples for the classes they were asked for.
- Methods that predict a class (`predict_class`): `test_accuracy` (SGAN's classifier) or
  `cluster_accuracy` (InfoGAN's categorical code, each category matched to one label by the
  Hungarian algorithm) on the held-out split.
- Methods with an encoder (`encode`: ALI/BiGAN, the VAE): `linear_probe/latent_accuracy` and
  `linear_probe/pixel_accuracy`, the held-out accuracy of a logistic regression fitted on (at most
  5,000) training codes E(x), and of the same classifier on raw pixels.
- Methods with their own `evaluate` (the VAE's test ELBO in nats): averaged over the held-out split.
"""

from __future__ import annotations

import numpy as np

from ganjax.data.fetch import default_cache_dir
from ganjax.metrics import classifier as classifier_lib
from ganjax.metrics import fid as fid_lib
from ganjax.metrics import sets
from ganjax.metrics.modes import mode_metrics


def _take(src, n: int, offset: int = 0) -> dict:
  n = min(n, src.size - offset)
  return src.get(np.arange(offset, offset + n))


def classifier_for(split, config):
  """The dataset's feature classifier (trained on up to 20,000 training images, cached): a function
  images -> (features, class probabilities)."""
  train = _take(split.train, 20_000)
  cache = config.eval.cache_dir or default_cache_dir()
  return classifier_lib.load_or_train(train["image"], train["label"], split.train.num_classes, cache,
                                      config.eval.classifier_steps, seed=0)


def class_accuracy(pred, labels, matching: str = "identity"):
  """("test_accuracy", accuracy) of predicted classes, or with matching="hungarian" the
  ("cluster_accuracy", accuracy) of the best one-to-one map of predicted clusters to labels
  (scipy's linear_sum_assignment on the confusion matrix)."""
  pred, labels = np.asarray(pred).astype(int), np.asarray(labels).astype(int)
  if matching == "identity":
    return "test_accuracy", float(np.mean(pred == labels))
  from scipy.optimize import linear_sum_assignment

  k = max(pred.max(), labels.max()) + 1
  confusion = np.zeros((k, k), np.int64)
  np.add.at(confusion, (pred, labels), 1)
  rows, cols = linear_sum_assignment(-confusion)
  return "cluster_accuracy", float(confusion[rows, cols].sum() / len(pred))


def real_reference(train, n: int, seed: int = 0):
  """The real-vs-real reference set: `n` training images (as many as the generated set) drawn at
  random from `seed` over the whole training split. (The first n would come from one end of the
  file, which on the MNIST test split is its easier half.)"""
  idx = np.sort(np.random.default_rng([seed, 99]).choice(train.size, min(n, train.size), replace=False))
  return train.get(idx)["image"]


def linear_probe(train_x, train_y, test_x, test_y) -> float:
  """Held-out accuracy of a standardised multinomial logistic regression (scikit-learn, L2, C=1)."""
  from sklearn.linear_model import LogisticRegression
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler

  flat = lambda a: np.asarray(a, np.float64).reshape((len(a), -1))  # noqa: E731
  model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
  model.fit(flat(train_x), np.asarray(train_y))
  return float(model.score(flat(test_x), np.asarray(test_y)))


def sample_quality(samples, split, config, labels=None) -> dict:
  """Metrics of generated `samples` (numpy, as the data) against the dataset `split`; `labels`:
  the classes a conditional generator was asked for."""
  name = config.data.name
  out = {}
  if name in ("ring8", "grid25"):
    return mode_metrics(samples, name)
  if not split.train.has_labels or np.ndim(samples) != 4:
    return out
  train = _take(split.train, 20_000)
  test = _take(split.test, split.test.size)
  net = classifier_for(split, config)
  test_f, test_p = net(test["image"])
  gen_f, gen_p = net(samples)
  ref = real_reference(split.train, len(samples))
  ref_f, ref_p = net(ref)
  out["classifier/test_accuracy"] = float((test_p.argmax(1) == test["label"]).mean())
  out["fid"] = fid_lib.fid(gen_f, test_f)
  out["fid_real_reference"] = fid_lib.fid(ref_f, test_f)
  out["classifier_score"] = fid_lib.classifier_score(gen_p)
  out["classifier_score_real_reference"] = fid_lib.classifier_score(ref_p)
  out["kid"], out["kid_std"] = sets.kid(test_f, gen_f, subsets=config.eval.kid_subsets)
  out["kid_real_reference"], _ = sets.kid(test_f, ref_f, subsets=config.eval.kid_subsets)
  out["precision"], out["recall"] = sets.precision_recall(test_f, gen_f)
  out["density"], out["coverage"] = sets.density_coverage(test_f, gen_f)
  out["diversity"] = sets.mean_pairwise_distance(gen_f) / sets.mean_pairwise_distance(test_f)
  out["distinct_classes_in_100"] = float(len(np.unique(gen_p[:100].argmax(1))))
  out["nn_distance_generated"], out["nn_distance_heldout"], out["nn_ratio"] = sets.overfitting_ratio(
      samples[:1000], test["image"][:1000], train["image"])
  if config.eval.inception_weights:  # FID in the Inception-v3 pool features of user-supplied weights
    from ganjax.metrics import inception

    features = inception.load(config.eval.inception_weights)
    test_i = features(test["image"])
    out["inception_fid"] = fid_lib.fid(features(samples), test_i)
    out["inception_fid_real_reference"] = fid_lib.fid(features(ref), test_i)
  if labels is not None:
    out["class_accuracy"] = float(np.mean(gen_p.argmax(1) == np.asarray(labels)))
  return out
