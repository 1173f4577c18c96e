"""Input pipelines: `load(config)` picks a source by name; `make(...)` wraps it in a grain pipeline.

The pipeline is deterministic and checkpointable: one global index stream (a fresh permutation per
epoch from (seed, epoch), repeated forever, cut into batches at the *global* batch size) that every
JAX process computes identically and from which each process keeps its own contiguous slice of rows. So the data a step
sees does not depend on how many processes or devices there are, and the grain iterator's state (one
integer) restores the exact position. Rows are gathered from the source a batch at a time.

Held-out split (`data.holdout`; `_holdout`): the source's official test split by default (the
`t10k` files of an IDX folder holding both, the 10,000 of mnist / fashion_mnist), else 20%: the
last examples of sources whose order is not grouped (digits, mixtures, time series, text, IDX),
a seeded class-stratified random subset of folders (sorted by path, hence by class).

Several streams (`data.streams`, `load_streams`): each its own source, pipeline and checkpointed
position, shuffled on its own (`Pipeline(stream=i)`).

Names (`config.data.name`):
  digits               scikit-learn's bundled 8x8 digits (offline default)
  fonts[:<count>]      10,000 (or count) synthetic digits drawn with matplotlib's TrueType fonts (random font, size,
                       stroke, rotation, offset; data.image_size, 28 by default), with labels
  ring8 | grid25       2-D Gaussian mixtures (Metz et al. 2016; Srivastava et al. 2017)
  signals              synthetic 2-channel time series of 4 families (sine, square, sawtooth, burst)
  csv:<file>           windows of a multichannel series in a CSV file (optional `label` column)
  idx:<dir>            MNIST-format IDX files (.gz or raw)
  folder:<dir>         a folder of images; two or more class subfolders give labels (one subfolder: unlabelled)
  paired:<dir>         paired images: <dir>/a/NAME and <dir>/b/NAME, batches {"a": ..., "b": ...}
  text:<file>          windows of character tokens of a UTF-8 text file, batches {"tokens": int32}
  oracle[:<seed>]      SeqGAN's synthetic oracle LSTM's sequences (`ganjax.data.sequences`), {"tokens": int32}
  grammar              Kusner et al.'s arithmetic expressions (x + - * / ( )), end-padded tokens
  corpus:<path>        word-level sentences of a text file or folder (fortunes, the KJV Bible), end-padded tokens
  aligned:<dir>        pix2pix's layout: each image is A | B side by side; <dir>/train and <dir>/test (or
                       val) when present (facades, maps, edges2shoes, ...)
  unaligned:<dir>:a|b  one domain of CycleGAN's layout <dir>/trainA, trainB, testA, testB (horse2zebra,
                       ...): rows {"a": image} or {"b": image}, one stream per domain
  edges:<data name>    pix2pix's edges -> image pairs of any image data: {"a": Canny edges, "b": image};
                       mnist_edges = edges:mnist, fashion_edges = edges:fashion_mnist
  downsampled:<data>   super-resolution pairs {"a": bicubic 1/data.sr_factor (4) image, "b": the image}
  photos               data.image_size (32) patches of the photos shipped with scikit-image and
                       scikit-learn; the held-out split is the tiles of one photo (chelsea) never trained on
  cartoon              photo -> cartoon pairs of `photos` patches: {"a": photo, "b": a non-learned cartoon
                       filter's output (bilateral smoothing, colour quantisation, dark edges), "b_smooth":
                       that with its edges smoothed (CartoonGAN's edge-promoting negatives)}
  blend:<data name>    MNIST-M (Ganin et al. 2016) from any grey images: {"a": the digit (3 channels),
                       "b": it blended with a photo patch, "label"}; mnist_m = blend:mnist
  mnist | fashion_mnist  prepared TFDS data if present, else IDX files fetched once and verified
  tfds:<name>[:<split>]  prepared TFDS data through tfds.data_source (no TensorFlow at train time)
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

import grain
import jax
import numpy as np

from ganjax.data import fetch as fetch_lib
from ganjax.data import sources
from ganjax.data.sources import Source
from ganjax.errors import DataError

__all__ = ["Source", "Split", "load", "load_streams", "make", "Pipeline", "NAMES"]

NAMES = ("digits", "fonts[:<count>]", "ring8", "grid25", "signals", "csv:<file>", "idx:<dir>", "folder:<dir>", "paired:<dir>",
         "text:<file>", "oracle[:<seed>]", "grammar", "corpus:<path>", "aligned:<dir>",
         "unaligned:<dir>:a|b", "edges:<data name>", "mnist_edges", "fashion_edges", "blend:<data name>", "mnist_m",
         "downsampled:<data name>", "photos", "cartoon", "mnist", "fashion_mnist", "tfds:<name>[:<split>]")


@dataclasses.dataclass
class Split:
  """A dataset's training part and the held-out part used for evaluation."""

  train: Source
  test: Source


DEFAULT_HOLDOUT = 0.2  # the held-out fraction of a source without an official test split


def _holdout(src: Source, holdout, random: bool = False) -> Split:
  """Holds out `holdout` examples (a count, or a fraction of the source when < 1; 0: the source's
  official test split when it has one, else DEFAULT_HOLDOUT): the last ones, or with `random` a
  seeded random subset -- class-stratified when the source has labels -- for sources whose file
  order groups the examples (a folder sorted by class). The subset depends on the data only (seed
  0), never on `config.seed`, so every run on the data is scored on the same held-out examples."""
  holdout = holdout or src.official_test or DEFAULT_HOLDOUT
  n_test = int(round(holdout * src.size)) if holdout < 1 else int(holdout)
  if not 0 < n_test < src.size:
    raise DataError(f"data.holdout={holdout} leaves no train or no test examples out of {src.size}")
  n_train = src.size - n_test
  if not random:
    def part(offset, size, tag):
      return Source(f"{src.name}[{tag}]", size, lambda idx: src.get(np.asarray(idx) + offset),
                    src.element_spec, src.num_classes, vocabulary=src.vocabulary)

    return Split(part(0, n_train, "train"), part(n_train, n_test, "test"))
  test = held_out_indices(src, n_test)
  train = np.setdiff1d(np.arange(src.size), test)

  def subset(indices, tag):
    return Source(f"{src.name}[{tag}]", len(indices), lambda idx: src.get(indices[np.asarray(idx)]),
                  src.element_spec, src.num_classes, vocabulary=src.vocabulary)

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


def _tfds_or_fetch(name: str, cfg) -> Split:
  import tensorflow_datasets as tfds

  try:
    prepared = tfds.builder(name, data_dir=cfg.tfds_dir or None).is_prepared()
  except Exception:
    prepared = False
  if prepared:
    return Split(sources.tfds_source(name, "train", cfg.tfds_dir, cfg.image_size),
                 sources.tfds_source(name, "test", cfg.tfds_dir, cfg.image_size))
  directory = fetch_lib.fetch(name, cfg.cache_dir or None, list(cfg.mirrors or []) or None)
  # train files first, t10k last: hold out exactly the official 10,000 test images.
  return _holdout(sources.idx(directory, cfg.image_size, name), 10_000)


def _inner(config, name: str) -> Split:
  """The data a derived source (edges:, blend:) is made from."""
  c = config.copy_and_resolve_references()
  c.data.name = name
  return _load(c)


def load(config) -> Split:
  """Loads `config.data.name`, raising DataError with one clear line on any problem; with
  `data.swap_sides`, paired data's "a" and "b" trade places (pix2pix's --direction BtoA)."""
  split = _load(config)
  if config.data.get("swap_sides", False):
    if "a" not in split.train.element_spec or "b" not in split.train.element_spec:
      raise DataError(f"data.swap_sides needs paired data (rows with 'a' and 'b'); {config.data.name!r} has "
                      f"{', '.join(split.train.element_spec)}")
    split = Split(sources.swapped(split.train), sources.swapped(split.test))
  crop, flip = int(config.data.get("crop", 0)), bool(config.data.get("flip", False))
  if crop or flip:  # training rows cut at random (and mirrored), held-out rows at the centre
    split = Split(sources.augmented(split.train, crop, flip), sources.augmented(split.test, crop, flip, train=False))
  return split


def _load(config) -> Split:
  cfg = config.data
  name = cfg.name
  kind, _, arg = name.partition(":")
  if kind == "digits":
    return _holdout(sources.digits(cfg.image_size), cfg.holdout)
  if kind == "oracle":  # SeqGAN's synthetic oracle LSTM, drawn from <seed> (default config.seed)
    from ganjax.data import sequences

    if arg and not arg.isdigit():
      raise DataError(f"oracle[:<seed>] takes the oracle's integer seed, got {name!r}")
    return _holdout(sequences.oracle(int(arg or config.seed), cfg.vocab_size, cfg.seq_len, cfg.num_sequences), cfg.holdout)
  if kind == "grammar" and not arg:  # Kusner et al.'s arithmetic-expression language
    from ganjax.data import sequences

    return _holdout(sequences.grammar(config.seed, cfg.seq_len, cfg.num_sequences), cfg.holdout)
  if kind == "corpus" and arg:  # word-level sentences of a text file or folder
    from ganjax.data import sequences

    return _holdout(sequences.corpus(arg, cfg.vocab_size, cfg.seq_len, cfg.vocabulary), cfg.holdout)
  if kind in ("ring8", "grid25"):
    src = sources.mixture(kind, config.seed, std=cfg.mixture_std)
    return _holdout(src, cfg.holdout)
  if kind == "fonts":  # SimGAN's synthetic digits, rendered from matplotlib's fonts; fonts:<count>
    if arg and not arg.isdigit():
      raise DataError(f"fonts[:<count>] takes a number of digits to render, got {name!r}")
    return _holdout(sources.font_digits(int(arg or 10_000), cfg.image_size or 28), cfg.holdout)
  if kind == "signals":
    return _holdout(sources.signals(config.seed, length=cfg.window), cfg.holdout)
  if kind == "csv" and arg:
    return _holdout(sources.csv_windows(arg, cfg.window, cfg.window_stride), cfg.holdout)
  if kind == "idx":
    return _holdout(sources.idx(arg, cfg.image_size), cfg.holdout)
  if kind == "folder":
    return _holdout(sources.folder(arg, cfg.image_size), cfg.holdout, random=True)
  if kind == "paired" and arg:
    return _holdout(sources.paired_folders(arg, cfg.image_size), cfg.holdout, random=True)
  if kind == "text" and arg:
    return _holdout(sources.text_windows(arg, cfg.window, cfg.window_stride), cfg.holdout)
  if kind in ("edges", "mnist_edges", "fashion_edges"):  # pix2pix's edges -> image pairs of any image data
    inner = {"mnist_edges": "mnist", "fashion_edges": "fashion_mnist"}.get(kind, arg)
    if not inner:
      raise DataError("edges:<data name> needs the images to take edges of, e.g. edges:digits")
    split = _inner(config, inner)
    return Split(sources.edge_pairs(split.train, cfg.edge_sigma), sources.edge_pairs(split.test, cfg.edge_sigma))
  if kind in ("blend", "mnist_m"):  # MNIST-M's recipe on any grey image data
    inner = "mnist" if kind == "mnist_m" else arg
    if not inner:
      raise DataError("blend:<data name> needs the grey images to blend, e.g. blend:digits")
    split = _inner(config, inner)
    return Split(sources.blend_pairs(split.train), sources.blend_pairs(split.test))
  if kind == "downsampled":  # super-resolution pairs: 1 / data.sr_factor bicubic inputs
    if not arg:
      raise DataError("downsampled:<data name> needs the images to shrink, e.g. downsampled:fashion_mnist")
    split = _inner(config, arg)
    factor = cfg.get("sr_factor", 4)
    return Split(sources.downsampled(split.train, factor), sources.downsampled(split.test, factor))
  if kind == "photos" and not arg:  # patches of the photos in scikit-image / scikit-learn, one photo held out
    return Split(*sources.photo_patches(cfg.image_size or 32))
  if kind == "cartoon" and not arg:  # photo -> cartoon-filter pairs (CartoonGAN's offline domains)
    return Split(*sources.cartoon_patches(cfg.image_size or 32))
  if kind == "aligned" and arg:  # pix2pix's layout: A | B side by side; train/ and test/ (or val/) when present
    root = os.path.expanduser(arg)
    if os.path.isdir(os.path.join(root, "train")):
      test_dir = next((os.path.join(root, t) for t in ("test", "val") if os.path.isdir(os.path.join(root, t))), None)
      if test_dir is None:
        raise DataError(f"aligned: {root} has train/ but neither test/ nor val/")
      return Split(sources.aligned(os.path.join(root, "train"), cfg.image_size), sources.aligned(test_dir, cfg.image_size))
    return _holdout(sources.aligned(root, cfg.image_size), cfg.holdout, random=True)
  if kind == "unaligned" and arg:  # CycleGAN's layout: one side (a | b) of trainA/ trainB/ testA/ testB/
    root, _, side = arg.rpartition(":")
    if side not in ("a", "b") or not root:
      raise DataError(f"unaligned:<dir>:a|b names one side of CycleGAN's layout, got {name!r}")
    root = os.path.expanduser(root)
    train = sources.one_side(os.path.join(root, "train" + side.upper()), side, cfg.image_size)
    test_dir = os.path.join(root, "test" + side.upper())
    if not os.path.isdir(test_dir):
      return _holdout(train, cfg.holdout, random=True)
    test = sources.one_side(test_dir, side, cfg.image_size)
    if test.element_spec[side] != train.element_spec[side]:
      raise DataError(f"unaligned: {test_dir} holds images of shape {test.element_spec[side][0]}, train{side.upper()}/ "
                      f"{train.element_spec[side][0]}; set --config.data.image_size")
    return Split(train, test)
  if kind in ("mnist", "fashion_mnist") and not arg:
    return _tfds_or_fetch(kind, cfg)
  if kind == "tfds" and arg:
    tfds_name, _, split = arg.partition(":")
    train = sources.tfds_source(tfds_name, split or "train", cfg.tfds_dir, cfg.image_size)
    test = sources.tfds_source(tfds_name, cfg.eval_split or "test", cfg.tfds_dir, cfg.image_size)
    return Split(train, test)
  raise DataError(f"unknown data.name {name!r}; valid: {', '.join(NAMES)}")


def load_streams(config) -> dict:
  """{stream: Split} for the named streams of `config.data.streams` (each a data name; the other
  `data` fields are shared, but for `data.holdouts`: {stream: its own data.holdout}), or
  {None: load(config)} for the one stream `data.name`."""
  streams = dict(config.data.streams)
  if not streams:
    return {None: load(config)}
  holdouts = dict(config.data.get("holdouts", {}))
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


class Pipeline:
  """Iterates process-local batches of a source; `iterator` is the checkpointable grain iterator."""

  def __init__(self, source: Source, global_batch: int, seed: int, shuffle: bool = True,
               process_index: Optional[int] = None, process_count: Optional[int] = None, stream: int = 0):
    self.source = source
    self.process_index = jax.process_index() if process_index is None else process_index
    self.process_count = jax.process_count() if process_count is None else process_count
    if global_batch % self.process_count:
      raise DataError(f"batch_size={global_batch} is not divisible by the {self.process_count} processes")
    if global_batch > source.size:
      raise DataError(f"batch_size={global_batch} is larger than the dataset {source.name} "
                      f"({source.size} examples)")
    self.global_batch = global_batch
    self.local_batch = global_batch // self.process_count
    self.seed, self.shuffle, self.stream = seed, shuffle, stream  # stream i > 0: its own shuffles
    self._lo = self.process_index * self.local_batch
    self._perms = {}
    # An endless grain dataset over batch numbers: its iterator state (one integer) is the data position.
    # Rows are computed a whole batch at a time (a per-example grain shuffle + batch costs ~30 us per
    # example in Python, which limited small models).
    self.dataset = grain.MapDataset.range(2**62).map(self._batch)
    self.iterator = iter(self.dataset.to_iter_dataset())

  def _permutation(self, epoch: int) -> np.ndarray:
    if epoch not in self._perms:
      if len(self._perms) > 4:
        self._perms.pop(min(self._perms))
      rng = np.random.default_rng([self.seed, epoch] if self.stream == 0 else [self.seed, epoch, self.stream])
      self._perms[epoch] = rng.permutation(self.source.size) if self.shuffle else np.arange(self.source.size)
    return self._perms[epoch]

  def indices(self, batch_number: int) -> np.ndarray:
    """Rows of the global batch `batch_number`: positions in an endless stream of per-epoch shuffles."""
    n = self.source.size
    pos = np.arange(batch_number * self.global_batch, (batch_number + 1) * self.global_batch)
    epochs, offsets = np.divmod(pos, n)
    out = np.empty_like(pos)
    for e in np.unique(epochs):
      sel = epochs == e
      out[sel] = self._permutation(int(e))[offsets[sel]]
    return out

  def _batch(self, batch_number) -> dict:
    idx = self.indices(int(batch_number))
    mine = idx[self._lo:self._lo + self.local_batch]
    if self.source.get_augmented is None or not self.shuffle:
      return self.source.get(mine)
    # Random augmentation drawn for the whole global batch, so no row depends on the process count.
    rng = np.random.default_rng([self.seed, int(batch_number), self.stream, 17])
    keep = np.zeros(self.global_batch, bool)
    keep[self._lo:self._lo + self.local_batch] = True
    return self.source.get_augmented(mine, _Slice(rng, self.global_batch, keep))

  def __iter__(self):
    return self

  def __next__(self) -> dict:
    return next(self.iterator)


class _Slice:
  """A numpy Generator's draws for the global batch, of which this process keeps its own rows."""

  def __init__(self, rng, n: int, keep):
    self.rng, self.n, self.keep = rng, n, keep

  def integers(self, low, high, size):
    return self.rng.integers(low, high, self.n)[self.keep]

  def random(self, size):
    return self.rng.random(self.n)[self.keep]


def make(source: Source, global_batch: int, seed: int, **kw) -> Pipeline:
  return Pipeline(source, global_batch, seed, **kw)
