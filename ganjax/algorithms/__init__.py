"""Methods, chosen by `config.algorithm`: a name of the plain dict `ALGORITHMS` below, an importable
module (`my_project.my_gan`) or a Python file (`/path/to/my_gan.py`, any name ending in .py or
holding a /) that has this interface.

A method is one module. The loop (`ganjax.train`) knows methods only through this interface, never
by name: a fork (a copy of gan.py with its own train_step, say) behaves exactly like the module it
was copied from, whether registered under a new name or named by its module or file.

Required (`Method`):
  init(config, key, example_batch) -> TrainState     the players (`ganjax.state`), each with its optax
                                                     state from `config.optim.<player>`, and extras
  train_step(state, batch, key) -> (state, metrics)  one step; metrics are scalars named "<player>/..."

Optional, looked up with `hasattr` (a method without one simply lacks that feature):

  | hook / attribute                        | what the loop does with it                                     |
  |-----------------------------------------|----------------------------------------------------------------|
  | generate(state, key, n, z=None)         | samples: sample grids, sample-quality metrics, --mode=sample   |
  | rows_per_step(config) -> int            | data rows one step reads per stream (default config.batch_size) |
  | phase(config, step) -> hashable         | training phases (pre-training, adversarial): the loop compiles |
  |                                         | one program per phase and calls train_step(state, batch, key,  |
  |                                         | phase) with the phase as a Python value                        |
  | example_batch(config, train) -> batch   | what init sees of the data (default: two rows of each stream)  |
  | check(config)                           | config errors, before anything is built                        |
  | ADVERSARIAL (stabilizers.Adversarial)   | the method is adversarial: the `gan` block's stabilizers apply |
  |                                         | as far as it declares (`stabilizers.check`)                    |
  | SHARDED_EXTRA (names in state.extra)    | extras whose rows are split over the devices (a replay memory) |
  | CONFIG_BLOCK (name)                     | its own config block (`config.<name>`), named in errors        |
  | encode(state, x), reconstruct(state, x) | linear probes on the codes at evaluation; reconstructions      |
  |                                         | (--mode=sample) and the classifier's accuracy on them          |
  | evaluate(state, x, key) -> {name: (B,)} | per-example metrics on held-out data (the VAE's ELBO)          |
  | generate_labeled(state, key, n)         | (samples, requested labels): class accuracy at evaluation      |
  | predict_class(state, x), CLASS_MATCHING | "identity" | "hungarian" accuracy of its class predictions    |
  |                                         | (with streams "source" and "target": on each domain's held-out |
  |                                         | images, source/ and target/test_accuracy)                      |
  | sample_grids(state, key, test)          | {name: (images, columns)}: extra pictures of --mode=sample     |
  | translate(state, x, key)                | image-to-image: A images -> B; evaluation scores it against    |
  |                                         | the held-out pairs (`ganjax.metrics.translation`)              |
  | translate_back(state, y, key)           | B images -> A (CycleGAN's F): scored the same way, with the    |
  |                                         | cycle reconstructions; --mode=translate --direction=BtoA       |
  | DENSITY_DECODER = True                  | generate(state, None, n, z) is a continuous map of z ~ N(0, I) |
  |                                         | alone: AIS log-likelihoods apply (`ganjax.metrics.ais`)        |
  | bench_config(config) -> config          | `ganjax.bench` times this config's step (a steady state past   |
  |                                         | pre-training: SeqGAN's adversarial step)                       |
  | step_tokens(config) -> {name: count}    | `ganjax.bench` reports <name>_tokens_per_s of the step         |
  | bench_part(config) -> (name, fn, count) | `ganjax.bench` times fn(state, batch, key) alone: <name>_ms    |

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
from typing import Protocol

from ganjax.algorithms import (acgan, ae, ali, bgan, bgan_tokens, cartoongan, cgan, cyclegan, dann, discogan, dtn,
                               ebgan, gan, gman, gsgan, infogan, pix2pix, pixelda, seqgan, sgan, simgan, srgan,
                               textgan, unrolled_gan, vae)
from ganjax.errors import ConfigError, choose


class Method(Protocol):
  def init(self, config, key, example_batch): ...

  def train_step(self, state, batch, key): ...


ALGORITHMS = {"gan": gan, "unrolled_gan": unrolled_gan, "gman": gman, "ebgan": ebgan, "bgan": bgan, "cgan": cgan,
              "acgan": acgan, "infogan": infogan, "sgan": sgan, "ali": ali, "vae": vae, "ae": ae,
              "pix2pix": pix2pix, "cyclegan": cyclegan, "discogan": discogan,
              "srgan": srgan, "cartoongan": cartoongan, "dann": dann,
              "simgan": simgan, "pixelda": pixelda, "dtn": dtn,
              "seqgan": seqgan, "gsgan": gsgan, "textgan": textgan, "bgan_tokens": bgan_tokens}


REQUIRED = ("init", "train_step")
_FROM_FILES = {}  # real path -> module: a file is executed once, so its jitted functions stay the same objects


def get(name: str):
  """The method `name` names: a registered name, a module path or a .py file (see above)."""
  as_file = name.endswith(".py") or "/" in name or os.sep in name
  if name in ALGORITHMS or not (as_file or "." in name):
    return choose("algorithm", name, ALGORITHMS)  # an unknown plain name lists the valid ones
  module = _from_file(name) if as_file else _from_module(name)
  missing = [f for f in REQUIRED if not callable(getattr(module, f, None))]
  if missing:
    raise ConfigError(f"algorithm {name!r} lacks {' and '.join(missing)}: a method module defines "
                      "init(config, key, example_batch) and train_step(state, batch, key) "
                      "(ganjax/algorithms/__init__.py lists the optional hooks)")
  return module


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
    frame = traceback.extract_tb(e.__traceback__)[-1]
    where = f" ({frame.filename}, line {frame.lineno})"
  return ConfigError(f"cannot load algorithm {name!r}: {type(e).__name__}: {e}{where}")


def register(name: str, module):
  """Adds a method (a module, or any object with the interface above) under `name`."""
  ALGORITHMS[name] = module


def rows_per_step(method, config) -> int:
  return method.rows_per_step(config) if hasattr(method, "rows_per_step") else config.batch_size


def check(method, config):
  """The blocks the method reads are there; the method's own config errors; then those of the
  stabilizers it would be given."""
  from ganjax import stabilizers

  needs = ((getattr(method, "CONFIG_BLOCK", None),) + (("gan",) if hasattr(method, "ADVERSARIAL") else ()))
  for block in filter(None, needs):
    if block not in config:
      raise ConfigError(f"algorithm {config.algorithm!r} reads config.{block}, which this config lacks "
                        f"(start from the method's own config file in configs/)")
  if hasattr(method, "check"):
    method.check(config)
  stabilizers.check(config, getattr(method, "ADVERSARIAL", None), config.algorithm)
