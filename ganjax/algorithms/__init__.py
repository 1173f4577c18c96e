"""Methods, chosen by `config.algorithm`: a name of the plain dict `ALGORITHMS` below, an importable
module (`my_project.my_gan`) or a Python file (`/path/to/my_gan.py`, any name ending in .py or
holding a /) that defines a method's record, `METHOD`.

A method is one module that ends with one record, `METHOD = Method(...)` (`ganjax.algorithms.method`).
The loop (`ganjax.train`), evaluation, pictures, the benchmark and the AIS tool know a method only
through its record, never by name: a fork (a copy of gan.py with its own train_step, say) behaves
exactly like the module it was copied from, whether registered under a new name or named by its
module or file. Everything a method may offer, each part None when it lacks it:

  METHOD = Method(
      init=init,                       # (config, key, example_batch) -> TrainState: the players, each
                                       #   with its optax state from config.optim.<player>, and extras
      train_step=train_step,           # (state, batch, key) -> (state, metrics "<player>/...")
      sampler=Sampler(generate,        # (state, key, n, z=None) -> samples: grids, sample quality
                      generate_labeled=None,   # (state, key, n) -> (samples, labels): class accuracy
                      grids=None,              # (state, key, test) -> {name: (images, columns)}
                      density_decoder=False),  # generate(state, None, n, z) a continuous map of
                                               #   z ~ N(0, I) alone: AIS applies (ganjax.tools.likelihood)
      translator=Translator(translate,         # (state, x, key): A -> B, scored against the pairs
                            translate_back=None),  # (state, y, key): B -> A, with cycle errors
      classifier=Classifier(predict_class,     # (state, x) -> classes, scored on held-out labels
                            matching="identity"),  # | "hungarian" (clusters mapped to the labels)
      encoder=Encoder(encode,                  # (state, x) -> codes: linear / 1-NN probes
                      reconstruct=None),       # (state, x) -> G(E(x)): pictures, class accuracy
      evaluate=None,                   # (state, x, key) -> {name: (B,)} on held-out data: test/<name>
      likelihood=Likelihood(decoder_log_likelihood, ais_targets, iwae_bound=None),  # its own p(x | z)
      adversarial=None,                # stabilizers.Adversarial(...): the `gan` block's stabilizers
                                       #   apply as far as it declares (stabilizers.check)
      phase=None,                      # (config, step) -> hashable: one program per phase, called as
                                       #   train_step(state, batch, key, phase); each phase returns
                                       #   its own metrics (logged as means over the steps reporting them)
      rows_per_step=None,              # (config) -> rows per stream and step (default batch_size)
      example_batch=None,              # (config, train) -> what init sees (default: two rows each)
      check=None,                      # (config): its config errors, before anything is built
      bench=Bench(config=None, step_tokens=None, part=None),  # what ganjax.bench times beyond the step
      config_block=<derived>,          # config.<block> it reads: a built-in method's module name
      sharded_extra=<derived>)         # state.extra split over the devices: the replay memory
                                       #   for an adversarial method

An unknown or misspelled part is a one-line ConfigError naming the valid ones; `Method`'s and each
part's docstring says more. A module named by `config.algorithm` (a path or `pkg.module`) must
define METHOD; `register(name, method)` adds a record under a name.

Data: a batch is `{"image": ...}` (plus "label" where the data has labels) for one stream, or
`{stream: {...}}` for the named streams of `config.data.streams` (`ganjax.data`). Domain adaptation
(dann, dtn, pixelda, simgan) reads the streams "source" and "target" (`adaptation`: the shared
stream handling, task classifier and loss; never a step). Token sequences (seqgan, gsgan, textgan,
bgan_tokens) are batches `{"tokens": int32 (B, T)}`; `sequences` holds what they share (the LSTM
unrolls as `lax.scan`s: teacher forcing, sampling, Monte Carlo rollouts, Gumbel-softmax / soft-argmax
relaxations; `example_batch` reads the vocabulary size and length from the data). Their samples are
token ids: evaluation scores them with `ganjax.metrics.sequences`, `--mode=sample` writes text.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback

import numpy as np

from ganjax.algorithms import (acgan, ae, ali, bgan, bgan_tokens, cartoongan, cgan, cyclegan, dann, discogan, dtn,
                               ebgan, gan, gman, gsgan, infogan, pix2pix, pixelda, seqgan, sgan, simgan, srgan,
                               textgan, unrolled_gan, vae)
from ganjax.algorithms.method import Bench, Classifier, Encoder, Likelihood, Method, Sampler, Translator  # noqa: F401
from ganjax.errors import ConfigError, choose

ALGORITHMS = {"gan": gan.METHOD, "unrolled_gan": unrolled_gan.METHOD, "gman": gman.METHOD, "ebgan": ebgan.METHOD,
              "bgan": bgan.METHOD, "cgan": cgan.METHOD, "acgan": acgan.METHOD, "infogan": infogan.METHOD,
              "sgan": sgan.METHOD, "ali": ali.METHOD, "vae": vae.METHOD, "ae": ae.METHOD,
              "pix2pix": pix2pix.METHOD, "cyclegan": cyclegan.METHOD, "discogan": discogan.METHOD,
              "srgan": srgan.METHOD, "cartoongan": cartoongan.METHOD, "dann": dann.METHOD,
              "simgan": simgan.METHOD, "pixelda": pixelda.METHOD, "dtn": dtn.METHOD,
              "seqgan": seqgan.METHOD, "gsgan": gsgan.METHOD, "textgan": textgan.METHOD,
              "bgan_tokens": bgan_tokens.METHOD}

_GANJAX = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep
_FROM_FILES = {}  # real path -> module: a file is executed once, so its jitted functions stay the same objects


def get(name: str) -> Method:
  """The record of the method `name` names: a registered name, a module path or a .py file (see above)."""
  as_file = name.endswith(".py") or "/" in name or os.sep in name
  if name in ALGORITHMS or not (as_file or "." in name):
    return choose("algorithm", name, ALGORITHMS)  # an unknown plain name lists the valid ones
  module = _from_file(name) if as_file else _from_module(name)
  method = vars(module).get("METHOD")
  if not isinstance(method, Method):
    raise ConfigError(f"algorithm {name!r} defines no METHOD: end the module with METHOD = Method(init=..., "
                      "train_step=...) (from ganjax.algorithms.method import Method; its docstring lists the parts)")
  return method


def _from_module(name: str):
  try:
    return importlib.import_module(name)
  except ModuleNotFoundError as e:
    if e.name and (name == e.name or name.startswith(e.name + ".")):
      raise ConfigError(f"algorithm {name!r}: no module named {e.name!r} on the Python path (the current "
                        "directory is on it; or give a file path ending in .py)") from None
    raise _load_error(name, e) from None
  except Exception as e:  # the method's own code failed on import: one line that says where
    raise _load_error(name, e) from None


def _from_file(name: str):
  path = os.path.realpath(os.path.expanduser(name))
  if path in _FROM_FILES:
    return _FROM_FILES[path]
  if not os.path.isfile(path):
    raise ConfigError(f"algorithm {name!r}: no such file")
  # a module name of its own per file (two forks may share a file name), in sys.modules as any import
  stem = os.path.splitext(os.path.basename(path))[0]
  module_name = f"ganjax_method_{stem}_{hashlib.sha1(path.encode()).hexdigest()[:8]}"
  spec = importlib.util.spec_from_file_location(module_name, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[module_name] = module
  try:
    spec.loader.exec_module(module)
  except Exception as e:
    del sys.modules[module_name]
    raise _load_error(name, e) from None
  _FROM_FILES[path] = module
  return module


def _load_error(name: str, e: Exception) -> ConfigError:
  where = ""
  if not isinstance(e, SyntaxError) and e.__traceback__ is not None:  # a SyntaxError names its line itself
    frames = traceback.extract_tb(e.__traceback__)
    # the method's own line, not ganjax's: a record refused by `Method` names the line that built it
    own = [f for f in frames if not os.path.realpath(f.filename).startswith(_GANJAX)]
    frame = (own or frames)[-1]
    where = f" ({frame.filename}, line {frame.lineno})"
  return ConfigError(f"cannot load algorithm {name!r}: {type(e).__name__}: {e}{where}")


def register(name: str, method: Method):
  """Adds a method's record under `name`."""
  if not isinstance(method, Method):
    raise ConfigError(f"register({name!r}, ...) takes a method's record, Method(init=..., train_step=...), "
                      f"not {type(method).__name__}")
  ALGORITHMS[name] = method


def rows_per_step(method: Method, config) -> int:
  return method.rows_per_step(config) if method.rows_per_step is not None else config.batch_size


def example_batch(method: Method, config, train):
  """What init sees of the data: the method's `example_batch`, else two rows of each stream
  (`train`: the training Source, or {stream: Source})."""
  if method.example_batch is not None:
    return method.example_batch(config, train)
  return {name: t.get(np.arange(2)) for name, t in train.items()} if isinstance(train, dict) else train.get(np.arange(2))


def check(method: Method, config):
  """The blocks the method reads are there; the method's own config errors; then those of the
  stabilizers it would be given."""
  from ganjax import stabilizers

  needs = (method.config_block,) + (("gan",) if method.adversarial is not None else ())
  for block in filter(None, needs):
    if block not in config:
      raise ConfigError(f"algorithm {config.algorithm!r} reads config.{block}, which this config lacks "
                        f"(start from the method's own config file in configs/)")
  if method.check is not None:
    method.check(config)
  stabilizers.check(config, method.adversarial, config.algorithm)
