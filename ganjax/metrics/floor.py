"""The real-vs-real floor of a dataset: the sample-quality metrics of `eval.num_samples` real
training images (drawn at random over the whole training split, `metrics.real_reference`) against
the held-out images, in the same feature space as a run's evaluation (`eval.features`: the
classifier for labelled data, the self-supervised encoder otherwise) -- what a perfect generator
scores at this sample size. Nothing is trained but the (cached) feature network.

  python -m ganjax.metrics.floor --config=configs/dcgan.py --config.data.name=idx:../shared/data/mnist \
      --config.data.holdout=2000      # 32x32, as the DCGAN and AC-GAN rows
  python -m ganjax.metrics.floor --config=configs/gan.py --config.data.name=idx:../shared/data/mnist \
      --config.data.holdout=2000      # 28x28, as the MLP rows

prints {"features": ..., "fid_real_reference": ..., "kid_real_reference": ..., and with the classifier
"classifier_score_real_reference": ...}.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from absl import app
from ml_collections import config_flags

from ganjax import data, metrics
from ganjax.errors import GanjaxError
from ganjax.metrics import fid as fid_lib
from ganjax.metrics import sets

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file whose data and eval settings are used.")


def floor(config) -> dict:
  split = data.load(config)
  space = metrics.feature_space(split, config)
  test = split.test.get(np.arange(split.test.size))
  ref = metrics.real_reference(split.train, config.eval.num_samples)
  test_f, ref_f = space.features(test["image"]), space.features(ref)
  kid, _ = sets.kid(test_f, ref_f, config.eval.kid_subsets, metrics.kid_subset_size(config, len(test_f), len(ref_f)))
  out = {"data": config.data.name, "features": space.name, "num_real": int(len(ref)),
         "num_heldout": int(split.test.size), "fid_real_reference": fid_lib.fid(ref_f, test_f),
         "kid_real_reference": kid}
  if space.probs is not None:
    out["classifier_score_real_reference"] = fid_lib.classifier_score(space.probs(ref))
  return out


def main(argv):
  del argv
  try:
    print(json.dumps(floor(_CONFIG.value), indent=2))
  except GanjaxError as e:
    print(f"ganjax: error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
