"""The `Source` type every data module returns, a random-access collection of examples loaded
before training starts (so that every data problem stops the run with one line naming the file,
never a stack trace halfway through training), and the pixel conversions the sources share: images
are float32 in [-1, 1], NHWC; 2-D toy data are float32 vectors under the same key, `image`, so
every method reads `batch["image"]`."""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np


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
  # training rows with random augmentation, get_augmented(indices, rng) (`ganjax.data.augment`); the
  # pipeline uses it when present, everything else reads `get`
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
