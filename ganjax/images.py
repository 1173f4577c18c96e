"""Sample grids and 2-D scatter plots as PNG, with Pillow only."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def to_uint8(images) -> np.ndarray:
  """Float images in [-1, 1] -> uint8."""
  return (np.clip((np.asarray(images, np.float32) + 1.0) * 127.5, 0, 255) + 0.5).astype(np.uint8)


def grid(images, ncol: int = 0, pad: int = 1) -> np.ndarray:
  """(N, H, W, C) images in [-1, 1] -> one (rows*H, ncol*W, C) uint8 tile image."""
  x = to_uint8(images)
  n, h, w, c = x.shape
  ncol = ncol or int(math.ceil(math.sqrt(n)))
  nrow = int(math.ceil(n / ncol))
  out = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), 255, np.uint8)
  for i in range(n):
    r, col = divmod(i, ncol)
    out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + col * (w + pad):pad + col * (w + pad) + w] = x[i]
  return out


def scatter(points, reference=None, size: int = 400, extent: float = 0.0) -> np.ndarray:
  """2-D points (generated, blue) over reference points (grey) -> (size, size, 3) uint8."""
  points = np.asarray(points, np.float32)
  allp = points if reference is None else np.concatenate([points, np.asarray(reference, np.float32)])
  extent = extent or float(np.abs(allp).max()) * 1.1 + 1e-6
  img = Image.new("RGB", (size, size), "white")
  draw = ImageDraw.Draw(img)

  def px(p):
    return (p + extent) / (2 * extent) * (size - 1)

  for pts, color in ((reference, (190, 190, 190)), (points, (31, 90, 200))):
    if pts is None:
      continue
    for x, y in px(np.asarray(pts)):
      if 0 <= x < size and 0 <= y < size:
        draw.point((float(x), float(size - 1 - y)), fill=color)
  return np.asarray(img)


def save_png(path, array: np.ndarray, upscale: int = 1):
  array = np.asarray(array)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  img = Image.fromarray(array)
  if upscale > 1:
    img = img.resize((img.width * upscale, img.height * upscale), Image.NEAREST)
  img.save(path)


def render(samples, reference=None) -> np.ndarray:
  """Whatever a generator produced -> an uint8 picture: a grid for images, a scatter for 2-D points."""
  samples = np.asarray(samples)
  if samples.ndim == 2 and samples.shape[1] == 2:
    return scatter(samples, reference)
  return grid(samples)
