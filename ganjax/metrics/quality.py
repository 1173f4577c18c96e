"""`sample_quality(...)` and the image metrics `ganjax.evaluators` reports, as one flat dict (the 2-D
mixtures' mode metrics are `ganjax.metrics.modes`').

- Image data, labelled or not: in the run's feature space (`ganjax.metrics.features`: the dataset
  classifier for labelled data, a self-supervised encoder trained on the images otherwise; named
  by `features`), the FID of generated samples against the held-out images, KID (± its std over
  subsets), improved precision and recall, density and coverage (`ganjax.metrics.sets` documents
  each protocol), FID and KID for as many real training images drawn at random from the whole
  training split (the real-vs-real reference, `real_reference`), the feature space's trust figure,
  and the diversity ratio (mean pairwise feature distance of the samples over that of held-out
  data); in pixel space, the nearest-neighbour overfitting test.
- With the classifier: the classifier score (and its reference) and the number of distinct classes
  among 100 samples.
- With `eval.inception_weights` (an .npz the user converted, `ganjax.metrics.inception`): the
  whole suite again in Inception-v3 pool features, every key prefixed `inception_`.
- Label-conditioned generators (`generate_labeled`): `class_accuracy`, the classifier's accuracy
  on the generated samples for the classes they were asked for.
- Methods that predict a class (`predict_class`): `test_accuracy` (SGAN's classifier) or
  `cluster_accuracy` (InfoGAN's categorical code, each category matched to one label by the
  Hungarian algorithm) on the held-out split.
- Methods with an encoder (`encode`: ALI/BiGAN, the VAE): `linear_probe/latent_accuracy` and
  `linear_probe/pixel_accuracy`, the held-out accuracy of a logistic regression fitted on (at most
  5,000) training codes E(x), and of the same classifier on raw pixels (`ganjax.metrics.probes`).
- Methods with their own `evaluate` (the VAE's test ELBO in nats): averaged over the held-out split.
"""

from __future__ import annotations

import time

import numpy as np

from ganjax.data.fetch import default_cache_dir
from ganjax.metrics import classifier as classifier_lib
from ganjax.metrics import features as features_lib
from ganjax.metrics import fid as fid_lib
from ganjax.metrics import sets


def _take(src, n: int, offset: int = 0) -> dict:
  n = min(n, src.size - offset)
  return src.get(np.arange(offset, offset + n))


def classifier_for(split, config, progress: bool = False):
  """The dataset's feature classifier (trained on up to 20,000 training images, cached, with a
  progress bar when `progress`): a function images -> (features, class probabilities)."""
  train = _take(split.train, 20_000)
  cache = config.eval.cache_dir or default_cache_dir()
  return classifier_lib.load_or_train(train["image"], train["label"], split.train.num_classes, cache,
                                      config.eval.classifier_steps, seed=0, progress=progress)


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


def real_reference(train, n: int, seed: int = 0, key: str = "image"):
  """The real-vs-real reference set: `n` training images (as many as the generated set) drawn at
  random from `seed` over the whole training split. (The first n would come from one end of the
  file, which on the MNIST test split is its easier half.)"""
  idx = np.sort(np.random.default_rng([seed, 99]).choice(train.size, min(n, train.size), replace=False))
  return train.get(idx)[key]


def feature_space(split, config, progress: bool = False, key: str = "image"):
  """The run's primary feature space (`eval.features`, "auto": the classifier for labelled data,
  else the self-supervised encoder), trained on up to 20,000 training images (`key`) and cached."""
  kind = features_lib.resolve(config.eval.features, split.train.has_labels, config.eval.inception_weights)
  train = _take(split.train, 20_000)
  return features_lib.make(kind, train[key], train.get("label"), split.train.num_classes,
                           cache_dir=config.eval.cache_dir or default_cache_dir(),
                           classifier_steps=config.eval.classifier_steps, self_steps=config.eval.self_features_steps,
                           inception_weights=config.eval.inception_weights, progress=progress)


def kid_subset_size(config, n_real: int, n_fake: int) -> int:
  """`eval.kid_subset_size`, or with 0 the usual 1,000 capped at half the smaller set (so that the
  subsets stay random); an explicit size that leaves no randomness is refused."""
  return sets.kid_subset_size(config.eval.kid_subset_size, n_real, n_fake, config.eval.kid_subsets)


def check(config, split, num_samples: int):
  """Before training: the evaluation's feature space and KID subset size are valid for this data
  (one-line ConfigErrors), so a run never fails at its final evaluation."""
  if len(split.train.element_spec.get("image", ((),))[0]) != 3:
    return
  features_lib.resolve(config.eval.features, split.train.has_labels, config.eval.inception_weights)
  kid_subset_size(config, split.test.size, num_samples)
  kid_subset_size(config, split.test.size, min(num_samples, split.train.size))  # the real-vs-real reference


def compare(real_f, fake_f, ref_f, config, prefix: str = "", progress: bool = False) -> dict:
  """FID, KID, precision/recall, density/coverage of generated features against held-out ones, and
  the real-vs-real references of FID and KID, keys prefixed with `prefix`."""
  size = kid_subset_size(config, len(real_f), len(fake_f))
  out = sets.score(real_f, fake_f, kid_subsets=config.eval.kid_subsets, kid_subset_size=size, progress=progress)
  out["fid_real_reference"] = fid_lib.fid(ref_f, real_f)
  out["kid_real_reference"], _ = sets.kid(real_f, ref_f, config.eval.kid_subsets,
                                          kid_subset_size(config, len(real_f), len(ref_f)))
  out["kid_subset_size"] = size
  return {(k.replace("seconds/", f"seconds/{prefix}") if k.startswith("seconds/") else prefix + k): v
          for k, v in out.items()}


def sample_quality(samples, split, config, labels=None, progress: bool = False) -> dict:
  """Metrics of generated images `samples` (numpy, as the data) against the dataset `split`; `labels`:
  the classes a conditional generator was asked for. `features` names the feature space of the
  unprefixed metrics; `inception_*` are in Inception-v3 features."""
  train = _take(split.train, 20_000)
  test = _take(split.test, split.test.size)
  t = time.perf_counter()
  space = feature_space(split, config, progress)
  out = {"features": space.name}
  out.update(space.trust(test["image"], test.get("label")))
  test_f, gen_f = space.features(test["image"]), space.features(samples)
  ref = real_reference(split.train, len(samples))
  ref_f = space.features(ref)
  out["seconds/features"] = round(time.perf_counter() - t, 3)
  out.update(compare(test_f, gen_f, ref_f, config, progress=progress))
  if space.probs is not None:
    gen_p = space.probs(samples)
    out["classifier_score"] = fid_lib.classifier_score(gen_p)
    out["classifier_score_real_reference"] = fid_lib.classifier_score(space.probs(ref))
    out["distinct_classes_in_100"] = float(len(np.unique(gen_p[:100].argmax(1))))
    if labels is not None:
      out["class_accuracy"] = float(np.mean(gen_p.argmax(1) == np.asarray(labels)))
  out["diversity"] = sets.mean_pairwise_distance(gen_f) / sets.mean_pairwise_distance(test_f)
  out["nn_distance_generated"], out["nn_distance_heldout"], out["nn_ratio"] = sets.overfitting_ratio(
      samples[:1000], test["image"][:1000], train["image"])
  if config.eval.inception_weights and space.name != "inception":  # the whole suite in Inception-v3 features too
    t = time.perf_counter()
    inception = features_lib.make("inception", None, inception_weights=config.eval.inception_weights,
                                  cache_dir="")
    test_i, gen_i, ref_i = inception.features(test["image"]), inception.features(samples), inception.features(ref)
    out["seconds/inception_features"] = round(time.perf_counter() - t, 3)
    out.update(compare(test_i, gen_i, ref_i, config, prefix="inception_", progress=progress))
  return out
