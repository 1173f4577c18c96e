"""Feature spaces: the network that turns images into the vectors FID, KID, precision/recall and
density/coverage compare. Every number in eval.json names the space it came from (`features`, and
the `inception_` prefix).

  classifier  ganjax's dataset classifier (`classifier.py`): labelled data; also gives class
              probabilities (classifier score, distinct classes, class accuracy). Trust figure:
              `classifier/test_accuracy` on the held-out images.
  self        a SimCLR encoder trained on the dataset's own images, no labels (`selfsup.py`): any
              image data. Trust figure: `self/pair_accuracy` (and, where labels exist,
              `self/linear_probe_accuracy`).
  inception   the FID Inception-v3's 2,048-d pool features (`inception.py`) from weights the user
              supplies (`eval.inception_weights`); nothing is trained.

`eval.features = "auto"` picks `classifier` for labelled data (two or more classes) and `self`
otherwise. The networks are trained on the training split (at most 20,000 images) and cached by a
fingerprint of the data, the settings and the code that defines and trains them.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from ganjax.errors import ConfigError
from ganjax.metrics import classifier, inception, selfsup
from ganjax.metrics.probes import linear_probe

KINDS = ("auto", "classifier", "self", "inception")


@dataclasses.dataclass
class FeatureSpace:
  name: str
  features: Callable[[np.ndarray], np.ndarray]  # images (NHWC, [-1, 1]) -> (N, d) float features
  probs: Optional[Callable[[np.ndarray], np.ndarray]] = None  # class probabilities (classifier only)
  trust: Callable[..., dict] = lambda images, labels=None: {}  # held-out figures saying how far to trust it


def resolve(kind: str, has_labels: bool, inception_weights: str = "") -> str:
  """The concrete feature space for `kind` ("auto" -> classifier with labels, else self), or a
  one-line ConfigError."""
  if kind not in KINDS:
    raise ConfigError(f"unknown feature space {kind!r}; valid: {', '.join(KINDS)}")
  if kind == "auto":
    return "classifier" if has_labels else "self"
  if kind == "classifier" and not has_labels:
    raise ConfigError("the classifier feature space needs labelled training images (two or more class "
                      "subfolders, a 'labels' array, or a labelled dataset); use features 'self' (trained "
                      "without labels) or 'inception'")
  if kind == "inception" and not inception_weights:
    raise ConfigError("the inception feature space needs the FID Inception-v3 weights (.npz of pytorch-fid's "
                      "state dict, see ganjax/metrics/inception.py): pass eval.inception_weights / --inception_weights")
  return kind


def make(kind: str, train_images, train_labels=None, num_classes: int = 0, *, cache_dir: str,
         classifier_steps: int = 2000, self_steps: int = 1000, inception_weights: str = "",
         seed: int = 0, progress: bool = False) -> FeatureSpace:
  """The feature space `kind` (already resolved), trained on `train_images` where it is trained."""
  if kind == "classifier":
    net = classifier.load_or_train(train_images, train_labels, num_classes, cache_dir, classifier_steps, seed=seed,
                                  progress=progress)
    return FeatureSpace("classifier", lambda x: net(x)[0], lambda x: net(x)[1],
                        lambda images, labels=None: ({} if labels is None else
                                                     {"classifier/test_accuracy": net.accuracy(images, labels)}))
  if kind == "self":
    net = selfsup.load_or_train(train_images, cache_dir, self_steps, seed=seed, progress=progress)

    def trust(images, labels=None):
      out = {"self/pair_accuracy": net.pair_accuracy(images)}
      if labels is not None and train_labels is not None:
        n = min(5000, len(train_images))
        out["self/linear_probe_accuracy"] = linear_probe(net(train_images[:n]), train_labels[:n], net(images), labels)
      return out

    return FeatureSpace("self", net, None, trust)
  if kind == "inception":
    return FeatureSpace("inception", inception.load(inception_weights))
  raise ConfigError(f"unknown feature space {kind!r}; valid: {', '.join(KINDS[1:])}")
