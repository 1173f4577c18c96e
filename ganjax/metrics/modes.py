"""Mode coverage on the 2-D Gaussian mixtures, as defined by VEEGAN (Srivastava et al. 2017, Sec. 5.1):
a generated sample is *high quality* when it lies within three standard deviations of its nearest
mode's centre; a mode is *covered* when at least one high-quality sample is nearest to it.
Reported: modes covered (out of 8 for ring8, 25 for grid25) and the fraction of high-quality samples,
from 2,500 samples as in the paper (`config.eval.num_samples`)."""

from __future__ import annotations

import numpy as np

from ganjax.data.builtin import mixture_centers, mixture_std


def mode_metrics(samples, name: str, std: float = 0.0) -> dict:
  """`std`: the modes' standard deviation the data was drawn with (0: the mixture's own)."""
  std = mixture_std(name, std)
  centers = mixture_centers(name)
  x = np.asarray(samples, np.float64).reshape(-1, 2)
  dist = np.linalg.norm(x[:, None, :] - centers[None], axis=-1)
  nearest = dist.argmin(1)
  high_quality = dist.min(1) <= 3 * std
  covered = np.unique(nearest[high_quality])
  return {"modes_covered": float(len(covered)), "modes_total": float(len(centers)),
          "high_quality_fraction": float(high_quality.mean())}
