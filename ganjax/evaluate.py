"""Score generated samples against real ones from files: any generator's, any codebase's.

  python -m ganjax.evaluate --real=DIR_OR_NPZ --fake=DIR_OR_NPZ [--features=auto|classifier|self|inception]
      [--train=DIR_OR_NPZ] [--inception_weights=FILE.npz] [--image_size=N] [--output=evaluate.json]
      [--kid_subsets=100] [--kid_subset_size=0] [--cache_dir=DIR] [--self_features_steps=1000]
      [--classifier_steps=2000] [--no-progress]

Prints and writes (`--output`) FID, KID (± std), precision, recall, density and coverage of --fake
against --real, with `features` naming the feature space and `seconds/<metric>` each metric's time:

  --real, --fake, --train  a folder of images (PNG, JPEG, ...; two or more class subfolders give
      labels), or an .npz / .npy array: images (N, H, W, C) or (N, C, H, W), uint8 in [0, 255] or float
      in [-1, 1], with optional `labels` (fewer than two classes: unlabelled); or precomputed features,
      a 2-D (N, d) array (key `features`, or the only array), used as they are (`features: precomputed`).
  --features  auto: the classifier when the training images have labels, else self. classifier:
      ganjax's dataset classifier trained on --train's labels; self: the SimCLR encoder trained on
      --train's images without labels; inception: FID Inception-v3 (needs --inception_weights). The
      networks are trained on --train (default: --real) once and cached (`--cache_dir`).
  --image_size  resize every image to N x N (bilinear) first; without it the sets must share a shape.

Every problem (a missing path, an unreadable image, sets of different shapes, a KID subset size
that leaves no randomness) is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

from ganjax.data import base, folders
from ganjax.data.fetch import default_cache_dir
from ganjax.errors import DataError, GanjaxError
from ganjax.metrics import features as features_lib
from ganjax.metrics import fid as fid_lib
from ganjax.metrics import sets

_IMAGE_KEYS = ("images", "image", "x", "samples", "arr_0")
_LABEL_KEYS = ("labels", "label", "y")


def _images(arr: np.ndarray, what: str, image_size: int) -> np.ndarray:
  if arr.ndim == 3:
    arr = arr[..., None]
  if arr.ndim != 4:
    raise DataError(f"{what}: expected images (N, H, W, C) or features (N, d), got shape {arr.shape}")
  if arr.shape[1] in (1, 3) and arr.shape[3] not in (1, 3):  # NCHW (PyTorch) -> NHWC
    arr = arr.transpose(0, 2, 3, 1)
  if arr.dtype == np.uint8:
    arr = base.to_unit_range(arr)
  else:
    arr = np.asarray(arr, np.float32)
    lo, hi = float(arr.min()), float(arr.max())
    if not np.isfinite([lo, hi]).all() or lo < -1.001 or hi > 1.001:
      raise DataError(f"{what}: float images must lie in [-1, 1] (got [{lo:.3g}, {hi:.3g}]); pass uint8 in "
                      "[0, 255], or rescale x in [0, 1] with 2x - 1")
  return base.resize(arr, image_size)


def load(path: str, what: str, image_size: int = 0) -> dict:
  """{"images": ..., "labels": ... or None} or {"features": ...} from a folder, .npz or .npy."""
  p = pathlib.Path(os.path.expanduser(str(path)))
  if p.is_dir():
    src = folders.folder(p, image_size)
    batch = src.get(np.arange(src.size))
    return {"images": batch["image"], "labels": batch.get("label"), "num_classes": src.num_classes}
  if not p.exists():
    raise DataError(f"{what}: {p} does not exist")
  if p.suffix not in (".npz", ".npy"):
    raise DataError(f"{what}: {p} is neither a folder of images nor an .npz / .npy array")
  try:
    if p.suffix == ".npy":
      arrays = {"arr_0": np.load(p, allow_pickle=False)}
    else:
      with np.load(p, allow_pickle=False) as f:
        arrays = dict(f)
  except (OSError, ValueError, EOFError) as e:
    raise DataError(f"{what}: cannot read {p} ({type(e).__name__}: {e})") from None
  labels = next((arrays[k] for k in _LABEL_KEYS if k in arrays), None)
  if "features" in arrays or (len(arrays) == 1 and next(iter(arrays.values())).ndim == 2):
    feats = arrays.get("features", next(iter(arrays.values())))
    if feats.ndim != 2 or not np.isfinite(feats).all():
      raise DataError(f"{what}: features must be a finite (N, d) array, got shape {feats.shape}")
    return {"features": np.asarray(feats, np.float64)}
  key = next((k for k in _IMAGE_KEYS if k in arrays), None)
  if key is None:
    raise DataError(f"{what}: {p} has no images (keys {', '.join(_IMAGE_KEYS)}) or features; it has "
                    f"{', '.join(arrays)}")
  labels = None if labels is None else np.asarray(labels).astype(np.int32).reshape(-1)
  if labels is not None and len(np.unique(labels)) < 2:  # one class: unlabelled data, as a one-subfolder folder
    labels = None
  return {"images": _images(arrays[key], what, image_size), "labels": labels,
          "num_classes": 0 if labels is None else int(labels.max()) + 1}


def evaluate_files(real: str, fake: str, features: str = "auto", train: str = "", inception_weights: str = "",
                   image_size: int = 0, kid_subsets: int = 100, kid_subset_size: int = 0, cache_dir: str = "",
                   self_features_steps: int = 1000, classifier_steps: int = 2000, progress: bool = True) -> dict:
  def say(message):
    if progress:
      print(f"ganjax: {message}", file=sys.stderr, flush=True)

  t0 = time.perf_counter()
  r, f = load(real, "--real", image_size), load(fake, "--fake", image_size)
  out = {"real": str(real), "fake": str(fake)}
  if "features" in r or "features" in f:
    if not ("features" in r and "features" in f):
      raise DataError("--real and --fake must both be images or both be precomputed features")
    real_f, fake_f = r["features"], f["features"]
    if real_f.shape[1] != fake_f.shape[1]:
      raise DataError(f"--real features are {real_f.shape[1]}-d, --fake features {fake_f.shape[1]}-d")
    out["features"] = "precomputed"
  else:
    if r["images"].shape[1:] != f["images"].shape[1:]:
      raise DataError(f"--real images are {r['images'].shape[1:]}, --fake images {f['images'].shape[1:]}: "
                      "pass --image_size to resize both")
    t = r if not train else load(train, "--train", image_size)
    if "features" in t or t["images"].shape[1:] != r["images"].shape[1:]:
      raise DataError(f"--train must hold images of the shape of --real's, {r['images'].shape[1:]}")
    kind = features_lib.resolve(features, t["labels"] is not None, inception_weights)
    say(f"feature space: {kind} ({'loading' if kind == 'inception' else 'training or loading from the cache'})")
    space = features_lib.make(kind, t["images"], t["labels"], t["num_classes"],
                              cache_dir=cache_dir or default_cache_dir(), classifier_steps=classifier_steps,
                              self_steps=self_features_steps, inception_weights=inception_weights,
                              progress=progress)
    out["features"] = kind
    if r["labels"] is not None or kind == "self":
      out.update(space.trust(r["images"], r["labels"]))
    say(f"features of {len(r['images'])} real and {len(f['images'])} generated images")
    real_f, fake_f = space.features(r["images"]), space.features(f["images"])
    if space.probs is not None:
      out["classifier_score"] = fid_lib.classifier_score(space.probs(f["images"]))
  out["n_real"], out["n_fake"] = len(real_f), len(fake_f)
  out["seconds/load_and_features"] = round(time.perf_counter() - t0, 3)
  size = sets.kid_subset_size(kid_subset_size, len(real_f), len(fake_f), kid_subsets)
  out["kid_subset_size"] = size
  say("FID, KID, precision/recall, density/coverage")
  out.update(sets.score(real_f, fake_f, kid_subsets=kid_subsets, kid_subset_size=size, progress=progress))
  out["seconds/total"] = round(time.perf_counter() - t0, 3)
  return out


def _parser():
  p = argparse.ArgumentParser(prog="python -m ganjax.evaluate", description=__doc__.split("\n\n")[0])
  p.add_argument("--real", required=True)
  p.add_argument("--fake", required=True)
  p.add_argument("--features", default="auto", choices=["auto", "classifier", "self", "inception"])
  p.add_argument("--train", default="")
  p.add_argument("--inception_weights", default="")
  p.add_argument("--image_size", type=int, default=0)
  p.add_argument("--output", default="evaluate.json")
  p.add_argument("--kid_subsets", type=int, default=100)
  p.add_argument("--kid_subset_size", type=int, default=0, help="0: 1,000, at most half the smaller set")
  p.add_argument("--cache_dir", default="")
  p.add_argument("--self_features_steps", type=int, default=1000)
  p.add_argument("--classifier_steps", type=int, default=2000)
  p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
  return p


def main(argv=None) -> dict:
  args = vars(_parser().parse_args(argv))
  output = args.pop("output")
  try:
    result = evaluate_files(**args)
  except GanjaxError as e:
    print(f"ganjax: error: {e}", file=sys.stderr)
    sys.exit(1)
  print(json.dumps(result, indent=2))
  if output:
    with open(output, "w") as f:
      json.dump(result, f, indent=2)
    print(f"ganjax: wrote {output}", file=sys.stderr)
  return result


if __name__ == "__main__":
  main()
