"""Metrics of an image-to-image translation against the held-out ground truth (pix2pix's protocol,
Isola et al. 2017, Sec. 4.2, with ganjax's own networks in place of their FCN and AMT raters):

  translation/l1, /psnr, /ssim   per-pixel L1 (images in [-1, 1]), PSNR (dB, data range 2) and SSIM
                                 (scikit-image's `peak_signal_noise_ratio` and `structural_similarity`,
                                 uniform 7 x 7 windows, channels averaged), mean over images
  translation/class_accuracy     the "FCN-score" analogue: a classifier trained on the real B images'
                                 labels classifies the translations (does a translated digit stay the
                                 same digit?); `..._real` is its accuracy on the real B images, the
                                 upper bound the paper reports for its FCN on real photos
  translation/fid, /fid_real_reference
                                 FID of the translations against the held-out B images in the B
                                 domain's feature space (the classifier, or the self-supervised
                                 encoder for unlabelled B images; named by translation/features), and
                                 the same for as many random real training B images
"""

from __future__ import annotations

import numpy as np

from ganjax.metrics import fid as fid_lib


def pixel_metrics(outputs, targets) -> dict:
  from skimage.metrics import peak_signal_noise_ratio, structural_similarity

  out, tgt = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
  win = min(7, *(s if s % 2 else s - 1 for s in out.shape[1:3]))
  psnr = [peak_signal_noise_ratio(t, o, data_range=2.0) for o, t in zip(out, tgt)]
  ssim = [structural_similarity(t, o, data_range=2.0, channel_axis=-1, win_size=win) for o, t in zip(out, tgt)]
  finite = np.isfinite(psnr)  # an exact reconstruction has infinite PSNR: averaged over the others
  return {"translation/l1": float(np.mean(np.abs(out - tgt))),
          "translation/psnr": float(np.mean(np.asarray(psnr)[finite])) if finite.any() else float("inf"),
          "translation/ssim": float(np.mean(ssim))}


def translation_quality(outputs, test, split, config) -> dict:
  """`outputs`: the translations of the held-out `test` batch's "a" images; its "b" images are the
  ground truth. The B-domain feature space is trained on `split.train`'s "b" images."""
  from ganjax.metrics import quality

  out = pixel_metrics(outputs, test["b"])
  space = quality.feature_space(split, config, key="b")
  out["translation/features"] = space.name
  real_f, gen_f = space.features(test["b"]), space.features(outputs)
  ref = quality.real_reference(split.train, len(outputs), key="b")
  out["translation/fid"] = fid_lib.fid(gen_f, real_f)
  out["translation/fid_real_reference"] = fid_lib.fid(space.features(ref), real_f)
  if space.probs is not None and "label" in test:
    out["translation/class_accuracy"] = float(np.mean(space.probs(outputs).argmax(1) == test["label"]))
    out["translation/class_accuracy_real"] = float(np.mean(space.probs(test["b"]).argmax(1) == test["label"]))
  return out
