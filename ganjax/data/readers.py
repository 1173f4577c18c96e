"""Readers of the array and text files a user has: MNIST-format IDX files (raw or gzipped), windows
of a multichannel series in a CSV file, windows of character tokens of a text file, and prepared
TFDS datasets through `tfds.data_source` (random access, no TensorFlow at train time)."""

from __future__ import annotations

import gzip
import os
import pathlib
import struct
from typing import Optional

import numpy as np

from ganjax.data.base import Source, from_arrays, resize, to_unit_range
from ganjax.errors import DataError


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
  return from_arrays(name, arrays, int(arrays["label"].max()) + 1 if "label" in arrays else 0, official_test=official,
                     kind="images")


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
  return from_arrays(f"csv:{path.name}", arrays, num_classes, kind="series")


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
                     vocabulary=vocabulary, separator="", kind="tokens")


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
  return Source(f"tfds:{name}:{split}", len(src), get, spec, num_classes, kind="images")
