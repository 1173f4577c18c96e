"""A workdir's run, built once: `Run(config, workdir)` holds the mesh, the data streams, the method,
its initial (or restored) state and the method's jitted functions. The loop (`ganjax.train`), evaluation
(`ganjax.evaluation`), pictures (`ganjax.sampling`), the benchmark and the tools all start from one.

Also here: `validate(config)`, every config error found before anything is built (what `Run` does
first); and `run_at_step(workdir, step)`, a `Run` at one checkpoint of a trained workdir (its
config read back by `ganjax.workdir.config_of_workdir`), the workdir untouched.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile

import jax
import numpy as np

from ganjax import algorithms, base_config, checkpoint, data, metrics, parallel, xla
from ganjax.errors import CheckpointError, ConfigError
from ganjax.state import INIT_KEY, STEP_KEY, Same, frozen, remember, step_config
from ganjax.workdir import config_of_workdir


def validate(config):
  """Every config error that can be found before anything is built: the loop's fields, then the
  method's and its stabilizers' (`algorithms.check`)."""
  for field in ("batch_size", "num_steps", "log_every", "checkpoint_every"):
    if not isinstance(config[field], int) or config[field] <= 0:
      raise ConfigError(f"config.{field} must be a positive integer, got {config[field]!r}")
  for name, opt in config.optim.items():
    start = base_config.complete_optimizer(opt).lr_decay_start
    if not 0.0 <= start <= 1.0:
      raise ConfigError(f"config.optim.{name}.lr_decay_start must be a fraction of num_steps in [0, 1], got {start}")
  algorithms.check(algorithms.get(config.algorithm), config)


def _init_of(method, config):
  """`method.init` bound to (a private copy of) `config` without the loop's fields, the same function
  object for configs equal but for those, so that a second run of one config in the process finds its
  init traced and compiled."""
  try:
    key = (Same(method), frozen(config))
    hash(key)
  except TypeError:  # a field that cannot be hashed: this run's own init
    return functools.partial(method.init, step_config(config))
  return remember(_INITS, key, lambda: functools.partial(method.init, step_config(config)))


_INITS = {}


class Run:
  """Everything a workdir needs, built once: mesh, data streams, method, initial (or restored) state."""

  def __init__(self, config, workdir, restore: bool = True, need_data_iterator: bool = True):
    validate(config)
    xla.setup_compilation_cache(config)
    self.config, self.workdir = config, os.path.abspath(os.path.expanduser(str(workdir)))
    self.method = algorithms.get(config.algorithm)
    self.mesh = parallel.make_mesh(config.mesh.num_devices)
    parallel.check_batch_size(config.batch_size, self.mesh)
    self.splits = data.load_streams(config)  # every data problem stops here, before compiling anything
    self.split = next(iter(self.splits.values()))  # the first stream: what evaluation scores against
    if config.eval_every >= 0 and config.eval.num_samples:  # the final evaluation's settings must fit this data: refuse now, not after training
      metrics.check(config, self.split, config.eval.num_samples)
    self.single = list(self.splits) == [None]
    rows = algorithms.rows_per_step(self.method, config)
    self.pipelines = ({name: data.make(split.train, rows, config.seed, stream=i)
                       for i, (name, split) in enumerate(self.splits.items())} if need_data_iterator else None)
    self.rep = parallel.replicated(self.mesh)
    self.base_key = jax.random.key(config.seed)
    self.step_key = jax.random.fold_in(self.base_key, STEP_KEY)  # step t uses fold_in(step_key, t)
    trains = self.split.train if self.single else {name: s.train for name, s in self.splits.items()}
    example = algorithms.example_batch(self.method, config, trains)  # what init sees of the data
    init = _init_of(self.method, config)
    init_key = jax.random.fold_in(self.base_key, INIT_KEY)
    shapes = jax.eval_shape(init, init_key, example)
    self.state_sharding = parallel.state_shardings(shapes, self.mesh, self.method.sharded_extra)
    self.checkpoints = checkpoint.Checkpointer(os.path.join(self.workdir, "checkpoints"),
                                               config.keep_checkpoints)
    self.restored_step = None
    if restore and self.checkpoints.latest_step() is not None:  # restored into init's shapes: init never runs
      self.state = self.checkpoints.restore(checkpoint.abstract(shapes, self.state_sharding), self.iterators())
      self.restored_step = int(self.state.step)
    else:
      self.state = jax.jit(init, out_shardings=self.state_sharding)(init_key, example)

    # Jitted once per run; outputs replicated, read back from each process's own copy.
    def jitted(fn, static=(), options=None):
      return (jax.jit(fn, static_argnums=static, out_shardings=self.rep, compiler_options=options)
              if fn is not None else None)

    # The classifier's predictions over each whole held-out set, batch after batch, are compiled
    # fully optimized (XLA's defaults, stated: `xla.full_optimization`) also where the process asks for
    # cheap compiles (the test suite: DANN's tiny end-to-end test 16.2 s before, 7.2 s after; the
    # generators' programs, run on fewer batches, lose more to the longer compile than they gain).
    m, full = self.method, xla.full_optimization()  # a part the method lacks is None, and so is each of its functions here
    self.generate_fn = jitted(m.sampler and m.sampler.generate, 2)
    self.generate_labeled_fn = jitted(m.sampler and m.sampler.generate_labeled, 2)
    self.evaluate_fn = jitted(m.evaluate)
    self.predict_fn = jitted(m.classifier and m.classifier.predict_class, options=full)
    self.encode_fn = jitted(m.encoder and m.encoder.encode)
    self.reconstruct_fn = jitted(m.encoder and m.encoder.reconstruct)
    self.translate_fn = jitted(m.translator and m.translator.translate)
    self.translate_back_fn = jitted(m.translator and m.translator.translate_back)

  def iterators(self):
    """The grain iterators to checkpoint: one, or {stream: iterator}; None without data iterators."""
    if self.pipelines is None:
      return None
    if self.single:
      return self.pipelines[None].iterator
    return {name: p.iterator for name, p in self.pipelines.items()}

  def next_batch(self) -> dict:
    """The next global batch: the stream's, or {stream: its batch} for several streams."""
    if self.single:
      local = next(self.pipelines[None])
    else:
      local = {name: next(p) for name, p in self.pipelines.items()}
    return parallel.global_batch(local, self.mesh)

  def generate(self, key, n: int, batch: int = 500, z=None) -> np.ndarray:
    """n samples (or G(z) for given latents) as numpy, in batches of at most `batch`."""
    outs = []
    for i in range(0, n, batch):
      m = min(batch, n - i)
      zi = None if z is None else z[i:i + m]
      outs.append(parallel.local_copy(self.generate_fn(self.state, jax.random.fold_in(key, i), m, zi)))
    return np.concatenate(outs)

  def generate_labeled(self, key, n: int, batch: int = 500):
    """n samples of a label-conditioned generator and the labels they were asked for."""
    xs, ys = [], []
    for i in range(0, n, batch):
      x, y = parallel.local_copy(self.generate_labeled_fn(self.state, jax.random.fold_in(key, i), min(batch, n - i)))
      xs.append(x)
      ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


@contextlib.contextmanager
def run_at_step(workdir, step: int = 0):
  """A `Run` of a trained workdir restored at its checkpoint `step` (0: the latest), the workdir left
  untouched (the checkpoint is read from a temporary copy), for the tools that study one step of a
  run. Yields (run, step); an absent step is a one-line `CheckpointError`."""
  config = config_of_workdir(workdir)
  config.progress = False
  src = os.path.join(os.path.expanduser(str(workdir)), "checkpoints")
  steps = sorted(int(s) for s in os.listdir(src) if s.isdigit()) if os.path.isdir(src) else []
  step = step or (steps[-1] if steps else 0)
  if step not in steps:
    raise CheckpointError(f"no checkpoint {step} in {src} (there are {steps})")
  with tempfile.TemporaryDirectory() as tmp:
    shutil.copytree(os.path.join(src, str(step)), os.path.join(tmp, "checkpoints", str(step)))
    run = Run(config, tmp, need_data_iterator=False)
    try:
      yield run, step
    finally:
      run.checkpoints.close()
