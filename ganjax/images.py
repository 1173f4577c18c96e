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


def line_plot(xs, series: dict, width: int = 640, panel_height: int = 200) -> np.ndarray:
  """One panel per named series over the shared x values (each on its own y range, labelled with
  its name, min and max): (n_panels * panel_height, width, 3) uint8."""
  colors = [(31, 90, 200), (200, 60, 40), (40, 150, 60), (120, 60, 160)]
  xs = np.asarray(xs, np.float64)
  img = Image.new("RGB", (width, panel_height * len(series)), "white")
  draw = ImageDraw.Draw(img)
  left, right, top, bottom = 60, 15, 22, 25
  x0, x1 = float(xs.min()), float(xs.max()) if xs.max() > xs.min() else float(xs.min()) + 1.0
  for i, (name, ys) in enumerate(series.items()):
    ys = np.asarray(ys, np.float64)
    y0, y1 = float(ys.min()), float(ys.max()) if ys.max() > ys.min() else float(ys.min()) + 1.0
    oy = i * panel_height
    box = (left, oy + top, width - right, oy + panel_height - bottom)
    draw.rectangle(box, outline=(0, 0, 0))
    px = left + (xs - x0) / (x1 - x0) * (box[2] - box[0])
    py = box[3] - (ys - y0) / (y1 - y0) * (box[3] - box[1])
    draw.line(list(zip(px.tolist(), py.tolist())), fill=colors[i % len(colors)], width=2)
    for x, y in zip(px, py):
      draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=colors[i % len(colors)])
    draw.text((left, oy + 5), f"{name} (min {y0:.4g}, max {y1:.4g})", fill=(0, 0, 0))
    draw.text((5, box[1]), f"{y1:.3g}", fill=(0, 0, 0))
    draw.text((5, box[3] - 10), f"{y0:.3g}", fill=(0, 0, 0))
    draw.text((left, box[3] + 5), f"step {x0:.0f}", fill=(0, 0, 0))
    draw.text((box[2] - 70, box[3] + 5), f"step {x1:.0f}", fill=(0, 0, 0))
  return np.asarray(img)


def save_png(path, array: np.ndarray, upscale: int = 1):
  array = np.asarray(array)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  img = Image.fromarray(array)
  if upscale > 1:
    img = img.resize((img.width * upscale, img.height * upscale), Image.NEAREST)
  img.save(path)


def series_grid(windows, ncol: int = 0, cell=(120, 60)) -> np.ndarray:
  """(N, T, C) series in [-1, 1] -> a grid of small line plots, one colour per channel."""
  colors = [(31, 90, 200), (200, 60, 40), (40, 150, 60), (120, 60, 160)]
  x = np.clip(np.asarray(windows, np.float32), -1, 1)
  n, length, channels = x.shape
  ncol = ncol or int(math.ceil(math.sqrt(n)))
  nrow = int(math.ceil(n / ncol))
  w, h = cell
  img = Image.new("RGB", (ncol * w, nrow * h), "white")
  draw = ImageDraw.Draw(img)
  xs = np.linspace(2, w - 3, length)
  for i in range(n):
    r, col = divmod(i, ncol)
    ox, oy = col * w, r * h
    draw.rectangle((ox, oy, ox + w - 1, oy + h - 1), outline=(220, 220, 220))
    for c in range(channels):
      ys = oy + (1.0 - (x[i, :, c] + 1.0) / 2.0) * (h - 5) + 2
      draw.line(list(zip((ox + xs).tolist(), ys.tolist())), fill=colors[c % len(colors)], width=1)
  return np.asarray(img)


# How a generator's samples of each kind of data (`ganjax.data.KINDS`; for pairs and unpaired domains,
# one side's images) are drawn: (draw(samples, reference, ncol), whether the picture is a grid of
# tiles in rows and columns, as interpolations and a translation's input | output rows need).
# `reference()` gives training rows to draw beneath (the scatter's grey points). Kinds without a
# drawing (tokens) are written as text.
DRAW = {
    "images": (lambda samples, reference, ncol: grid(samples, ncol), True),
    "series": (lambda samples, reference, ncol: series_grid(samples, ncol), True),
    "points": (lambda samples, reference, ncol: scatter(samples, reference()), False),
    "pairs": (lambda samples, reference, ncol: grid(samples, ncol), True),  # one side's images
    "domain": (lambda samples, reference, ncol: grid(samples, ncol), True),
}


def draw(kind: str, samples, reference=lambda: None, ncol: int = 0) -> np.ndarray:
  """Samples of data kind `kind` as an uint8 picture (`DRAW`)."""
  return DRAW[kind][0](np.asarray(samples), reference, ncol)


def in_rows(kind: str) -> bool:
  """Whether samples of `kind` are drawn as tiles in rows (images, series), not as one plot."""
  return kind in DRAW and DRAW[kind][1]
