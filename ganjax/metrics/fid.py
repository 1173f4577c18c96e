"""Fréchet distance and the classifier score, in any feature space.

Fréchet distance (Heusel et al. 2017): ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) between
Gaussians fitted to two feature sets. In ganjax's own dataset-classifier feature space this is
"classifier FID"; it is not comparable with Inception-FID figures from papers.
Classifier score: the Inception score (Salimans et al. 2016), exp(E_x KL(p(y|x) || p(y))), with
ganjax's classifier in place of Inception; its maximum is the number of classes.

The matrix square root follows pytorch-fid's `calculate_frechet_distance`: a product that is not
finite is regularised with 1e-6 I, and a square root whose diagonal has an imaginary part larger
than 1e-3 is refused (`MetricError`, one line) instead of silently dropping it; smaller imaginary
parts (numerical noise) are discarded. Imports neither JAX nor Flax.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from ganjax.errors import MetricError


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
  f = np.asarray(features, np.float64)
  return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1, s1, mu2, s2) -> float:
  mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
  s1, s2 = np.atleast_2d(s1), np.atleast_2d(s2)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():  # singular product: regularise as the reference code does
      eps = 1e-6 * np.eye(len(s1))
      covmean = scipy.linalg.sqrtm((s1 + eps) @ (s2 + eps))
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
      raise MetricError(f"Fréchet distance: the covariance product's square root has an imaginary component "
                        f"{np.max(np.abs(covmean.imag)):.3g} (> 1e-3): too few samples for the feature dimension, "
                        "or features that are not finite")
    covmean = covmean.real
  return float(np.sum((mu1 - mu2)**2) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def fid(features_a, features_b) -> float:
  return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def classifier_score(probs) -> float:
  p = np.asarray(probs, np.float64)
  p_y = p.mean(0, keepdims=True)
  kl = np.sum(p * (np.log(p + 1e-12) - np.log(p_y + 1e-12)), axis=1)
  return float(np.exp(kl.mean()))
