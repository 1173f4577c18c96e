"""Data derived from other data, with the image processing that makes it: pix2pix's edges -> image
pairs, MNIST-M's blends of digits with photo patches, super-resolution pairs (bicubic
down-sampling), patches of the bundled photos and their cartoon-filtered versions (CartoonGAN's
domains), and paired rows with their sides swapped."""

from __future__ import annotations

import os

import numpy as np

from ganjax.data.base import Source, from_arrays, to_unit_range
from ganjax.data.builtin import PHOTOS, photos
from ganjax.data.fetch import default_cache_dir
from ganjax.errors import DataError


def _all_rows(src: Source, what: str) -> dict:
  """Every row of an image source, which a derived source processes at once."""
  if src.kind != "images":
    raise DataError(f"{what}: {src.name} holds {src.kind}, not images (its rows hold {', '.join(src.element_spec)})")
  return src.get(np.arange(src.size))


def edge_pairs(src: Source, sigma: float = 1.0) -> Source:
  """pix2pix's edges -> image pairs from any image source: {"a": the Canny edge map of each image
  (scikit-image's `feature.canny` on the grey image, `sigma`; edges +1 on -1), "b": the image,
  "label" where the source has labels}. Deterministic: no randomness at all."""
  from skimage.feature import canny

  batch = _all_rows(src, "edges")
  images = batch["image"]
  if images.ndim != 4:
    raise DataError(f"edges: {src.name} holds no images (shape {images.shape[1:]})")
  grey = images.mean(-1) if images.shape[-1] > 1 else images[..., 0]
  edges = np.stack([canny(g, sigma=sigma) for g in (grey + 1.0) / 2.0])[..., None]
  arrays = {"a": np.where(edges, 1.0, -1.0).astype(np.float32), "b": images}
  if "label" in batch:
    arrays["label"] = batch["label"]
  return from_arrays(f"edges:{src.name}", arrays, src.num_classes, official_test=src.official_test, kind="pairs")


def blend_pairs(src: Source, seed: int = 0) -> Source:
  """MNIST-M (Ganin et al. 2016, Sec. 5.1) from any grey image source: each digit blended with a
  colour patch cut at random from the photos (`photos()`; BSDS500 in the paper) as |patch - digit|
  on the binarised digit (pixels > 0 of [-1, 1], i.e. above mid-grey), so the stroke inverts the
  patch's colours. Pairs {"a": the digit replicated to 3 channels, "b": the blend, "label"}: an
  unpaired method trains on them as two streams and is still scored against the known partner.
  Deterministic: the patches depend on `seed` (0) only, never on the run's seed."""
  batch = _all_rows(src, "blend")
  images = batch["image"]
  if images.ndim != 4 or images.shape[-1] != 1:
    raise DataError(f"blend: {src.name} holds no grey images (shape {images.shape[1:]})")
  n, h, w = images.shape[:3]
  pool = [p for p in photos() if p.shape[0] > h and p.shape[1] > w]
  rng = np.random.default_rng([seed, 7001])
  which = rng.integers(0, len(pool), n)
  patches = np.empty((n, h, w, 3), np.float32)
  for i, k in enumerate(which):
    p = pool[k]
    y, x = rng.integers(0, p.shape[0] - h + 1), rng.integers(0, p.shape[1] - w + 1)
    patches[i] = p[y:y + h, x:x + w]
  digit = (images > 0).astype(np.float32)  # binarised
  blend = np.abs(patches / 255.0 - digit)
  arrays = {"a": np.repeat(images, 3, -1), "b": (blend * 2.0 - 1.0).astype(np.float32)}
  if "label" in batch:
    arrays["label"] = batch["label"]
  return from_arrays(f"blend:{src.name}", arrays, src.num_classes, official_test=src.official_test, kind="pairs")


def bicubic(images: np.ndarray, height: int, width: int) -> np.ndarray:
  """Float NHWC images in [-1, 1] resized to height x width with PIL's bicubic filter, clipped."""
  from PIL import Image

  out = np.empty((len(images), height, width, images.shape[-1]), np.float32)
  for i, img in enumerate(images):
    for ch in range(images.shape[-1]):
      out[i, :, :, ch] = np.asarray(Image.fromarray(np.asarray(img[:, :, ch], np.float32), mode="F").resize(
          (width, height), Image.BICUBIC))
  return np.clip(out, -1.0, 1.0)


def downsampled(src: Source, factor: int = 4) -> Source:
  """Super-resolution pairs from any image source (SRGAN, Ledig et al. 2017, Sec. 3.1: low-resolution
  images by bicubic down-sampling with factor r = 4): {"a": the image shrunk `factor` times (PIL's
  bicubic), "b": the image, "label" where the source has them}. 28 x 28 digits give 7 x 7 inputs."""
  batch = _all_rows(src, "downsampled")
  images = batch["image"]
  if images.ndim != 4:
    raise DataError(f"downsampled: {src.name} holds no images (shape {images.shape[1:]})")
  h, w = images.shape[1:3]
  if h % factor or w % factor:
    raise DataError(f"downsampled: {src.name}'s {h} x {w} images are not divisible by data.sr_factor={factor}")
  arrays = {"a": bicubic(images, h // factor, w // factor), "b": images}
  if "label" in batch:
    arrays["label"] = batch["label"]
  return from_arrays(f"downsampled:{src.name}", arrays, src.num_classes, official_test=src.official_test,
                     kind="pairs")


HELD_OUT_PHOTO = "chelsea"


def _patches(layers: dict, size: int, train_patches: int, seed: int, name: str, kind: str) -> tuple:
  """(train, test) Sources of size x size patches cut at the same places from every version of
  the photos in `layers` ({key: [one HWC uint8 array per photo of PHOTOS]}): `train_patches` random
  crops of every photo but one, and the held-out photo (`HELD_OUT_PHOTO`) cut into its
  non-overlapping tiles. Deterministic from `seed` (0)."""
  held = list(PHOTOS).index(HELD_OUT_PHOTO)
  train_ids = [i for i in range(len(PHOTOS)) if i != held]
  rng = np.random.default_rng([seed, 7002])
  crops = {k: np.empty((train_patches, size, size, 3), np.uint8) for k in layers}
  for n, i in enumerate(rng.integers(0, len(train_ids), train_patches)):
    shape = layers[next(iter(layers))][train_ids[i]].shape
    y, x = rng.integers(0, shape[0] - size + 1), rng.integers(0, shape[1] - size + 1)
    for k, photos_k in layers.items():
      crops[k][n] = photos_k[train_ids[i]][y:y + size, x:x + size]
  tiles = {}
  for k, photos_k in layers.items():
    p = photos_k[held]
    rows, cols = p.shape[0] // size, p.shape[1] // size
    tiles[k] = p[:rows * size, :cols * size].reshape(rows, size, cols, size, 3).transpose(0, 2, 1, 3, 4).reshape(
        -1, size, size, 3)
  return (from_arrays(f"{name}[train]", {k: to_unit_range(v) for k, v in crops.items()}, kind=kind),
          from_arrays(f"{name}[{HELD_OUT_PHOTO}]", {k: to_unit_range(v) for k, v in tiles.items()}, kind=kind))


def photo_patches(size: int = 32, train_patches: int = 4000, seed: int = 0) -> tuple:
  """(train, test) Sources of size x size colour patches {"image"} of the photos (`_patches`)."""
  return _patches({"image": photos()}, size, train_patches, seed, "photos", "images")


def cartoon_filter(photo: np.ndarray, levels: int = 6) -> np.ndarray:
  """A classic non-learned cartoon filter of a uint8 RGB photo: edge-preserving smoothing
  (scikit-image's bilateral filter), colour quantisation to `levels` values per channel, and the
  Canny edges of the smoothed image (dilated by one pixel) drawn dark."""
  from skimage.feature import canny
  from skimage.morphology import dilation, disk
  from skimage.restoration import denoise_bilateral

  smooth = denoise_bilateral(photo / 255.0, sigma_color=0.1, sigma_spatial=3, win_size=9, channel_axis=-1)
  flat = np.round(smooth * (levels - 1)) / (levels - 1)
  edges = dilation(canny(smooth.mean(-1), sigma=2.0), disk(1))
  return (np.where(edges[..., None], 0.08, flat) * 255).round().astype(np.uint8)


def edge_smoothed(image: np.ndarray, sigma: float = 1.0) -> np.ndarray:
  """CartoonGAN's edge-smoothed cartoons (Chen et al. 2018, Sec. 3.2.2): Canny edge pixels, dilated,
  replaced by the Gaussian-smoothed image: the same colours without the clear edges."""
  from skimage.feature import canny
  from skimage.filters import gaussian
  from skimage.morphology import dilation, disk

  x = image / 255.0
  region = dilation(canny(x.mean(-1), sigma=1.0), disk(2))
  blurred = gaussian(x, sigma=sigma, channel_axis=-1)
  return (np.where(region[..., None], blurred, x) * 255).round().astype(np.uint8)


def cartoon_patches(size: int = 32, train_patches: int = 4000, seed: int = 0) -> tuple:
  """(train, test) of photo -> cartoon pairs: {"a": the photo patch, "b": the same patch of the
  photo's `cartoon_filter`, "b_smooth": of its `edge_smoothed` version}, cut as `_patches` does."""
  pool = photos()
  cartoons, smoothed = _filtered_photos()
  return _patches({"a": pool, "b": cartoons, "b_smooth": smoothed}, size, train_patches, seed, "cartoon", "pairs")


def _filtered_photos() -> tuple:
  """The photos' cartoon_filter and edge_smoothed versions, computed once (~2 s) and cached in
  `<cache>/photos/cartoon-v2.npz`."""
  path = os.path.join(default_cache_dir(), "photos", "cartoon-v2.npz")
  n = len(PHOTOS)
  try:
    with np.load(path) as f:
      return [f[f"b{i}"] for i in range(n)], [f[f"s{i}"] for i in range(n)]
  except (OSError, KeyError, ValueError):
    pass
  cartoons = [cartoon_filter(p) for p in photos()]
  smoothed = [edge_smoothed(c) for c in cartoons]
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = f"{path}.tmp{os.getpid()}.npz"
  np.savez(tmp, **{f"b{i}": c for i, c in enumerate(cartoons)}, **{f"s{i}": c for i, c in enumerate(smoothed)})
  os.replace(tmp, path)
  return cartoons, smoothed


def swapped(src: Source) -> Source:
  """Paired rows with "a" and "b" exchanged."""
  swap = {"a": "b", "b": "a"}
  return Source(f"{src.name}[swapped]", src.size, lambda idx: {swap.get(k, k): v for k, v in src.get(idx).items()},
                {swap.get(k, k): v for k, v in src.element_spec.items()}, src.num_classes, src.official_test,
                kind=src.kind)
