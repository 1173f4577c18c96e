"""pix2pix's / CycleGAN's training augmentation of image sources: random crops and left-right
mirrors drawn per row (the same for every image of a row), centre crops for held-out rows."""

from __future__ import annotations

import dataclasses

import numpy as np

from ganjax.data.base import Source
from ganjax.errors import DataError


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
