"""ganjax's metrics. The numpy ones import neither JAX nor Flax, so `import ganjax.metrics.sets`
(or `.fid`) is quick and usable on its own:

  sets        KID, precision/recall, density/coverage (blocked, linear memory), nearest neighbours
  fid         Fréchet distance, classifier score
  modes       VEEGAN's mode metrics of the 2-D mixtures
  features    the feature spaces (classifier, self-supervised, Inception-v3) and their choice
  classifier  the dataset classifier;  selfsup  the SimCLR encoder for unlabelled data
  inception   the FID Inception-v3 (user-supplied weights)
  quality     `sample_quality`: every image metric of a run's samples; also `class_accuracy`,
              `real_reference`, `classifier_for`
  probes      `linear_probe`, `nearest_neighbour_accuracy`: how well features separate the classes
  translation image-to-image metrics against the ground truth (L1, PSNR, SSIM, class accuracy, FID)
  sequences   token sequences: the oracle's NLL, grammar validity, BLEU and self-BLEU (nltk)
  ais         annealed importance sampling;  floor  the real-vs-real floor (`python -m`)

The names of `quality` and `probes` are also available here (`ganjax.metrics.sample_quality`),
imported on first use.
"""

import importlib

_QUALITY = ("sample_quality", "class_accuracy", "real_reference", "classifier_for", "feature_space",
            "kid_subset_size", "check", "compare")
_PROBES = ("linear_probe", "nearest_neighbour_accuracy")
_SUBMODULES = ("sets", "fid", "modes", "features", "classifier", "selfsup", "inception", "quality", "probes", "ais",
               "floor", "translation", "sequences")


def __getattr__(name):
  if name == "translation_quality":
    return importlib.import_module("ganjax.metrics.translation").translation_quality
  if name == "sequence_quality":
    return importlib.import_module("ganjax.metrics.sequences").sequence_quality
  if name in _QUALITY:
    return getattr(importlib.import_module("ganjax.metrics.quality"), name)
  if name in _PROBES:
    return getattr(importlib.import_module("ganjax.metrics.probes"), name)
  if name in _SUBMODULES:
    return importlib.import_module(f"ganjax.metrics.{name}")
  raise AttributeError(f"module 'ganjax.metrics' has no attribute {name!r}")


def __dir__():
  return sorted(list(globals()) + list(_QUALITY) + list(_PROBES) + list(_SUBMODULES))
