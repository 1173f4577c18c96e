"""How well a representation separates the classes: classifiers fitted on training features and
labels, scored on held-out ones (scikit-learn). What evaluation reports for an encoder's codes
E(x) and for raw pixels (`linear_probe/*`, `nearest_neighbour/*`), and the self-supervised feature
space's trust figure (`self/linear_probe_accuracy`, `ganjax.metrics.features`).

Like `ganjax.metrics.sets`, this module imports neither JAX nor Flax.
"""

from __future__ import annotations

import numpy as np


def linear_probe(train_x, train_y, test_x, test_y) -> float:
  """Held-out accuracy of a standardised multinomial logistic regression (scikit-learn, L2, C=1)."""
  from sklearn.linear_model import LogisticRegression
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler

  flat = lambda a: np.asarray(a, np.float64).reshape((len(a), -1))  # noqa: E731
  model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
  model.fit(flat(train_x), np.asarray(train_y))
  return float(model.score(flat(test_x), np.asarray(test_y)))


def nearest_neighbour_accuracy(train_x, train_y, test_x, test_y) -> float:
  """Held-out accuracy of the 1-nearest-neighbour classifier (Euclidean, scikit-learn) on the raw
  features: Donahue et al.'s (BiGAN, Table 1) measure of an encoder's features."""
  from sklearn.neighbors import KNeighborsClassifier

  flat = lambda a: np.asarray(a, np.float64).reshape((len(a), -1))  # noqa: E731
  model = KNeighborsClassifier(n_neighbors=1).fit(flat(train_x), np.asarray(train_y))
  return float(model.score(flat(test_x), np.asarray(test_y)))
