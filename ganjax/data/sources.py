"""Data sources: each returns a `Source`, a random-access collection of examples.

A source is loaded before training starts, so that every data problem (an empty folder, an
unreadable image, mixed shapes, a missing dataset) stops the run with one line naming the file,
never a stack trace halfway through training. Images come out as float32 in [-1, 1], NHWC;
2-D toy data as float32 vectors under the same key, `image`, so every method reads `batch["image"]`.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import os
import pathlib
import struct
from typing import Callable, Optional

import numpy as np

from ganjax.errors import DataError


@dataclasses.dataclass
class Source:
  """Examples addressable by index. `get(indices)` returns a dict of stacked numpy arrays."""

  name: str
  size: int
  get: Callable[[np.ndarray], dict]
  element_spec: dict  # key -> (shape, dtype) of one example
  num_classes: int = 0  # 0 when the source has no labels
  official_test: int = 0  # > 0: the last this many examples are the source's own test split
  vocabulary: tuple = ()  # token sources: the symbol of each token id
  # training rows with random augmentation, get_augmented(indices, rng) (`augmented`); the pipeline
  # uses it when present, everything else reads `get`
  get_augmented: Optional[Callable] = None

  def __len__(self):
    return self.size

  @property
  def has_labels(self) -> bool:
    return "label" in self.element_spec


def from_arrays(name: str, arrays: dict, num_classes: int = 0, **kw) -> Source:
  n = len(next(iter(arrays.values())))
  spec = {k: (v.shape[1:], v.dtype) for k, v in arrays.items()}
  return Source(name, n, lambda idx: {k: v[idx] for k, v in arrays.items()}, spec, num_classes, **kw)


def to_unit_range(images_uint8: np.ndarray, max_value: float = 255.0) -> np.ndarray:
  """uint8-like pixels -> float32 in [-1, 1]."""
  return (images_uint8.astype(np.float32) / max_value) * 2.0 - 1.0


def resize(images: np.ndarray, size: int) -> np.ndarray:
  """Bilinear resize of float NHWC images to size x size (no-op when size is 0 or already right)."""
  if not size or images.shape[1:3] == (size, size):
    return images
  from PIL import Image

  out = np.empty((len(images), size, size, images.shape[-1]), np.float32)
  for i, img in enumerate(images):
    for c in range(images.shape[-1]):
      out[i, :, :, c] = np.asarray(
          Image.fromarray(img[:, :, c].astype(np.float32), mode="F").resize((size, size), Image.BILINEAR))
  return np.clip(out, -1.0, 1.0)


# ----------------------------------------------------------------------------------------------
# Bundled and synthetic sources


def digits(image_size: int = 0) -> Source:
  """scikit-learn's 1,797 real 8x8 handwritten digits (pixel values 0..16), with labels."""
  from sklearn.datasets import load_digits

  d = load_digits()
  images = to_unit_range(d.images[..., None], 16.0)
  return from_arrays("digits", {"image": resize(images, image_size), "label": d.target.astype(np.int32)}, 10)


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
  return from_arrays(name, {"image": x.astype(np.float32), "label": label}, len(centers))


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
  return from_arrays("signals", {"image": np.clip(x, -1, 1).astype(np.float32), "label": label}, len(SIGNAL_FAMILIES))


def csv_windows(path, window: int = 64, stride: int = 0) -> Source:
  """Fixed-length windows of a multichannel series in a CSV file: one row per time step, one
  numeric column per channel (a header row is optional). A column named `label` (integers) is not a
  channel: a window's label is that of its first row. Channels are scaled to [-1, 1] by their min
  and max over the file; windows start every `stride` rows (0: window // 2)."""
  path = pathlib.Path(path)
  try:
    with open(path) as f:
      lines = [line.strip() for line in f if line.strip()]
  except OSError as e:
    raise DataError(f"csv:{path}: cannot read ({e.strerror or e})") from None
  if not lines:
    raise DataError(f"csv:{path}: empty file")
  head = [c.strip() for c in lines[0].split(",")]
  try:
    [float(c) for c in head]
    names, rows = [f"c{i}" for i in range(len(head))], lines
  except ValueError:
    names, rows = head, lines[1:]
  try:
    table = np.array([[float(c) for c in r.split(",")] for r in rows], np.float64)
  except ValueError as e:
    raise DataError(f"csv:{path}: non-numeric value ({e})") from None
  if table.ndim != 2 or table.shape[1] != len(names):
    raise DataError(f"csv:{path}: rows have different numbers of columns")
  label_col = names.index("label") if "label" in names else None
  channels = np.delete(table, label_col, axis=1) if label_col is not None else table
  if channels.shape[1] == 0:
    raise DataError(f"csv:{path}: no channel columns")
  stride = stride or max(1, window // 2)
  if len(channels) < window:
    raise DataError(f"csv:{path}: {len(channels)} rows, fewer than one window of {window}")
  lo, hi = channels.min(0), channels.max(0)
  scaled = (2.0 * (channels - lo) / np.where(hi > lo, hi - lo, 1.0) - 1.0).astype(np.float32)
  starts = np.arange(0, len(scaled) - window + 1, stride)
  arrays = {"image": np.stack([scaled[s:s + window] for s in starts])}
  num_classes = 0
  if label_col is not None:
    labels = table[starts, label_col].astype(np.int32)
    arrays["label"] = labels
    num_classes = int(labels.max()) + 1
  return from_arrays(f"csv:{path.name}", arrays, num_classes)


# ----------------------------------------------------------------------------------------------
# Files a user has: IDX (MNIST format) and image folders


def _open_maybe_gz(path: pathlib.Path):
  with open(path, "rb") as f:
    head = f.read(2)
  return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path) -> np.ndarray:
  """Reads one IDX file (raw or gzipped) into a numpy array; a malformed file is a DataError."""
  path = pathlib.Path(path)
  dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
  try:
    with _open_maybe_gz(path) as f:
      data = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"{path}: cannot read ({e})") from None
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in dtypes:
    raise DataError(f"{path}: not an IDX file (bad magic number)")
  ndim = data[3]
  if len(data) < 4 + 4 * ndim:
    raise DataError(f"{path}: truncated IDX header")
  shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
  dtype = np.dtype(dtypes[data[2]])
  expected = int(np.prod(shape)) * dtype.itemsize
  body = data[4 + 4 * ndim:]
  if len(body) != expected:
    raise DataError(f"{path}: IDX payload has {len(body)} bytes, header says {expected}")
  return np.frombuffer(body, dtype).reshape(shape)


def _label_file(image_file: pathlib.Path) -> Optional[pathlib.Path]:
  stem = image_file.name.replace("images", "labels").replace("idx3", "idx1")
  for name in dict.fromkeys([stem, stem.removesuffix(".gz"), stem + ".gz"]):
    if (image_file.parent / name).is_file():
      return image_file.parent / name
  return None


def idx(directory, image_size: int = 0, name: str = "idx") -> Source:
  """MNIST-format files in `directory`: every `*idx3*` image file, with its `*idx1*` label file.

  Files are concatenated with `train*` files first and `t10k*` files last; with both present the
  source's `official_test` is the number of `t10k` images, so the default held-out split is
  exactly the official test set (an explicit `data.holdout` takes the last examples).
  """
  directory = pathlib.Path(os.path.expanduser(str(directory)))
  if not directory.is_dir():
    raise DataError(f"idx: {directory} is not a directory")
  files = sorted(directory.glob("*idx3*"), key=lambda p: (p.name.startswith("t10k"), p.name))
  files = [p for p in files if not (p.suffix == "" and p.with_name(p.name + ".gz") in files)]
  if not files:
    raise DataError(f"idx: no '*idx3*' image file in {directory}")
  images, labels = [], []
  for img in files:
    x = read_idx(img)
    if x.ndim != 3:
      raise DataError(f"{img}: expected a (N, H, W) image file, got shape {x.shape}")
    images.append(x)
    lab = _label_file(img)
    if lab is not None:
      y = read_idx(lab)
      if y.shape != (len(x),):
        raise DataError(f"{lab}: {len(y)} labels for {len(x)} images in {img.name}")
      labels.append(y)
  if len({x.shape[1:] for x in images}) > 1:
    raise DataError(f"idx: image files in {directory} have different shapes")
  arrays = {"image": resize(to_unit_range(np.concatenate(images)[..., None]), image_size)}
  if len(labels) == len(images):
    arrays["label"] = np.concatenate(labels).astype(np.int32)
  has_train = any(not p.name.startswith("t10k") for p in files)
  official = sum(len(x) for p, x in zip(files, images) if p.name.startswith("t10k")) if has_train else 0
  return from_arrays(name, arrays, int(arrays["label"].max()) + 1 if "label" in arrays else 0, official_test=official)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def folder(directory, image_size: int = 0) -> Source:
  """A folder of images; two or more class subfolders (`dir/<class>/*.png`) give labels in sorted
  order. Fewer than two classes is unlabelled data: images at the top level, or one subfolder
  (torchvision's ImageFolder layout of an unlabelled set, `faces/all/*.png`)."""
  directory = pathlib.Path(os.path.expanduser(str(directory)))
  if not directory.is_dir():
    raise DataError(f"folder: {directory} is not a directory")
  files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
  if not files:
    raise DataError(f"folder: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {directory}")
  classes = sorted({p.parent.relative_to(directory).as_posix() for p in files})
  if len(classes) > 1 and "." in classes:
    raise DataError(f"folder: {directory} mixes images at the top level with class subfolders")
  labelled = len(classes) > 1
  images = _read_images(files, image_size, "folder")
  arrays = {"image": to_unit_range(np.stack(images))}
  if labelled:
    index = {c: i for i, c in enumerate(classes)}
    arrays["label"] = np.array([index[p.parent.relative_to(directory).as_posix()] for p in files], np.int32)
  return from_arrays("folder", arrays, len(classes) if labelled else 0)


def _read_images(files, image_size: int, what: str) -> list:
  """The images of `files` as uint8 HWC arrays (grey or RGB), resized to image_size when > 0; any
  unreadable file or a shape unlike the first one's is a DataError naming the file."""
  from PIL import Image, UnidentifiedImageError

  images, shape0 = [], None
  for p in files:
    try:
      with Image.open(p) as im:
        im.load()
        arr = np.asarray(im.convert("L") if im.mode in ("1", "L", "P", "I;16", "I", "F", "LA") else im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as e:
      raise DataError(f"{what}: cannot read image {p} ({type(e).__name__})") from None
    arr = arr[..., None] if arr.ndim == 2 else arr
    if image_size:
      arr = np.asarray(Image.fromarray(arr.squeeze(-1) if arr.shape[-1] == 1 else arr).resize(
          (image_size, image_size), Image.BILINEAR))
      arr = arr[..., None] if arr.ndim == 2 else arr
    if shape0 is None:
      shape0 = arr.shape
    elif arr.shape != shape0:
      raise DataError(f"{what}: {p} has shape {arr.shape}, the first image has {shape0}; "
                      "set --config.data.image_size to resize all images")
    images.append(arr)
  return images


def edge_pairs(src: Source, sigma: float = 1.0) -> Source:
  """pix2pix's edges -> image pairs from any image source: {"a": the Canny edge map of each image
  (scikit-image's `feature.canny` on the grey image, `sigma`; edges +1 on -1), "b": the image,
  "label" where the source has labels}. Deterministic: no randomness at all."""
  from skimage.feature import canny

  batch = src.get(np.arange(src.size))
  images = batch["image"]
  if images.ndim != 4:
    raise DataError(f"edges: {src.name} holds no images (shape {images.shape[1:]})")
  grey = images.mean(-1) if images.shape[-1] > 1 else images[..., 0]
  edges = np.stack([canny(g, sigma=sigma) for g in (grey + 1.0) / 2.0])[..., None]
  arrays = {"a": np.where(edges, 1.0, -1.0).astype(np.float32), "b": images}
  if "label" in batch:
    arrays["label"] = batch["label"]
  return from_arrays(f"edges:{src.name}", arrays, src.num_classes, official_test=src.official_test)


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


def blend_pairs(src: Source, seed: int = 0) -> Source:
  """MNIST-M (Ganin et al. 2016, Sec. 5.1) from any grey image source: each digit blended with a
  colour patch cut at random from the photos (`photos()`; BSDS500 in the paper) as |patch - digit|
  on the binarised digit (pixels > 0 of [-1, 1], i.e. above mid-grey), so the stroke inverts the
  patch's colours. Pairs {"a": the digit replicated to 3 channels, "b": the blend, "label"}: an
  unpaired method trains on them as two streams and is still scored against the known partner.
  Deterministic: the patches depend on `seed` (0) only, never on the run's seed."""
  batch = src.get(np.arange(src.size))
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
  return from_arrays(f"blend:{src.name}", arrays, src.num_classes, official_test=src.official_test)


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
  from ganjax.data.fetch import default_cache_dir

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
  return from_arrays("fonts", {"image": out, "label": labels}, 10)


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
  batch = src.get(np.arange(src.size))
  images = batch["image"]
  if images.ndim != 4:
    raise DataError(f"downsampled: {src.name} holds no images (shape {images.shape[1:]})")
  h, w = images.shape[1:3]
  if h % factor or w % factor:
    raise DataError(f"downsampled: {src.name}'s {h} x {w} images are not divisible by data.sr_factor={factor}")
  arrays = {"a": bicubic(images, h // factor, w // factor), "b": images}
  if "label" in batch:
    arrays["label"] = batch["label"]
  return from_arrays(f"downsampled:{src.name}", arrays, src.num_classes, official_test=src.official_test)


HELD_OUT_PHOTO = "chelsea"


def _patches(layers: dict, size: int, train_patches: int, seed: int, name: str) -> tuple:
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
  return (from_arrays(f"{name}[train]", {k: to_unit_range(v) for k, v in crops.items()}),
          from_arrays(f"{name}[{HELD_OUT_PHOTO}]", {k: to_unit_range(v) for k, v in tiles.items()}))


def photo_patches(size: int = 32, train_patches: int = 4000, seed: int = 0) -> tuple:
  """(train, test) Sources of size x size colour patches {"image"} of the photos (`_patches`)."""
  return _patches({"image": photos()}, size, train_patches, seed, "photos")


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
  return _patches({"a": pool, "b": cartoons, "b_smooth": smoothed}, size, train_patches, seed, "cartoon")


def _filtered_photos() -> tuple:
  """The photos' cartoon_filter and edge_smoothed versions, computed once (~2 s) and cached in
  `<cache>/photos/cartoon-v2.npz`."""
  from ganjax.data.fetch import default_cache_dir

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


def aligned(directory, image_size: int = 0) -> Source:
  """pix2pix's own layout (facades, maps, edges2shoes): every image holds the A and B images side
  by side, A on the left; examples are {"a": left half, "b": right half}, each resized to
  image_size x image_size when > 0."""
  directory = pathlib.Path(os.path.expanduser(str(directory)))
  if not directory.is_dir():
    raise DataError(f"aligned: {directory} is not a directory")
  files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
  if not files:
    raise DataError(f"aligned: no images in {directory}")
  pairs = _read_images(files, 0, "aligned")
  if pairs[0].shape[1] % 2:
    raise DataError(f"aligned: {files[0]} is {pairs[0].shape[1]} pixels wide, not two halves side by side")
  half = pairs[0].shape[1] // 2
  out = {}
  for side, cut in (("a", slice(0, half)), ("b", slice(half, None))):
    x = to_unit_range(np.stack([p[:, cut] for p in pairs]))
    out[side] = resize(x, image_size)
  return from_arrays("aligned", out)


def one_side(directory, side: str, image_size: int = 0) -> Source:
  """One domain of CycleGAN's unpaired layout: the images of `directory` as {side: image}."""
  directory = pathlib.Path(os.path.expanduser(str(directory)))
  if not directory.is_dir():
    raise DataError(f"unaligned: {directory} is not a directory (the layout is trainA/, trainB/, testA/, testB/)")
  files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
  if not files:
    raise DataError(f"unaligned: no images in {directory}")
  return from_arrays(f"unaligned:{directory.name}", {side: to_unit_range(np.stack(_read_images(files, image_size, "unaligned")))})


def augmented(src: Source, crop: int = 0, flip: bool = False, train: bool = True) -> Source:
  """pix2pix's / CycleGAN's augmentation (Isola et al. 2017, App. 6.2: resize, then random crop and
  mirroring): `get` gives every row's centre `crop` x `crop` window and, for training sources,
  `get_augmented(indices, rng)` a random window and, with `flip`, a random left-right mirror per
  row, the same for every image of a row (a smaller partner, e.g. super-resolution's input, is cut
  at the matching place of its own size)."""
  keys = [k for k, (shape, _) in src.element_spec.items() if len(shape) == 3]
  if not keys:
    raise DataError(f"data.crop / data.flip: {src.name} holds no images")
  big = max(src.element_spec[k][0][0] for k in keys)
  scale = {}
  for k in keys:
    h, w, _ = src.element_spec[k][0]
    if big % h or crop * h % big:
      raise DataError(f"data.crop={crop}: {src.name}'s {k!r} images ({h} x {w}) cannot be cut where the {big}-pixel "
                      "images are")
    scale[k] = big // h
    if crop and (crop // scale[k] > h or crop // scale[k] > w):
      raise DataError(f"data.crop={crop} is larger than {src.name}'s {k!r} images ({h} x {w}); set "
                      f"--config.data.image_size to at least {crop} or a smaller crop")
  spec = dict(src.element_spec)
  for k in keys:
    if crop:
      shape, dtype = spec[k]
      spec[k] = ((crop // scale[k], crop // scale[k], shape[2]), dtype)

  def cut(rows, ys, xs, flips):
    out = dict(rows)
    for k in keys:
      x, r = rows[k], scale[k]
      if crop:
        c = crop // r
        x = np.stack([img[y // r:y // r + c, xx // r:xx // r + c] for img, y, xx in zip(x, ys, xs)])
      if flips is not None:
        x = np.where(flips[:, None, None, None], x[:, :, ::-1], x)
      out[k] = x
    return out

  h0, w0 = (src.element_spec[k][0][:2] for k in keys if scale[k] == 1).__next__()
  # windows start at multiples of the largest scale, so that every smaller partner is cut exactly
  step = max(scale.values())
  span_y, span_x = ((h0 - crop) // step, (w0 - crop) // step) if crop else (0, 0)

  def centre(idx):
    n = len(np.asarray(idx))
    return cut(src.get(idx), np.full(n, span_y // 2 * step), np.full(n, span_x // 2 * step), None)

  def random(idx, rng):
    n = len(np.asarray(idx))
    ys, xs = rng.integers(0, span_y + 1, n) * step, rng.integers(0, span_x + 1, n) * step
    flips = rng.random(n) < 0.5 if flip else None
    return cut(src.get(idx), ys, xs, flips)

  return dataclasses.replace(src, name=f"{src.name}[crop={crop},flip={flip}]", get=centre, element_spec=spec,
                             get_augmented=random if train else None)


def swapped(src: Source) -> Source:
  """Paired rows with "a" and "b" exchanged."""
  swap = {"a": "b", "b": "a"}
  return Source(f"{src.name}[swapped]", src.size, lambda idx: {swap.get(k, k): v for k, v in src.get(idx).items()},
                {swap.get(k, k): v for k, v in src.element_spec.items()}, src.num_classes, src.official_test)


def paired_folders(directory, image_size: int = 0) -> Source:
  """Paired images (pix2pix-style data): `dir/a/NAME` and `dir/b/NAME` belong together, matched by
  file name; examples are {"a": image, "b": image} (each side may have its own channel count)."""
  directory = pathlib.Path(os.path.expanduser(str(directory)))
  sides = {}
  for side in ("a", "b"):
    d = directory / side
    if not d.is_dir():
      raise DataError(f"paired: {d} is not a directory (paired data needs {directory}/a and {directory}/b)")
    sides[side] = {p.name: p for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
  names = sorted(set(sides["a"]) & set(sides["b"]))
  unmatched = sorted(set(sides["a"]) ^ set(sides["b"]))
  if unmatched:
    raise DataError(f"paired: {len(unmatched)} image(s) without a partner, e.g. {unmatched[0]} in {directory}")
  if not names:
    raise DataError(f"paired: no images in {directory}/a and {directory}/b")
  arrays = {side: to_unit_range(np.stack(_read_images([sides[side][n] for n in names], image_size, "paired")))
            for side in ("a", "b")}
  return from_arrays("paired", arrays)


def text_windows(path, window: int = 64, stride: int = 0) -> Source:
  """Windows of `window` character tokens of a UTF-8 text file, every `stride` characters
  (0: window // 2); token ids index the sorted set of the file's characters (`vocabulary`).
  Examples are {"tokens": int32 (window,)}."""
  path = pathlib.Path(os.path.expanduser(str(path)))
  try:
    text = path.read_text(encoding="utf-8")
  except (OSError, UnicodeDecodeError) as e:
    raise DataError(f"text:{path}: cannot read as UTF-8 ({type(e).__name__})") from None
  if len(text) < window:
    raise DataError(f"text:{path}: {len(text)} characters, fewer than one window of {window}")
  vocabulary = tuple(sorted(set(text)))
  index = {ch: i for i, ch in enumerate(vocabulary)}
  ids = np.fromiter((index[ch] for ch in text), np.int32, len(text))
  starts = np.arange(0, len(ids) - window + 1, stride or max(1, window // 2))
  return from_arrays(f"text:{path.name}", {"tokens": np.stack([ids[s:s + window] for s in starts])},
                     vocabulary=vocabulary)


# ----------------------------------------------------------------------------------------------
# TFDS, through tfds.data_source (ArrayRecord, random access, no TensorFlow at train time)


def tfds_source(name: str, split: str, data_dir: Optional[str], image_size: int = 0) -> Source:
  import tensorflow_datasets as tfds

  try:
    src = tfds.data_source(name, split=split, data_dir=data_dir or None, download=False)
  except tfds.core.registered.DatasetNotFoundError:
    raise DataError(f"tfds: unknown dataset {name!r}") from None
  except Exception as e:
    try:
      prepared = tfds.builder(name, data_dir=data_dir or None).is_prepared()
    except Exception:
      prepared = False
    if not prepared:
      raise DataError(
          f"tfds: dataset {name!r} is not prepared as ArrayRecord; prepare it once with "
          f"`launch/prepare_data.sh {name}` (needs TensorFlow and a network), or use data.name=digits "
          "or idx:<dir>") from None
    raise DataError(f"tfds: cannot open split {split!r} of {name!r}: {str(e).splitlines()[0]}") from None
  features = src.dataset_info.features
  image_key = next((k for k in ("image", "images") if k in features), None)
  if image_key is None:
    raise DataError(f"tfds: {name!r} has no 'image' feature (features: {', '.join(features)})")
  label_key = "label" if "label" in features else None
  num_classes = int(getattr(features[label_key], "num_classes", 0) or 0) if label_key else 0
  if len(src) == 0:
    raise DataError(f"tfds: split {split!r} of {name!r} is empty")

  def get(indices):
    keys = [int(i) for i in np.asarray(indices).reshape(-1)]
    try:
      records = src.__getitems__(keys)
    except TypeError:  # tfds.testing.mock_data's source has no working batched read
      records = [src[k] for k in keys]
    imgs = np.stack([np.asarray(r[image_key]) for r in records])
    imgs = imgs[..., None] if imgs.ndim == 3 else imgs
    out = {"image": resize(to_unit_range(imgs), image_size)}
    if label_key:
      out["label"] = np.array([r[label_key] for r in records], np.int32)
    shape = np.shape(indices)
    return {k: v.reshape(shape + v.shape[1:]) for k, v in out.items()}

  example = get(np.array([0]))
  spec = {k: (v.shape[1:], v.dtype) for k, v in example.items()}
  return Source(f"tfds:{name}:{split}", len(src), get, spec, num_classes)
