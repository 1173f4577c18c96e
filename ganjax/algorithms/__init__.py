"""Methods, chosen by `config.algorithm` from the plain dict `ALGORITHMS` below.

A method is one module. The loop (`ganjax.train`) knows methods only through this interface, never
by name: a fork registered under a new name behaves exactly like the module it was copied from.

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

from typing import Protocol

from ganjax.algorithms import (acgan, ae, ali, bgan, bgan_tokens, cartoongan, cgan, cyclegan, dann, discogan, dtn,
                               ebgan, gan, gman, gsgan, infogan, pix2pix, pixelda, seqgan, sgan, simgan, srgan,
                               textgan, unrolled_gan, vae)
from ganjax.errors import choose


class Method(Protocol):
  def init(self, config, key, example_batch): ...

  def train_step(self, state, batch, key): ...


ALGORITHMS = {"gan": gan, "unrolled_gan": unrolled_gan, "gman": gman, "ebgan": ebgan, "bgan": bgan, "cgan": cgan,
              "acgan": acgan, "infogan": infogan, "sgan": sgan, "ali": ali, "vae": vae, "ae": ae,
              "pix2pix": pix2pix, "cyclegan": cyclegan, "discogan": discogan,
              "srgan": srgan, "cartoongan": cartoongan, "dann": dann,
              "simgan": simgan, "pixelda": pixelda, "dtn": dtn,
              "seqgan": seqgan, "gsgan": gsgan, "textgan": textgan, "bgan_tokens": bgan_tokens}


def get(name: str):
  return choose("algorithm", name, ALGORITHMS)


def register(name: str, module):
  """Adds a method (a module, or any object with the interface above) under `name`."""
  ALGORITHMS[name] = module


def rows_per_step(method, config) -> int:
  return method.rows_per_step(config) if hasattr(method, "rows_per_step") else config.batch_size


def check(method, config):
  """The blocks the method reads are there; the method's own config errors; then those of the
  stabilizers it would be given."""
  from ganjax import stabilizers
  from ganjax.errors import ConfigError

  needs = ((getattr(method, "CONFIG_BLOCK", None),) + (("gan",) if hasattr(method, "ADVERSARIAL") else ()))
  for block in filter(None, needs):
    if block not in config:
      raise ConfigError(f"algorithm {config.algorithm!r} reads config.{block}, which this config lacks "
                        f"(start from the method's own config file in configs/)")
  if hasattr(method, "check"):
    method.check(config)
  stabilizers.check(config, getattr(method, "ADVERSARIAL", None), config.algorithm)
