"""Data by name: `load(config)` builds the `Split` (training and held-out sources) that
`config.data.name` = `<kind>[:<argument>]` names, through `SOURCES`, the one table from each kind to
its factory (whose docstring says what it loads); `load_streams` does so for each stream of
`data.streams`; held-out splits are `_holdout`'s; `make` (`ganjax.data.pipeline`) batches a source.
The sources themselves are in `base` (the `Source` type), `readers` (IDX, CSV, text, TFDS),
`folders` (image files), `builtin` (bundled and synthetic data), `derived` (pairs made from other
data), `sequences` (token sequences), `augment` (crops and flips) and `fetch` (downloads)."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from ganjax.data import augment, builtin, derived, folders, readers, sequences
from ganjax.data import fetch as fetch_lib
from ganjax.data.base import KINDS, Source, like, side_key
from ganjax.data.pipeline import Pipeline, make
from ganjax.errors import DataError

__all__ = ["KINDS", "Source", "Split", "side_key", "SOURCES", "load", "load_streams", "make", "Pipeline", "require_labels"]


@dataclasses.dataclass
class Split:
  """A dataset's training part and the held-out part used for evaluation."""

  train: Source
  test: Source


DEFAULT_HOLDOUT = 0.2  # the held-out fraction of a source without an official test split


def _holdout(src: Source, holdout, random: bool = False) -> Split:
  """Holds out `holdout` examples (`data.holdout`: a count, or a fraction of the source when < 1;
  0: the source's official test split when it has one -- the `t10k` files of an IDX folder holding
  both, the 10,000 of mnist / fashion_mnist -- else DEFAULT_HOLDOUT): the last ones, for sources
  whose order is not grouped (digits, mixtures, time series, text, IDX), or with `random` a seeded
  random subset -- class-stratified when the source has labels -- for sources whose file order
  groups the examples (a folder sorted by path, hence by class). The subset depends on the data
  only (seed 0), never on `config.seed`, so every run on the data is scored on the same held-out
  examples."""
  holdout = holdout or src.official_test or DEFAULT_HOLDOUT
  n_test = int(round(holdout * src.size)) if holdout < 1 else int(holdout)
  if not 0 < n_test < src.size:
    raise DataError(f"data.holdout={holdout} leaves no train or no test examples out of {src.size}")
  n_train = src.size - n_test
  if not random:
    def part(offset, size, tag):
      return like(src, f"{src.name}[{tag}]", size, lambda idx: src.get(np.asarray(idx) + offset))

    return Split(part(0, n_train, "train"), part(n_train, n_test, "test"))
  test = held_out_indices(src, n_test)
  train = np.setdiff1d(np.arange(src.size), test)

  def subset(indices, tag):
    return like(src, f"{src.name}[{tag}]", len(indices), lambda idx: src.get(indices[np.asarray(idx)]))

  return Split(subset(train, "train"), subset(test, "test"))


def held_out_indices(src: Source, n_test: int, seed: int = 0) -> np.ndarray:
  """`n_test` sorted indices drawn at random from `seed`; with labels, each class contributes in
  proportion to its size (largest remainders, so the counts add up to n_test)."""
  rng = np.random.default_rng([seed, 1234])
  if not src.has_labels:
    return np.sort(rng.choice(src.size, n_test, replace=False))
  labels = np.asarray(src.get(np.arange(src.size))["label"])
  classes, counts = np.unique(labels, return_counts=True)
  quota = n_test * counts / src.size
  take = np.floor(quota).astype(int)
  take[np.argsort(-(quota - take), kind="stable")[:n_test - take.sum()]] += 1
  picks = [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c, k in zip(classes, take)]
  return np.sort(np.concatenate(picks))


# ----------------------------------------------------------------------------------------------
# One factory per kind of data name: factory(config, argument) -> Split, `argument` being what
# follows "<kind>:" in data.name. `_argument` declares the argument's form, which `_load` enforces
# and the list of valid names shows.


def _argument(form: str, example: str = ""):
  """Declares what follows a kind in data.name: ":<x>" a required argument (`example`: a name with
  one), "[:<x>]" an optional one; a factory without the declaration takes none."""
  def declare(factory):
    factory.form, factory.example = form, example
    return factory

  return declare


def _from_config(factory_or_inner=None):
  """Declares a factory whose data depend on the config alone (`config.data`, `config.seed`): bundled
  and synthetic data, or with "inner" data derived from the data its argument names when those do.
  `_load` builds such data once per process (`_BUILT`): a notebook or a test session that builds
  several runs on the same data reuses it. Data read from files is read again each time."""
  def declare(factory, inner=False):
    factory.from_config = "inner" if inner else "always"
    return factory

  if callable(factory_or_inner):
    return declare(factory_or_inner)
  return lambda factory: declare(factory, inner=factory_or_inner == "inner")


def _channels(cfg) -> int:
  return int(cfg.channels)


def _inner(config, name: str) -> Split:
  """The data a derived source (edges:, blend:, downsampled:) is made from."""
  c = config.copy_and_resolve_references()
  c.data.name = name
  return _load(c)


@_from_config
def _digits(config, arg):
  """scikit-learn's bundled 8x8 digits (the offline default), with labels."""
  return _holdout(builtin.digits(config.data.image_size), config.data.holdout)


@_from_config
@_argument("[:<count>]")
def _fonts(config, arg):
  """10,000 (or count) synthetic digits drawn with matplotlib's TrueType fonts (SimGAN's synthetic
  domain: random font, size, stroke, rotation, offset; data.image_size, 28 by default), with labels."""
  if arg and not arg.isdigit():
    raise DataError(f"fonts[:<count>] takes a number of digits to render, got {config.data.name!r}")
  return _holdout(builtin.font_digits(int(arg or 10_000), config.data.image_size or 28), config.data.holdout)


@_from_config
def _mixture(config, arg):
  """2-D Gaussian mixtures: ring8 (Metz et al. 2016), grid25 (Srivastava et al. 2017)."""
  kind = config.data.name.partition(":")[0]
  return _holdout(builtin.mixture(kind, config.seed, std=config.data.mixture_std), config.data.holdout)


@_from_config
def _signals(config, arg):
  """Synthetic 2-channel time series of 4 families (sine, square, sawtooth, burst)."""
  return _holdout(builtin.signals(config.seed, length=config.data.window), config.data.holdout)


@_argument(":<file>", "csv:~/series.csv")
def _csv(config, arg):
  """Windows of a multichannel series in a CSV file (optional `label` column)."""
  return _holdout(readers.csv_windows(arg, config.data.window, config.data.window_stride), config.data.holdout)


@_argument(":<dir>", "idx:~/mnist")
def _idx(config, arg):
  """MNIST-format IDX files (.gz or raw)."""
  return _holdout(readers.idx(arg, config.data.image_size), config.data.holdout)


@_argument(":<dir>", "folder:~/faces")
def _folder(config, arg):
  """A folder of images; two or more class subfolders give labels (one subfolder: unlabelled)."""
  src = folders.folder(arg, config.data.image_size, _channels(config.data))
  return _holdout(src, config.data.holdout, random=True)


@_argument(":<dir>", "paired:~/facades")
def _paired(config, arg):
  """Paired images: <dir>/a/NAME and <dir>/b/NAME, batches {"a": ..., "b": ...}."""
  src = folders.paired_folders(arg, config.data.image_size, _channels(config.data))
  return _holdout(src, config.data.holdout, random=True)


@_argument(":<file>", "text:~/book.txt")
def _text(config, arg):
  """Windows of character tokens of a UTF-8 text file, batches {"tokens": int32}."""
  return _holdout(readers.text_windows(arg, config.data.window, config.data.window_stride), config.data.holdout)


@_from_config
@_argument("[:<seed>]")
def _oracle(config, arg):
  """SeqGAN's synthetic oracle LSTM's sequences (`ganjax.data.sequences`), drawn from <seed>
  (default config.seed), {"tokens": int32}."""
  if arg and not arg.isdigit():
    raise DataError(f"oracle[:<seed>] takes the oracle's integer seed, got {config.data.name!r}")
  cfg = config.data
  return _holdout(sequences.oracle(int(arg or config.seed), cfg.vocab_size, cfg.seq_len, cfg.num_sequences),
                  cfg.holdout)


@_from_config
def _grammar(config, arg):
  """Kusner et al.'s arithmetic expressions (x + - * / ( )), end-padded tokens."""
  cfg = config.data
  return _holdout(sequences.grammar(config.seed, cfg.seq_len, cfg.num_sequences), cfg.holdout)


@_argument(":<path>", "corpus:/usr/share/games/fortunes")
def _corpus(config, arg):
  """Word-level sentences of a text file or folder (fortunes, the KJV Bible), end-padded tokens."""
  cfg = config.data
  return _holdout(sequences.corpus(arg, cfg.vocab_size, cfg.seq_len, cfg.vocabulary), cfg.holdout)


@_argument(":<dir>", "aligned:~/facades")
def _aligned(config, arg):
  """pix2pix's layout: each image is A | B side by side; <dir>/train and <dir>/test (or val) when
  present (facades, maps, edges2shoes, ...), else a held-out part of <dir>."""
  cfg = config.data
  root = os.path.expanduser(arg)
  if not os.path.isdir(os.path.join(root, "train")):
    return _holdout(folders.aligned(root, cfg.image_size, _channels(cfg)), cfg.holdout, random=True)
  test_dir = next((os.path.join(root, t) for t in ("test", "val") if os.path.isdir(os.path.join(root, t))), None)
  if test_dir is None:
    raise DataError(f"aligned: {root} has train/ but neither test/ nor val/")
  train = folders.aligned(os.path.join(root, "train"), cfg.image_size, _channels(cfg))
  # auto channels: the held-out images get the training images' channel count
  return Split(train, folders.aligned(test_dir, cfg.image_size, _channels(cfg) or train.element_spec["a"][0][-1]))


@_argument(":<dir>:a|b", "unaligned:~/horse2zebra:a")
def _unaligned(config, arg):
  """One domain of CycleGAN's layout <dir>/trainA, trainB, testA, testB (horse2zebra, ...): rows
  {"a": image} or {"b": image}, one stream per domain."""
  cfg = config.data
  root, _, side = arg.rpartition(":")
  if side not in ("a", "b") or not root:
    raise DataError(f"unaligned:<dir>:a|b names one side of CycleGAN's layout, got {cfg.name!r}")
  root = os.path.expanduser(root)
  train = folders.one_side(os.path.join(root, "train" + side.upper()), side, cfg.image_size, _channels(cfg))
  test_dir = os.path.join(root, "test" + side.upper())
  if not os.path.isdir(test_dir):
    return _holdout(train, cfg.holdout, random=True)
  test = folders.one_side(test_dir, side, cfg.image_size, _channels(cfg) or train.element_spec[side][0][-1])
  if test.element_spec[side] != train.element_spec[side]:
    raise DataError(f"unaligned: {test_dir} holds images of shape {test.element_spec[side][0]}, train{side.upper()}/ "
                    f"{train.element_spec[side][0]}; set --config.data.image_size")
  return Split(train, test)


def _edges_of(config, inner: str) -> Split:
  split = _inner(config, inner)
  sigma = config.data.edge_sigma
  return Split(derived.edge_pairs(split.train, sigma), derived.edge_pairs(split.test, sigma))


@_from_config("inner")
@_argument(":<data name>", "edges:digits")
def _edges(config, arg):
  """pix2pix's edges -> image pairs of any image data: {"a": Canny edges, "b": image}."""
  return _edges_of(config, arg)


def _mnist_edges(config, arg):
  """edges:mnist."""
  return _edges_of(config, "mnist")


def _fashion_edges(config, arg):
  """edges:fashion_mnist."""
  return _edges_of(config, "fashion_mnist")


def _blend_of(config, inner: str) -> Split:
  split = _inner(config, inner)
  return Split(derived.blend_pairs(split.train), derived.blend_pairs(split.test))


@_from_config("inner")
@_argument(":<data name>", "blend:digits")
def _blend(config, arg):
  """MNIST-M (Ganin et al. 2016) from any grey images: {"a": the digit (3 channels), "b": it blended
  with a photo patch, "label"}."""
  return _blend_of(config, arg)


def _mnist_m(config, arg):
  """blend:mnist."""
  return _blend_of(config, "mnist")


@_from_config("inner")
@_argument(":<data name>", "downsampled:fashion_mnist")
def _downsampled(config, arg):
  """Super-resolution pairs {"a": bicubic 1/data.sr_factor (4) image, "b": the image}."""
  split = _inner(config, arg)
  factor = config.data.sr_factor
  return Split(derived.downsampled(split.train, factor), derived.downsampled(split.test, factor))


@_from_config
def _photos(config, arg):
  """data.image_size (32) patches of the photos shipped with scikit-image and scikit-learn; the
  held-out split is the tiles of one photo (chelsea) never trained on."""
  return Split(*derived.photo_patches(config.data.image_size or 32))


@_from_config
def _cartoon(config, arg):
  """Photo -> cartoon pairs of `photos` patches: {"a": photo, "b": a non-learned cartoon filter's
  output (bilateral smoothing, colour quantisation, dark edges), "b_smooth": that with its edges
  smoothed (CartoonGAN's edge-promoting negatives)}."""
  return Split(*derived.cartoon_patches(config.data.image_size or 32))


def _tfds_or_fetch(config, arg):
  """mnist | fashion_mnist: prepared TFDS data if present, else IDX files fetched once and verified."""
  import tensorflow_datasets as tfds

  name, cfg = config.data.name, config.data
  try:
    prepared = tfds.builder(name, data_dir=cfg.tfds_dir or None).is_prepared()
  except Exception:
    prepared = False
  if prepared:
    return Split(readers.tfds_source(name, "train", cfg.tfds_dir, cfg.image_size),
                 readers.tfds_source(name, "test", cfg.tfds_dir, cfg.image_size))
  directory = fetch_lib.fetch(name, cfg.cache_dir or None, list(cfg.mirrors or []) or None)
  # train files first, t10k last: hold out exactly the official 10,000 test images.
  return _holdout(readers.idx(directory, cfg.image_size, name), 10_000)


@_argument(":<name>[:<split>]", "tfds:mnist")
def _tfds(config, arg):
  """Prepared TFDS data through tfds.data_source (no TensorFlow at train time); held out:
  data.eval_split."""
  cfg = config.data
  name, _, split = arg.partition(":")
  return Split(readers.tfds_source(name, split or "train", cfg.tfds_dir, cfg.image_size),
               readers.tfds_source(name, cfg.eval_split or "test", cfg.tfds_dir, cfg.image_size))


# <kind> of data.name -> its factory; a new kind of data is one entry here
SOURCES = {
    "digits": _digits,
    "fonts": _fonts,
    "ring8": _mixture,
    "grid25": _mixture,
    "signals": _signals,
    "csv": _csv,
    "idx": _idx,
    "folder": _folder,
    "paired": _paired,
    "text": _text,
    "oracle": _oracle,
    "grammar": _grammar,
    "corpus": _corpus,
    "aligned": _aligned,
    "unaligned": _unaligned,
    "edges": _edges,
    "mnist_edges": _mnist_edges,
    "fashion_edges": _fashion_edges,
    "blend": _blend,
    "mnist_m": _mnist_m,
    "downsampled": _downsampled,
    "photos": _photos,
    "cartoon": _cartoon,
    "mnist": _tfds_or_fetch,
    "fashion_mnist": _tfds_or_fetch,
    "tfds": _tfds,
}


def usage() -> list:
  """Every kind of data name with the form of its argument, in SOURCES' order."""
  return [kind + getattr(factory, "form", "") for kind, factory in SOURCES.items()]


def load(config) -> Split:
  """Loads `config.data.name`, raising DataError with one clear line on any problem; with
  `data.swap_sides`, paired data's "a" and "b" trade places (pix2pix's --direction BtoA); with
  `data.crop` / `data.flip`, training rows are cut at random (and mirrored), held-out rows at the
  centre (`ganjax.data.augment`)."""
  split = _load(config)
  if config.data.swap_sides:
    if split.train.kind != "pairs":
      raise DataError(f"data.swap_sides needs paired data (rows with 'a' and 'b'); {config.data.name!r} holds "
                      f"{split.train.kind} ({', '.join(split.train.element_spec)})")
    split = Split(derived.swapped(split.train), derived.swapped(split.test))
  crop, flip = int(config.data.crop), bool(config.data.flip)
  if crop or flip:
    split = Split(augment.augmented(split.train, crop, flip), augment.augmented(split.test, crop, flip, train=False))
  return split


def _load(config) -> Split:
  name = config.data.name
  kind, colon, arg = name.partition(":")
  factory = SOURCES.get(kind)
  if factory is None:
    raise DataError(f"unknown data.name {name!r}; valid: {', '.join(usage())}")
  form = getattr(factory, "form", "")
  if colon and not form:
    raise DataError(f"data.name {name!r}: {kind} takes no argument")
  if not arg and form.startswith(":"):
    raise DataError(f"data.name {name!r} lacks its argument: {kind}{form}, e.g. {factory.example}")
  if not _depends_on_config_alone(name):
    return factory(config, arg)
  key = (json.dumps(config.data.to_dict(), sort_keys=True, default=str), int(config.seed))
  if key not in _BUILT:
    _BUILT[key] = factory(config, arg)
    while len(_BUILT) > _BUILT_MAX:
      _BUILT.pop(next(iter(_BUILT)))
  return _BUILT[key]


_BUILT, _BUILT_MAX = {}, 16  # (config.data, config.seed) -> Split of data that depend on the config alone


def _depends_on_config_alone(name: str) -> bool:
  kind, _, arg = name.partition(":")
  how = getattr(SOURCES.get(kind), "from_config", None)
  return how == "always" or (how == "inner" and _depends_on_config_alone(arg))


def load_streams(config) -> dict:
  """{stream: Split} for the named streams of `config.data.streams` (each a data name; the other
  `data` fields are shared, but for `data.holdouts`: {stream: its own data.holdout}), or
  {None: load(config)} for the one stream `data.name`. Each stream gets its own pipeline and
  checkpointed position, shuffled on its own (`Pipeline(stream=i)`)."""
  streams = dict(config.data.streams)
  if not streams:
    return {None: load(config)}
  holdouts = dict(config.data.holdouts)
  unknown = sorted(set(holdouts) - set(streams))
  if unknown:
    raise DataError(f"data.holdouts names {', '.join(unknown)}, which data.streams lacks ({', '.join(streams)})")
  out = {}
  for name, data_name in streams.items():
    c = config.copy_and_resolve_references()
    with c.unlocked():
      c.data.name = data_name
      c.data.streams = {}
      c.data.holdout = holdouts.get(name) or c.data.holdout
    out[name] = load(c)
  return out


def require_labels(src: Source, why: str):
  if not src.has_labels:
    raise DataError(f"{src.name} has no labels, but {why} needs them (field 'label')")
