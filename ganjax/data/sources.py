"""The source constructors and helpers that tests and tools call as `sources.<name>`, under that
one name; each is defined in the module of its job: `base` (the Source type, pixel conversions),
`readers` (IDX, CSV, text, TFDS), `folders` (image files), `builtin` (bundled and synthetic data)
and `derived` (pairs made from other data)."""

from ganjax.data.base import from_arrays, resize, to_unit_range
from ganjax.data.builtin import digit_fonts, digits, font_digits, mixture, mixture_centers, signals
from ganjax.data.derived import bicubic
from ganjax.data.folders import IMAGE_SUFFIXES, folder
from ganjax.data.readers import csv_windows

__all__ = ["IMAGE_SUFFIXES", "bicubic", "csv_windows", "digit_fonts", "digits", "folder", "font_digits", "from_arrays",
           "mixture", "mixture_centers", "resize", "signals", "to_unit_range"]
