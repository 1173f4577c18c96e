"""The `Source` type every data module returns, a random-access collection of examples loaded
before training starts (so that every data problem stops the run with one line naming the file,
never a stack trace halfway through training), and the pixel conversions the sources share: images
are float32 in [-1, 1], NHWC; 2-D toy data are float32 vectors under the same key, `image`, so
every method reads `batch["image"]`.

Every source declares its `kind` (`KINDS`): what its rows hold. Shared code (evaluation, pictures)
asks the kind, never the row keys; a new kind of data is a new entry here and the evaluators and
pictures that read it."""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np


# kind -> (the key of a row's example, what it is). Images are float32 in [-1, 1], NHWC; "label" is
# optional everywhere. Pairs and unpaired domains have no one key: a domain's is `side_key`'s.
KINDS = {
    "images": ("image", "an image (H, W, C)"),
    "points": ("image", "a point (d,): the 2-D mixtures"),
    "series": ("image", "a window (T, C) of a multichannel series"),
    "tokens": ("tokens", "a sequence of token ids (T,)"),
    "pairs": (None, 'an image under "a" and its partner under "b" (aligned domains; either may be smaller)'),
    "domain": (None, 'an image of one unpaired domain under its side, "a" or "b" (CycleGAN\'s layout)'),
}


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
  separator: str = " "  # token sources: what joins decoded symbols ("" for characters and grammar symbols)
  # training rows with random augmentation, get_augmented(indices, rng) (`ganjax.data.augment`); the
  # pipeline uses it when present, everything else reads `get`
  get_augmented: Optional[Callable] = None
  kind: str = ""  # one of KINDS

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ValueError(f"source {self.name!r} declares kind {self.kind!r}; valid: {', '.join(KINDS)}")

  def __len__(self):
    return self.size

  @property
  def key(self):
    """The key of a row's example (`KINDS`); None for pairs and unpaired domains (`side_key`)."""
    return KINDS[self.kind][0]

  @property
  def paired(self) -> bool:
    """Whether a row holds both domains, an "a" image and its partner "b" (a ground truth)."""
    return self.kind == "pairs"

  @property
  def has_labels(self) -> bool:
    return "label" in self.element_spec


def from_arrays(name: str, arrays: dict, num_classes: int = 0, *, kind: str, **kw) -> Source:
  n = len(next(iter(arrays.values())))
  spec = {k: (v.shape[1:], v.dtype) for k, v in arrays.items()}
  return Source(name, n, lambda idx: {k: v[idx] for k, v in arrays.items()}, spec, num_classes, kind=kind, **kw)


def like(src: Source, name: str, size: int, get: Callable, element_spec: Optional[dict] = None) -> Source:
  """A source of `src`'s kind, classes and vocabulary with other rows (a held-out part, a subset)."""
  return Source(name, size, get, src.element_spec if element_spec is None else element_spec, src.num_classes,
                vocabulary=src.vocabulary, separator=src.separator, kind=src.kind)


def side_key(src: Source, side: str) -> str:
  """The key of domain `side` ("a" or "b") in `src`'s rows: the side itself for pairs and unpaired
  domains, "image" for single-domain images."""
  return side if src.kind in ("pairs", "domain") else "image"


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
