"""Metrics of an image-to-image translation against the held-out ground truth (pix2pix's protocol,
Isola et al. 2017, Sec. 4.2, with ganjax's own networks in place of their FCN and AMT raters):

  translation/l1, /psnr, /ssim   per-pixel L1 (images in [-1, 1]), PSNR (dB, data range 2) and SSIM
                                 (scikit-image's `peak_signal_noise_ratio` and `structural_similarity`,
                                 uniform 7 x 7 windows, channels averaged), mean over images
  translation/class_accuracy     the "FCN-score" analogue: a classifier trained on the real B images'
                                 labels classifies the translations (does a translated digit stay the
                                 same digit?); `..._real` is its accuracy on the real B images, the
                                 upper bound the paper reports for its FCN on real photos; on unpaired
                                 labelled domains (DTN's, SimGAN's digits) the classifier of the
                                 target domain classifies the translated source images against the
                                 source labels (DTN's transfer metric, Taigman et al. 2017, Table 1),
                                 `..._real` on the target's own held-out images
  translation/fid, /fid_real_reference
                                 FID of the translations against the held-out B images in the B
                                 domain's feature space (the classifier, or the self-supervised
                                 encoder for unlabelled B images; named by translation/features), and
                                 the same for as many random real training B images
  translation_ba/...             the same for B -> A, for methods that translate back (CycleGAN,
                                 DiscoGAN); without a ground truth (unpaired data) only the FIDs and,
                                 with labels, the class accuracy
  translation/cycle_l1, translation_ba/cycle_l1
                                 the cycle-reconstruction error |F(G(x)) - x| (and |G(F(y)) - y|)
"""

from __future__ import annotations

import numpy as np

from ganjax.data.builtin import mixture_centers
from ganjax.metrics import fid as fid_lib
from ganjax.metrics import quality
from ganjax.metrics.modes import mode_metrics


def pixel_metrics(outputs, targets) -> dict:
  from skimage.metrics import peak_signal_noise_ratio, structural_similarity

  out, tgt = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
  win = min(7, *(s if s % 2 else s - 1 for s in out.shape[1:3]))
  with np.errstate(divide="ignore"):  # an exact reconstruction: infinite PSNR, left out below
    psnr = [peak_signal_noise_ratio(t, o, data_range=2.0) for o, t in zip(out, tgt)]
  ssim = [structural_similarity(t, o, data_range=2.0, channel_axis=-1, win_size=win) for o, t in zip(out, tgt)]
  finite = np.isfinite(psnr)  # an exact reconstruction has infinite PSNR: averaged over the others
  return {"translation/l1": float(np.mean(np.abs(out - tgt))),
          "translation/psnr": float(np.mean(np.asarray(psnr)[finite])) if finite.any() else float("inf"),
          "translation/ssim": float(np.mean(ssim))}


def translation_quality(outputs, target, config, side: str = "b", prefix: str = "translation", truth=None,
                        labels=None, progress: bool = False) -> dict:
  """`outputs`: translations of held-out input-domain rows into the target domain, whose data is
  the Split `target` with its images under `side`. `truth`: the outputs' known partners (paired
  data), for the pixel metrics; `labels`: the inputs' labels, which with a ground truth hold for
  the partners too (the class accuracy). The FIDs compare against the partners, or without them
  `target`'s held-out images, in the target domain's feature space trained on `target.train` (a map
  into 2-D points is `mixture_mapping`'s). Keys are `<prefix>/...`."""
  out = {}
  if truth is not None:
    out.update({f"{prefix}/{k.split('/')[1]}": v for k, v in pixel_metrics(outputs, truth).items()})
    real = truth
  else:
    real = target.test.get(np.arange(min(len(outputs), target.test.size)))[side]
  space = quality.feature_space(target, config, progress, key=side)
  out[f"{prefix}/features"] = space.name
  real_f, gen_f = space.features(real), space.features(outputs)
  ref = quality.real_reference(target.train, len(outputs), key=side)
  out[f"{prefix}/fid"] = fid_lib.fid(gen_f, real_f)
  out[f"{prefix}/fid_real_reference"] = fid_lib.fid(space.features(ref), real_f)
  if space.probs is not None and labels is not None:
    out[f"{prefix}/class_accuracy"] = float(np.mean(space.probs(outputs).argmax(1) == labels))
    if truth is not None:
      out[f"{prefix}/class_accuracy_real"] = float(np.mean(space.probs(truth).argmax(1) == labels))
    elif target.test.has_labels:  # unpaired: the classifier on the target's own held-out images
      rows = target.test.get(np.arange(min(len(outputs), target.test.size)))
      out[f"{prefix}/class_accuracy_real"] = float(np.mean(space.probs(rows[side]).argmax(1) == rows["label"]))
  return out


def mixture_mapping(outputs, name: str, source_modes=None, std: float = 0.0) -> dict:
  """A map into a 2-D mixture (DiscoGAN's toy, Kim et al. 2017, Sec. 4.1): VEEGAN's modes covered
  and high-quality fraction of the mapped points (`ganjax.metrics.modes`) and, given each input's
  own mode, `distinct_targets`: how many different target modes the source modes are sent to (each
  source mode's most frequent nearest target mode among its mapped points, high quality or not). A
  map that collapses modes sends several source modes to one target; a one-to-one map keeps them
  apart."""
  out = mode_metrics(outputs, name, std)
  if source_modes is not None:
    centers = mixture_centers(name)
    x = np.asarray(outputs, np.float64)
    dist = np.linalg.norm(x[:, None] - centers[None], axis=-1)
    nearest = dist.argmin(1)
    targets = {int(np.bincount(nearest[source_modes == m]).argmax()) for m in np.unique(source_modes)}
    out["distinct_targets"] = float(len(targets))
    out["source_modes"] = float(len(np.unique(source_modes)))
  return out


def cycle_error(reconstructions, inputs) -> float:
  """Mean absolute error of a cycle reconstruction F(G(x)) against x (images in [-1, 1])."""
  return float(np.mean(np.abs(np.asarray(reconstructions, np.float64) - np.asarray(inputs, np.float64))))
