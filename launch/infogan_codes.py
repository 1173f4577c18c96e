"""What did a trained InfoGAN's categorical code find? For a finished InfoGAN workdir (images or
time series), on its held-out split:

- the code's cluster accuracy against the labels (Hungarian), its normalised mutual information
  with them, and each category's majority label and purity (which classes share a category);
- the same against a nuisance factor, in as many equal-count bins as the code has categories:
  for time series each window's dominant frequency (the largest non-constant bin of channel 0's
  FFT), for images the ink (mean pixel value);
- linear probes (logistic regression, fitted on training examples) on D's FC features and on the
  raw inputs: whether the labelled classes are separable at all in what Q sees;
- the objective where training ended (the training log's mean over its last tenth of logged steps):
  the categorical code's mutual-information lower bound ln K - CE(Q) against its maximum ln K, and
  D's adversarial loss. When every run ends with the bound at ln K and the same adversarial loss,
  whatever partition the code found, the objective cannot tell a code that follows the labels from
  one that merges them: which partition a run lands in is not something InfoGAN's loss selects.

  python launch/infogan_codes.py WORKDIR [WORKDIR...]
"""

from __future__ import annotations

import json
import sys

import numpy as np

from ganjax import metrics, stabilizers
from ganjax.tools import report
from ganjax.algorithms import infogan
from ganjax.run import Run
from ganjax.workdir import config_of_workdir


def nuisance(x: np.ndarray) -> tuple[str, np.ndarray]:
  if x.ndim == 3:  # (N, T, C) windows
    spectrum = np.abs(np.fft.rfft(x[:, :, 0] - x[:, :, 0].mean(1, keepdims=True), axis=1))
    return "dominant frequency", spectrum[:, 1:].argmax(1).astype(np.float64) + 1
  return "ink", x.reshape((len(x), -1)).mean(1)


def bins(values: np.ndarray, k: int) -> np.ndarray:
  edges = np.quantile(values, np.linspace(0, 1, k + 1)[1:-1])
  return np.searchsorted(edges, values, side="right")


def objective_at_end(workdir: str, categories: int, fraction: float = 0.1) -> dict:
  """Means over the last `fraction` of metrics.jsonl's training rows (those with Q's CE): the
  categorical MI bound ln K - CE, its ratio to ln K, Q's CE and D's adversarial loss."""
  rows = [r for r in report._rows(workdir) if "q/categorical_ce" in r]
  if not rows:
    return {}
  last = rows[-max(1, int(round(len(rows) * fraction))):]
  ce = float(np.mean([r["q/categorical_ce"] for r in last]))
  bound, top = float(np.log(categories)) - ce, float(np.log(categories))
  out = {"steps": [last[0]["step"], last[-1]["step"]], "mi_bound_categorical": bound, "log_k": top,
         "mi_bound_fraction_of_log_k": bound / top, "q_categorical_ce": ce}
  if all("d/adversarial" in r for r in last):
    out["d_adversarial"] = float(np.mean([r["d/adversarial"] for r in last]))
  return out


def analyse(workdir: str) -> dict:
  import jax.numpy as jnp
  from sklearn.metrics import normalized_mutual_info_score

  cfg = config_of_workdir(workdir)  # fields newer than the run get today's defaults
  run = Run(cfg, workdir, need_data_iterator=False)
  state = run.state
  test = run.split.test.get(np.arange(run.split.test.size))
  fit = run.split.train.get(np.arange(min(5000, run.split.train.size)))
  x, y = np.asarray(test["image"]), np.asarray(test["label"])
  k = cfg.info.categories
  code = np.concatenate([np.asarray(infogan.predict_class(state, jnp.asarray(x[i:i + 500]))) for i in range(0, len(x), 500)])

  def feats(a):
    return np.concatenate([np.asarray(stabilizers.features(state.d, state.d.params, jnp.asarray(a[i:i + 500]),
                                                            train=False)[1]) for i in range(0, len(a), 500)])

  # each category's most frequent label and the fraction of the category it makes up
  majority = [(int(np.bincount(y[code == c], minlength=int(y.max()) + 1).argmax()),
               round(float(np.mean(y[code == c] == np.bincount(y[code == c]).argmax())), 3)) if np.any(code == c)
              else None for c in range(k)]
  name, values = nuisance(x)
  factor = bins(values, k)
  return {"run": workdir, "step": int(state.step), "categories": k,
          "accuracy_vs_labels": metrics.class_accuracy(code, y, "hungarian")[1],
          "nmi_vs_labels": float(normalized_mutual_info_score(y, code)),
          "category_majority_label_and_purity": majority,
          "nuisance": name,
          f"accuracy_vs_{name.replace(' ', '_')}_bins": metrics.class_accuracy(code, factor, "hungarian")[1],
          f"nmi_vs_{name.replace(' ', '_')}_bins": float(normalized_mutual_info_score(factor, code)),
          "labels_vs_nuisance_nmi": float(normalized_mutual_info_score(y, factor)),
          "linear_probe_d_features": metrics.linear_probe(feats(fit["image"]), fit["label"], feats(x), y),
          "linear_probe_raw_input": metrics.linear_probe(fit["image"], fit["label"], x, y),
          "objective_at_end": objective_at_end(workdir, k)}


def main(argv):
  if len(argv) < 2:
    print(__doc__.strip(), file=sys.stderr)
    return 2
  for workdir in argv[1:]:
    print(json.dumps(analyse(workdir), indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
