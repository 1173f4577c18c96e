"""Folders of image files: a folder of images (class subfolders give labels), paired images
(`dir/a/NAME`, `dir/b/NAME`), pix2pix's side-by-side layout and one domain of CycleGAN's layout,
all read through `read_images`, which converts every image of a folder to one channel count and
8 bits whatever its file's mode (greyscale, palette, 16-bit, alpha, CMYK, ...)."""

from __future__ import annotations

import os
import pathlib

import numpy as np

from ganjax.data.base import Source, from_arrays, resize, to_unit_range
from ganjax.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # PIL's modes of 16-bit greyscale files
GREY_MODES = ("1", "L", "LA", "La", "F") + SIXTEEN_BIT_MODES
ALPHA_MODES = ("LA", "RGBA", "PA")  # straight alpha; PIL's La / RGBa are premultiplied, already on black


def _over_black(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
  """uint8 colour values composited on black: round(c * a / 255) (255 is odd: never a tie)."""
  return np.floor(colour.astype(np.float64) * alpha.astype(np.float64) / 255.0 + 0.5).astype(np.uint8)


def _pixels(im) -> np.ndarray:
  """An opened PIL image's pixels as uint8: (H, W) for greyscale modes and for palettes of greys,
  else (H, W, 3) RGB. 16-bit values are scaled to 8 bits (round(v / 257): 65535 -> 255); alpha is
  composited on black; other colour models (CMYK, YCbCr, ...) are converted by PIL."""
  mode = im.mode
  if mode in SIXTEEN_BIT_MODES:
    return np.clip(np.floor(np.asarray(im, np.float64) / 257.0 + 0.5), 0, 255).astype(np.uint8)
  if mode in ("1", "L", "F"):
    return np.asarray(im.convert("L"))
  if mode in ("La", "RGBa"):
    return np.asarray(im)[..., 0] if mode == "La" else np.asarray(im)[..., :3]
  if mode in ("LA", "RGBA"):
    arr = np.asarray(im)
    out = _over_black(arr[..., :-1], arr[..., -1:])
    return out[..., 0] if mode == "LA" else out
  if mode in ("P", "PA"):
    if mode == "PA" or "transparency" in im.info:
      arr = np.asarray(im.convert("RGBA"))
      arr = _over_black(arr[..., :3], arr[..., 3:])
    else:
      arr = np.asarray(im.convert("RGB"))
    grey = (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()
    return arr[..., 0] if grey else arr
  return np.asarray(im.convert("RGB"))


def _luma(arr: np.ndarray) -> np.ndarray:
  """RGB uint8 pixels to greyscale by PIL's luma (ITU-R 601-2, torchvision's Grayscale)."""
  from PIL import Image

  return np.asarray(Image.fromarray(arr).convert("L"))


def read_images(files, image_size: int, what: str, channels: int = 0) -> list:
  """The images of `files` as uint8 HWC arrays of one channel count, resized to image_size when
  > 0: `channels` 1 (greyscale, by luma) or 3 (RGB), or 0 for RGB when any image is in colour and
  greyscale when all are (`_pixels` says how each file's mode is read). One line says how many
  images were converted from which modes. Any unreadable file, or a size unlike the first image's,
  is a DataError naming the file."""
  from PIL import Image, UnidentifiedImageError

  if channels not in (0, 1, 3):
    raise DataError(f"data.channels must be 0 (as the images are), 1 (greyscale) or 3 (RGB), got {channels}")
  images, modes, size0 = [], [], None
  for p in files:
    try:
      with Image.open(p) as im:
        im.load()
        arr, mode = _pixels(im), im.mode
    except (UnidentifiedImageError, OSError, ValueError) as e:  # ValueError: a mode PIL cannot convert
      raise DataError(f"{what}: cannot read image {p} ({type(e).__name__})") from None
    if channels == 1 and arr.ndim == 3:
      arr = _luma(arr)
    if image_size:
      arr = np.asarray(Image.fromarray(arr).resize((image_size, image_size), Image.BILINEAR))
    if size0 is None:
      size0 = arr.shape[:2]
    elif arr.shape[:2] != size0:
      raise DataError(f"{what}: {p} is {arr.shape[0]} x {arr.shape[1]} pixels, the first image "
                      f"{size0[0]} x {size0[1]}; set --config.data.image_size to resize all images")
    images.append(arr)
    modes.append(mode)
  colour = channels == 3 or (channels == 0 and any(a.ndim == 3 for a in images))
  # grey -> RGB repeats the value in every channel, so it commutes with the resize above
  images = [(np.repeat(a[..., None], 3, -1) if colour else a[..., None]) if a.ndim == 2 else a for a in images]
  _say_conversions(what, modes, "RGB" if colour else "L")
  return images


def _say_conversions(what: str, modes: list, target: str):
  """One printed line (process 0's) counting the images read from another mode than `target`."""
  counts = {}
  for mode in modes:
    if mode != target:
      counts[mode] = counts.get(mode, 0) + 1
  if not counts:
    return
  import jax

  if jax.process_index() != 0:
    return

  def note(mode):
    if mode in SIXTEEN_BIT_MODES:
      return " (16-bit, scaled to 8)"
    return " (alpha composited on black)" if mode in ALPHA_MODES else ""

  parts = ", ".join(f"{n} from {mode}{note(mode)}" for mode, n in sorted(counts.items()))
  print(f"ganjax: {what}: converted {sum(counts.values())} of {len(modes)} images to "
        f"{'RGB' if target == 'RGB' else 'greyscale'}: {parts}", flush=True)


def folder(directory, image_size: int = 0, channels: int = 0) -> Source:
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
  images = read_images(files, image_size, "folder", channels)
  arrays = {"image": to_unit_range(np.stack(images))}
  if labelled:
    index = {c: i for i, c in enumerate(classes)}
    arrays["label"] = np.array([index[p.parent.relative_to(directory).as_posix()] for p in files], np.int32)
  return from_arrays("folder", arrays, len(classes) if labelled else 0, kind="images")


def _image_files(directory, kind: str, layout: str = ""):
  """(the folder, its image files sorted by name); a folder that is missing or holds no image is one line."""
  directory = pathlib.Path(os.path.expanduser(str(directory)))
  if not directory.is_dir():
    raise DataError(f"{kind}: {directory} is not a directory{layout}")
  files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
  if not files:
    raise DataError(f"{kind}: no images in {directory}")
  return directory, files


def aligned(directory, image_size: int = 0, channels: int = 0) -> Source:
  """pix2pix's own layout (facades, maps, edges2shoes): every image holds the A and B images side
  by side, A on the left; examples are {"a": left half, "b": right half}, each resized to
  image_size x image_size when > 0."""
  directory, files = _image_files(directory, "aligned")
  pairs = read_images(files, 0, "aligned", channels)
  if pairs[0].shape[1] % 2:
    raise DataError(f"aligned: {files[0]} is {pairs[0].shape[1]} pixels wide, not two halves side by side")
  half = pairs[0].shape[1] // 2
  out = {}
  for side, cut in (("a", slice(0, half)), ("b", slice(half, None))):
    x = to_unit_range(np.stack([p[:, cut] for p in pairs]))
    out[side] = resize(x, image_size)
  return from_arrays("aligned", out, kind="pairs")


def one_side(directory, side: str, image_size: int = 0, channels: int = 0) -> Source:
  """One domain of CycleGAN's unpaired layout: the images of `directory` as {side: image}."""
  directory, files = _image_files(directory, "unaligned", " (the layout is trainA/, trainB/, testA/, testB/)")
  images = read_images(files, image_size, "unaligned", channels)
  return from_arrays(f"unaligned:{directory.name}", {side: to_unit_range(np.stack(images))}, kind="domain")


def paired_folders(directory, image_size: int = 0, channels: int = 0) -> Source:
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
  arrays = {side: to_unit_range(np.stack(read_images([sides[side][n] for n in names], image_size, f"paired ({side})",
                                                     channels)))
            for side in ("a", "b")}
  return from_arrays("paired", arrays, kind="pairs")
