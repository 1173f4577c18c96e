"""Data that needs no file of the user's and no download: scikit-learn's 8x8 digits, the photos
that ship with scikit-image and scikit-learn, digits rendered with matplotlib's fonts, and the
synthetic sets drawn from a seed (2-D Gaussian mixtures, time-series signal families)."""

from __future__ import annotations

import functools
import hashlib
import os

import numpy as np

from ganjax.data.base import Source, from_arrays, resize, to_unit_range
from ganjax.data.fetch import default_cache_dir
from ganjax.errors import DataError


def digits(image_size: int = 0) -> Source:
  """scikit-learn's 1,797 real 8x8 handwritten digits (pixel values 0..16), with labels."""
  from sklearn.datasets import load_digits

  d = load_digits()
  images = to_unit_range(d.images[..., None], 16.0)
  return from_arrays("digits", {"image": resize(images, image_size), "label": d.target.astype(np.int32)}, 10, kind="images")


# Each mode's standard deviation, as the papers' code draws them: Metz et al. 2016's ring (radius 2,
# 0.02; VEEGAN's ring is the same at half the scale, radius 1 and 0.01) and VEEGAN's grid (Srivastava et
# al. 2017: modes 2 apart, 0.05 -- as GDPP-GAN's script, which reproduces its Table 1, and a port of
# VEEGAN's own notebook draw it). ganjax's grid once used 0.02 (`data.mixture_std=0.02` reproduces
# the figures made with it).
MIXTURE_STDS = {"ring8": 0.02, "grid25": 0.05}


def mixture_std(name: str, override: float = 0.0) -> float:
  """The standard deviation of each mode of mixture `name`: `override` if > 0, else its paper's."""
  if override < 0:
    raise DataError(f"data.mixture_std must be >= 0 (0: the mixture's own), got {override}")
  if name not in MIXTURE_STDS:
    raise DataError(f"unknown mixture {name!r}")
  return float(override) if override > 0 else MIXTURE_STDS[name]


def mixture_centers(name: str) -> np.ndarray:
  if name == "ring8":  # 8 Gaussians on a circle of radius 2 (Metz et al. 2016)
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], 1).astype(np.float32)
  if name == "grid25":  # 5x5 grid at {-4,-2,0,2,4}^2 (Srivastava et al. 2017)
    g = np.arange(-4, 5, 2, dtype=np.float32)
    return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
  raise DataError(f"unknown mixture {name!r}")


def mixture(name: str, seed: int, size: int = 100_000, std: float = 0.0) -> Source:
  """A 2-D Gaussian mixture, drawn once from `seed`; labels are the mode indices; `std`: each mode's
  standard deviation (0: the mixture's own, `mixture_std`)."""
  centers = mixture_centers(name)
  rng = np.random.default_rng(seed)
  label = rng.integers(0, len(centers), size).astype(np.int32)
  x = centers[label] + np.float32(mixture_std(name, std)) * rng.standard_normal((size, 2)).astype(np.float32)
  return from_arrays(name, {"image": x.astype(np.float32), "label": label}, len(centers), kind="points")


SIGNAL_FAMILIES = ("sine", "square", "sawtooth", "burst")


def signals(seed: int, size: int = 12_000, length: int = 64, channels: int = 2) -> Source:
  """Synthetic multichannel time series, `size` windows of (length, channels), drawn once from
  `seed`; the label is the family: sine, square, sawtooth, or burst (a Gaussian-windowed sine at a
  random position). Every window has a random frequency (1.5-4 cycles per window), phase and
  amplitude (0.6-0.9); the second channel is the first delayed by a random quarter-period or less
  and scaled by 0.5-1; Gaussian noise of std 0.05 is added to both. Values lie in [-1, 1]."""
  rng = np.random.default_rng(seed)
  label = rng.integers(0, len(SIGNAL_FAMILIES), size).astype(np.int32)
  t = np.arange(length, dtype=np.float64)[None, :] / length
  freq = rng.uniform(1.5, 4.0, (size, 1))
  amp = rng.uniform(0.6, 0.9, (size, 1, 1))
  phase = rng.uniform(0.0, 1.0, (size, 1))
  delay = rng.uniform(0.0, 0.25, (size, 1)) / freq
  gain = rng.uniform(0.5, 1.0, (size, 1))
  center = rng.uniform(0.25, 0.75, (size, 1))

  def wave(tt):
    cyc = freq * tt + phase
    frac = cyc - np.floor(cyc)
    out = np.where(label[:, None] == 0, np.sin(2 * np.pi * cyc), 0.0)
    out = np.where(label[:, None] == 1, np.sign(np.sin(2 * np.pi * cyc)), out)
    out = np.where(label[:, None] == 2, 2.0 * frac - 1.0, out)
    burst = np.sin(2 * np.pi * 2.0 * cyc) * np.exp(-0.5 * ((tt - center) / 0.08)**2)
    return np.where(label[:, None] == 3, burst, out)

  chans = [wave(t)] + [gain * wave(t - delay) for _ in range(channels - 1)]
  x = amp * np.stack(chans, axis=-1) + 0.05 * rng.standard_normal((size, length, channels))
  return from_arrays("signals", {"image": np.clip(x, -1, 1).astype(np.float32), "label": label}, len(SIGNAL_FAMILIES),
                     kind="series")


PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina", "china", "flower",
          "chelsea")  # the colour photos that ship with scikit-image and scikit-learn (no download)


@functools.lru_cache(maxsize=4)
def photos(names=PHOTOS, short_side: int = 256) -> tuple:
  """The named photos as uint8 RGB arrays, each resized (bilinear) so its shorter side is
  `short_side` pixels (0: as shipped). scikit-learn's china.jpg and flower.jpg; the rest from
  scikit-image's `skimage.data`."""
  from PIL import Image

  out = []
  for name in names:
    if name in ("china", "flower"):
      from sklearn.datasets import load_sample_image

      arr = load_sample_image(f"{name}.jpg")
    else:
      import skimage.data

      arr = getattr(skimage.data, name)()
    arr = np.asarray(arr)[..., :3]
    if short_side:
      h, w = arr.shape[:2]
      scale = short_side / min(h, w)
      arr = np.asarray(Image.fromarray(arr).resize((round(w * scale), round(h * scale)), Image.BILINEAR))
    arr.setflags(write=False)
    out.append(arr)
  return tuple(out)


SYMBOL_FONTS = ("cmex10.ttf", "cmsy10.ttf")  # matplotlib's Computer Modern symbol fonts: no digits


def digit_fonts() -> list:
  """The TrueType fonts shipped with matplotlib that draw the ten digits, each one differently."""
  import glob

  import matplotlib
  from PIL import Image, ImageDraw, ImageFont

  out = []
  for path in sorted(glob.glob(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "*.ttf"))):
    if os.path.basename(path) in SYMBOL_FONTS:
      continue
    font, glyphs = ImageFont.truetype(path, 40), set()
    for ch in "0123456789":
      im = Image.new("L", (64, 64))
      ImageDraw.Draw(im).text((8, 4), ch, fill=255, font=font)
      glyphs.add(np.asarray(im).tobytes() if np.asarray(im).any() else b"")
    if b"" not in glyphs and len(glyphs) == 10:
      out.append(path)
  if not out:
    raise DataError("fonts: matplotlib ships no TrueType font that draws the digits")
  return out


def font_digits(size: int = 10_000, image_size: int = 28, seed: int = 0) -> Source:
  """SimGAN's synthetic domain for digits: each of `size` digits (labels uniform over 0-9) drawn in
  white on black with one of matplotlib's fonts (`digit_fonts`), at a random size (55-85% of the
  frame), stroke width (0-2 px at 4x resolution), rotation (+-15 degrees) and offset (+-10% of the
  frame), centred by its bounding box as MNIST's digits are, rendered at 4x and downsampled with
  antialiasing to image_size. Deterministic: `seed` (0) alone, never the run's seed. Rendered once
  (~1 min for 10,000 at 28 x 28) and cached in `<cache>/fonts/`."""
  fonts = digit_fonts()
  tag = hashlib.sha256(repr((size, image_size, seed, [os.path.basename(f) for f in fonts], "v1")).encode()).hexdigest()[:12]
  path = os.path.join(default_cache_dir(), "fonts", f"digits-{tag}.npz")
  try:
    with np.load(path) as f:
      out, labels = f["image"], f["label"]
  except (OSError, KeyError, ValueError):
    out, labels = _render_digits(fonts, size, image_size, seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}.npz"
    np.savez(tmp, image=out, label=labels)
    os.replace(tmp, path)
  out.setflags(write=False)
  return from_arrays("fonts", {"image": out, "label": labels}, 10, kind="images")


def _render_digits(fonts, size: int, image_size: int, seed: int):
  from PIL import Image, ImageDraw, ImageFont

  rng = np.random.default_rng([seed, 9001])
  big = 4 * image_size
  labels = rng.integers(0, 10, size).astype(np.int32)
  out = np.empty((size, image_size, image_size, 1), np.float32)
  cache = {}
  for i, label in enumerate(labels):
    path, pt = fonts[rng.integers(len(fonts))], int(big * rng.uniform(0.55, 0.85))
    font = cache.setdefault((path, pt), ImageFont.truetype(path, pt))
    stroke = int(rng.integers(0, 3))
    glyph = Image.new("L", (2 * big, 2 * big))
    ImageDraw.Draw(glyph).text((big // 2, big // 4), str(label), fill=255, font=font, stroke_width=stroke,
                               stroke_fill=255)
    glyph = glyph.rotate(float(rng.uniform(-15, 15)), resample=Image.BILINEAR)
    glyph = glyph.crop(glyph.getbbox())
    canvas = Image.new("L", (big, big))
    dx, dy = (rng.uniform(-0.1, 0.1, 2) * big).astype(int)
    canvas.paste(glyph, ((big - glyph.width) // 2 + dx, (big - glyph.height) // 2 + dy))
    out[i, :, :, 0] = np.asarray(canvas.resize((image_size, image_size), Image.LANCZOS), np.float32)
  return to_unit_range(np.clip(out, 0, 255)), labels
