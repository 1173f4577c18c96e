"""Fréchet distance and the classifier score, in any feature space.

Fréchet distance (Heusel et al. 2017): ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) between
Gaussians fitted to two feature sets. In ganjax's own dataset-classifier feature space this is
"classifier FID"; it is not comparable with Inception-FID figures from papers.
Classifier score: the Inception score (Salimans et al. 2016), exp(E_x KL(p(y|x) || p(y))), with
ganjax's classifier in place of Inception; its maximum is the number of classes.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg


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
  covmean = np.real(covmean)
  return float(np.sum((mu1 - mu2)**2) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def fid(features_a, features_b) -> float:
  return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def classifier_score(probs) -> float:
  p = np.asarray(probs, np.float64)
  p_y = p.mean(0, keepdims=True)
  kl = np.sum(p * (np.log(p + 1e-12) - np.log(p_y + 1e-12)), axis=1)
  return float(np.exp(kl.mean()))
