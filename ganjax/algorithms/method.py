"""`Method`: the one record a method module exports (`METHOD = Method(init=..., train_step=...)`),
and its parts, grouped by capability. The loop, evaluation, pictures, the benchmark and the AIS tool
read a method only through these fields; a part a method lacks is None. Every record is checked
when it is built: an unknown or misspelled part is a one-line `ConfigError` naming the valid ones,
so a typo can never switch a feature off silently.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from typing import Callable, Optional

from ganjax import stabilizers
from ganjax.errors import ConfigError

CLASS_MATCHINGS = ("identity", "hungarian")  # `ganjax.metrics.class_accuracy`


class _Derived:
  def __repr__(self):
    return "<derived>"


_DERIVED = _Derived()  # config_block's default, replaced when the record is built
_PACKAGE = "ganjax.algorithms."


def _record(cls):
  """A frozen dataclass whose constructor refuses an unknown or missing part with one line."""
  cls = dataclasses.dataclass(frozen=True)(cls)
  generated = cls.__init__
  names = [f.name for f in dataclasses.fields(cls)]
  required = [f.name for f in dataclasses.fields(cls)
              if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]

  @functools.wraps(generated)
  def __init__(self, *args, **kwargs):
    for name in kwargs:
      if name not in names:
        raise ConfigError(f"{cls.__name__} has no part {name!r}{_hint(cls, name, names)}; valid: {', '.join(names)}")
    if len(args) > len(names):
      raise ConfigError(f"{cls.__name__} takes at most {len(names)} parts: {', '.join(names)}")
    given = set(names[:len(args)]) | set(kwargs)
    missing = [n for n in required if n not in given]
    if missing:
      raise ConfigError(f"{cls.__name__} needs {' and '.join(missing)}: "
                        f"{cls.__name__}({', '.join(n + '=...' for n in required)})")
    generated(self, *args, **kwargs)

  cls.__init__ = __init__
  return cls


def _hint(cls, name: str, names: list) -> str:
  """Where an unknown part belongs: inside one of Method's parts, or the valid name it is closest to."""
  if cls is Method:
    for field, kind in _PARTS.items():
      if kind is not stabilizers.Adversarial and name in (f.name for f in dataclasses.fields(kind)):
        return f" (it is {kind.__name__}'s: {field}={kind.__name__}(...))"
  near = difflib.get_close_matches(name, names, 1)
  return f" (did you mean {near[0]!r}?)" if near else ""


def _functions(record, required=(), optional=()):
  """The fields `required` of `record` are functions, and those `optional` functions or None."""
  for name in required + optional:
    value = getattr(record, name)
    if not (callable(value) or (value is None and name in optional)):
      raise ConfigError(f"{type(record).__name__}.{name} must be a function, got {value!r}")


def _streams(record, *counts):
  value = record.streams
  if not (isinstance(value, tuple) and len(value) in counts and all(isinstance(n, str) and n for n in value)):
    raise ConfigError(f"{type(record).__name__}.streams must be a tuple of {' or '.join(map(str, counts))} stream "
                      f"names, got {value!r}")


@_record
class Sampler:
  """The method draws samples: sample grids, sample-quality metrics, --mode=sample.

  generate(state, key, n, z=None) -> n samples (or G(z) for given latents)
  generate_labeled(state, key, n) -> (samples, the labels asked for): class accuracy at evaluation
  grids(state, key, test) -> {name: (images, columns)}: its own pictures of --mode=sample (rows per
    class, code traversals, reconstructions)
  density_decoder: generate(state, None, n, z) is a continuous map of z ~ N(0, I) alone, N(0, I)
    the prior it was trained under: AIS log-likelihoods apply (`ganjax.tools.likelihood`)
  """

  generate: Callable
  generate_labeled: Optional[Callable] = None
  grids: Optional[Callable] = None
  density_decoder: bool = False

  def __post_init__(self):
    _functions(self, ("generate",), ("generate_labeled", "grids"))
    if not isinstance(self.density_decoder, bool):
      raise ConfigError(f"Sampler.density_decoder must be True or False, got {self.density_decoder!r}")


@_record
class Translator:
  """Image-to-image: evaluation scores the translations against the held-out pairs
  (`ganjax.metrics.translation`); --mode=translate.

  translate(state, x, key) -> A images translated to B
  translate_back(state, y, key) -> B images translated to A (CycleGAN's F): scored the same way,
    with the cycle reconstructions; --mode=translate --direction=BtoA
  streams: the names of the streams (`data.streams`) that give domain A and domain B when the data
    come as two streams; one stream of pairs holds both (`ganjax.data.side_key`)
  """

  translate: Callable
  translate_back: Optional[Callable] = None
  streams: tuple = ("a", "b")

  def __post_init__(self):
    _functions(self, ("translate",), ("translate_back",))
    _streams(self, 2)


@_record
class Classifier:
  """The method predicts classes: evaluation scores them on the held-out labels (domain adaptation:
  on each domain's, source/ and target/test_accuracy).

  predict_class(state, x) -> (B,) class ids
  matching: "identity" (test_accuracy) | "hungarian" (cluster_accuracy: the best one-to-one map of
    its clusters to the labels, for unsupervised codes)
  streams: () -- scored on the held-out images of the one stream -- or the names of the streams
    whose own domains (A, then B: `ganjax.data.side_key`) it is scored on, each as "<stream>/"
  """

  predict_class: Callable
  matching: str = "identity"
  streams: tuple = ()

  def __post_init__(self):
    _functions(self, ("predict_class",))
    _streams(self, 0, 2)
    if self.matching not in CLASS_MATCHINGS:
      raise ConfigError(f"Classifier.matching must be one of {', '.join(CLASS_MATCHINGS)}, got {self.matching!r}")


@_record
class Encoder:
  """The method encodes images: linear and nearest-neighbour probes on the codes at evaluation.

  encode(state, x) -> (B, D) codes
  reconstruct(state, x) -> G(E(x)): pictures, and the classifier's accuracy on them at evaluation
  """

  encode: Callable
  reconstruct: Optional[Callable] = None

  def __post_init__(self):
    _functions(self, ("encode",), ("reconstruct",))


@_record
class Likelihood:
  """The model's own observation model p(x | z), for the AIS tool (`ganjax.tools.likelihood`); without
  one, AIS puts a density decoder's samples under a Gaussian.

  decoder_log_likelihood(state, z, x) -> log p(x | z) for latents (S, B, D) and targets x
  ais_targets(config, images, key) -> what p(x | z) scores (e.g. binarised pixels)
  iwae_bound(state, x, key, k) -> the IWAE bound L_k per example, on the same targets
  """

  decoder_log_likelihood: Callable
  ais_targets: Callable
  iwae_bound: Optional[Callable] = None

  def __post_init__(self):
    _functions(self, ("decoder_log_likelihood", "ais_targets"), ("iwae_bound",))


@_record
class Bench:
  """What `ganjax.bench` times beyond the plain step.

  config(config) -> config: the steady state to time (past a pre-training phase)
  step_tokens(config) -> {name: count}: reported as <name>_tokens_per_s of the step
  part(config) -> (name, fn(state, batch, key), token count): one part of the step timed alone,
    <name>_ms and <name>_alone_tokens_per_s
  """

  config: Optional[Callable] = None
  step_tokens: Optional[Callable] = None
  part: Optional[Callable] = None

  def __post_init__(self):
    _functions(self, optional=("config", "step_tokens", "part"))


_PARTS = {"sampler": Sampler, "translator": Translator, "classifier": Classifier, "encoder": Encoder,
          "likelihood": Likelihood, "bench": Bench, "adversarial": stabilizers.Adversarial}


@_record
class Method:
  """A method: what the loop needs (init, train_step) and what else it offers, by capability.

  init(config, key, example_batch) -> TrainState: the players (`ganjax.state`), each with its optax
    state from `config.optim.<player>`, and extras
  train_step(state, batch, key) -> (state, metrics): one step; metrics are scalars "<player>/..."
  sampler, translator, classifier, encoder, likelihood, bench: the parts above
  evaluate(state, x, key) -> {name: (B,)}: per-example metrics on held-out data (the VAE's ELBO, an
    autoencoder's reconstruction error, a sequence model's NLL), reported as test/<name>
  adversarial: its `stabilizers.Adversarial` declaration: the `gan` config block's stabilizers
    apply as far as it declares (`stabilizers.check`)
  phase(config, step) -> hashable: training phases (pre-training, then adversarial training): the
    loop compiles one program per phase and calls train_step(state, batch, key, phase) with the
    phase a Python value. Each phase returns its own metrics: the loop logs each metric's mean over
    the steps of the logging window that report it (`sequences.mle_or_adversarial`: g/nll alone in
    the MLE phase)
  rows_per_step(config) -> int: data rows one step reads per stream (default config.batch_size)
  example_batch(config, train) -> batch: what init sees of the data (default: two rows of each
    stream); `train` is the training Source, or {stream: Source}
  check(config): its config errors, raised before anything is built
  config_block: the config block it reads, `config.<config_block>`, required and named in errors;
    None for none of its own. By default a built-in method's (one whose train_step is defined in
    ganjax.algorithms) is its module's name, and any other method's None: a fork's file name says
    nothing of the block its code reads (its original's), so a fork names the block to have it checked
  sharded_extra: names in state.extra whose rows are split over the devices; by default the
    stabilizers' (the replay memory) for an adversarial method, none otherwise
  """

  init: Callable
  train_step: Callable
  sampler: Optional[Sampler] = None
  translator: Optional[Translator] = None
  classifier: Optional[Classifier] = None
  encoder: Optional[Encoder] = None
  likelihood: Optional[Likelihood] = None
  evaluate: Optional[Callable] = None
  adversarial: Optional[stabilizers.Adversarial] = None
  phase: Optional[Callable] = None
  rows_per_step: Optional[Callable] = None
  example_batch: Optional[Callable] = None
  check: Optional[Callable] = None
  bench: Optional[Bench] = None
  config_block: Optional[str] = _DERIVED
  sharded_extra: Optional[tuple] = None

  def __post_init__(self):
    _functions(self, ("init", "train_step"), ("evaluate", "phase", "rows_per_step", "example_batch", "check"))
    for name, kind in _PARTS.items():
      value = getattr(self, name)
      if value is not None and not isinstance(value, kind):
        raise ConfigError(f"Method.{name} must be a {kind.__name__}(...) or None, got {value!r}")
    if self.config_block is _DERIVED:
      module = getattr(self.train_step, "__module__", None) or ""
      object.__setattr__(self, "config_block", module[len(_PACKAGE):] if module.startswith(_PACKAGE) else None)
    if not (self.config_block is None or (isinstance(self.config_block, str) and self.config_block.isidentifier())):
      raise ConfigError(f"Method.config_block must be a config block's name or None, got {self.config_block!r}")
    if self.sharded_extra is None:
      object.__setattr__(self, "sharded_extra", stabilizers.SHARDED_EXTRA if self.adversarial is not None else ())
    elif not (isinstance(self.sharded_extra, tuple) and all(isinstance(n, str) for n in self.sharded_extra)):
      raise ConfigError(f"Method.sharded_extra must be a tuple of names in state.extra, got {self.sharded_extra!r}")
