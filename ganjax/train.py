"""The method-agnostic loop: mesh -> data -> init (sharded) -> restore -> step loop -> final save.

`train(config, workdir)` is importable from tests and notebooks; `ganjax.main` is a thin CLI over it.
Per step: one global batch (sharded on the mesh's `data` axis) and `train_step(state, batch, key)`
with key = fold_in(step_key, state.step), jitted once with the state donated. Metrics stay on the
device until a log step, when all of them since the last log are read back at once, checked for
non-finite values (which stops the run before anything bad is saved), averaged and written.
SIGTERM / Ctrl-C: the loop finishes its step, saves, and returns; rerunning resumes bitwise.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import time
from typing import Callable, Optional

import jax
import numpy as np
from absl import logging

from ganjax import algorithms, checkpoint, data, images, metrics, parallel
from ganjax.errors import ConfigError, DivergenceError

# Independent streams from the one seed: init, the train steps, sampling and evaluation.
INIT_KEY, STEP_KEY, SAMPLE_KEY, EVAL_KEY = 0, 1, 2, 3


def setup_compilation_cache(config):
  path = config.get("compilation_cache")
  if path:
    jax.config.update("jax_compilation_cache_dir", os.path.expanduser(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


# XLA:CPU hands matrix products, reductions and convolutions to its YNNPACK library by default. ganjax
# keeps the first two there and leaves convolutions to XLA's own (Eigen) path, whose weight gradients
# are the faster ones on this repository's CPU: DCGAN steps 1.07x (batch 64) and 1.24x (batch 256) as
# fast, SNGAN's ResNet 1.29x, InfoGAN 1.04x (`python -m ganjax.bench --ab=cpu_ynn_convolutions=true`;
# README, Performance). `cpu_ynn_convolutions=True`
# restores XLA's default. A jaxlib without the option gets no options (and a warning), not an error.
_YNN_OPTION = "xla_cpu_experimental_ynn_fusion_type"
_YNN_WITHOUT_CONVOLUTIONS = "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"


@functools.cache
def _compiler_accepts(option: str, value: str) -> bool:
  try:
    jax.jit(lambda x: x + 1, compiler_options={option: value})(np.float32(0))
    return True
  except Exception as e:  # an unknown option or value: this jaxlib's XLA lacks it
    logging.warning("XLA does not accept %s=%s (%s); using its defaults", option, value, str(e).splitlines()[0])
    return False


def compiler_options(config) -> Optional[dict]:
  """XLA compile options for the train step: on the CPU backend, convolutions kept out of YNNPACK
  unless `config.cpu_ynn_convolutions`; None (XLA's defaults) elsewhere."""
  if jax.default_backend() != "cpu" or config.get("cpu_ynn_convolutions", False):
    return None
  return {_YNN_OPTION: _YNN_WITHOUT_CONVOLUTIONS} if _compiler_accepts(_YNN_OPTION, _YNN_WITHOUT_CONVOLUTIONS) else None


def rows_per_step(config) -> int:
  """Rows of data one train step consumes: batch_size, times the critic steps for adversarial methods."""
  return config.batch_size * config.get("d_steps", 1)


# The GAN toolbox fields (ganjax.base_config) and their off values; methods whose module sets
# SUPPORTS_STABILIZERS = True read them, and for any other method a changed one is an error rather
# than a silently ignored setting.
STABILIZER_DEFAULTS = {"loss": "non_saturating", "d_steps": 1, "real_label": 1.0, "penalty": "none", "clip": 0.0,
                       "instance_noise": 0.0, "ema_decay": 0.0, "historical_averaging": 0.0,
                       "g_objective": "adversarial", "replay_size": 0, "unrolled_steps": 0, "num_discriminators": 1,
                       "model.minibatch_features": (), "model.spectral_norm": False, "model.d_virtual_batch_norm": 0}
# Of those, the ones a method's own step does read (cgan, acgan, infogan take the objective and smoothing).
_READS = {"cgan": ("loss", "real_label"), "acgan": ("loss", "real_label"), "infogan": ("loss", "real_label")}


def check_stabilizers(config):
  method = algorithms.get(config.algorithm)
  if getattr(method, "SUPPORTS_STABILIZERS", False):
    return
  flat = config.to_dict()
  for field, off in STABILIZER_DEFAULTS.items():
    if field in _READS.get(config.algorithm, ()):
      continue
    value = flat
    for part in field.split("."):
      value = value.get(part, off) if isinstance(value, dict) else off
    changed = tuple(value) != tuple(off) if isinstance(off, tuple) else value != off
    if changed:
      raise ConfigError(f"config.{field}={value!r} is a GAN stabilizer that algorithm {config.algorithm!r} "
                        f"does not implement (algorithm 'gan' does); leave it at {off!r}")


def validate(config):
  for field in ("batch_size", "num_steps", "log_every", "checkpoint_every"):
    if not isinstance(config[field], int) or config[field] <= 0:
      raise ConfigError(f"config.{field} must be a positive integer, got {config[field]!r}")
  if config.get("d_steps", 1) < 1:
    raise ConfigError(f"config.d_steps must be >= 1, got {config.d_steps}")
  check_stabilizers(config)


class Run:
  """Everything a workdir needs, built once: mesh, data, method, initial (or restored) state."""

  def __init__(self, config, workdir, restore: bool = True, need_data_iterator: bool = True):
    validate(config)
    setup_compilation_cache(config)
    self.config, self.workdir = config, os.path.abspath(os.path.expanduser(str(workdir)))
    self.method = algorithms.get(config.algorithm)
    self.mesh = parallel.make_mesh(config.mesh.get("num_devices", 0))
    parallel.check_batch_size(config.batch_size, self.mesh)
    self.split = data.load(config)  # every data problem stops here, before compiling anything
    self.pipeline = data.make(self.split.train, rows_per_step(config), config.seed) if need_data_iterator else None
    self.rep = parallel.replicated(self.mesh)
    self.base_key = jax.random.key(config.seed)
    self.step_key = jax.random.fold_in(self.base_key, STEP_KEY)  # step t uses fold_in(step_key, t)
    # What init sees of the data: two rows for their shapes, or a method's own pick (SGAN's labeled set).
    example = (self.method.example_batch(config, self.split.train) if hasattr(self.method, "example_batch")
               else self.split.train.get(np.arange(2)))
    init = functools.partial(self.method.init, config)
    init_key = jax.random.fold_in(self.base_key, INIT_KEY)
    self.state_sharding = parallel.state_shardings(jax.eval_shape(init, init_key, example), self.mesh,
                                                   getattr(self.method, "SHARDED_EXTRA", ()))
    self.state = jax.jit(init, out_shardings=self.state_sharding)(init_key, example)
    self.checkpoints = checkpoint.Checkpointer(os.path.join(self.workdir, "checkpoints"),
                                               config.get("keep_checkpoints", 3))
    self.restored_step = None
    if restore and self.checkpoints.latest_step() is not None:
      it = self.pipeline.iterator if self.pipeline else None
      self.state = self.checkpoints.restore(checkpoint.abstract(self.state, self.state_sharding), it)
      self.restored_step = int(self.state.step)

    # Jitted once per run; outputs replicated, read back from each process's own copy.
    self.generate_fn = jax.jit(self.method.generate, static_argnums=2, out_shardings=self.rep)
    self.evaluate_fn = (jax.jit(self.method.evaluate, out_shardings=self.rep)
                        if hasattr(self.method, "evaluate") else None)
    self.generate_labeled_fn = (jax.jit(self.method.generate_labeled, static_argnums=2, out_shardings=self.rep)
                                if hasattr(self.method, "generate_labeled") else None)
    self.predict_fn = (jax.jit(self.method.predict_class, out_shardings=self.rep)
                       if hasattr(self.method, "predict_class") else None)
    self.encode_fn = jax.jit(self.method.encode, out_shardings=self.rep) if hasattr(self.method, "encode") else None

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


def make_step_fn(method, mesh, state_sharding=None, options: Optional[dict] = None):
  """The jitted train step (state donated); `options`: XLA compile options (see `compiler_options`)."""
  rep, bs = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  ss = rep if state_sharding is None else state_sharding

  def step(state, batch, step_key):
    return method.train_step(state, batch, jax.random.fold_in(step_key, state.step))

  return jax.jit(step, in_shardings=(ss, bs, rep), out_shardings=(ss, rep), donate_argnums=0,
                 compiler_options=options)


class _Preemption:
  """SIGTERM / SIGINT set a flag; the loop saves and exits at the end of the current step."""

  def __init__(self):
    self.requested = False

  @contextlib.contextmanager
  def installed(self):
    def handler(signum, frame):
      if self.requested and signum == signal.SIGINT:  # a second Ctrl-C: stop now
        raise KeyboardInterrupt
      self.requested = True

    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
      for s in previous:
        signal.signal(s, handler)
    except ValueError:  # not the main thread: leave the handlers alone
      previous = {}
    try:
      yield self
    finally:
      for s, h in previous.items():
        signal.signal(s, h)

  def should_stop(self, at_log_step: bool) -> bool:
    """One process stops as soon as it is signalled; several agree first (at log steps only, to keep
    the per-step path free of cross-process communication), so that all of them save the same step."""
    if jax.process_count() == 1:
      return self.requested
    if not at_log_step:
      return False
    from jax.experimental import multihost_utils

    return bool(np.any(multihost_utils.process_allgather(np.array(self.requested))))


def _player_of(metric: str) -> str:
  return metric.split("/")[0] if "/" in metric else "?"


def check_finite(history, last_saved: Optional[int], ckpt_dir: str):
  for step, values in history:
    for k, v in values.items():
      if not np.all(np.isfinite(v)):
        saved = f"last good checkpoint: step {last_saved}" if last_saved is not None else "no checkpoint was saved"
        raise DivergenceError(
            f"training diverged at step {step}: {k} = {float(np.asarray(v).mean())} (player "
            f"'{_player_of(k)}'); {saved} in {ckpt_dir}, nothing newer written")


def write_samples(run: Run, step: int, writer=None, n: int = 0):
  n = n or run.config.sample.num
  samples = run.generate(jax.random.fold_in(jax.random.fold_in(run.base_key, SAMPLE_KEY), step), n)
  ref = run.split.train.get(np.arange(min(2000, run.split.train.size)))["image"] if samples.ndim == 2 else None
  picture = images.render(samples, ref)
  if jax.process_index() == 0:
    os.makedirs(os.path.join(run.workdir, "samples"), exist_ok=True)
    images.save_png(os.path.join(run.workdir, "samples", f"step_{step:08d}.png"), picture,
                    upscale=4 if picture.shape[0] < 200 else 1)
    if writer is not None:
      writer.image(step, "samples", picture)
  return samples


def evaluate(run: Run, step: int) -> dict:
  cfg = run.config
  key = jax.random.fold_in(jax.random.fold_in(run.base_key, EVAL_KEY), step)
  out = {"step": int(step)}
  if run.generate_labeled_fn is not None:  # conditional generators: also score the requested classes
    samples, labels = run.generate_labeled(key, cfg.eval.num_samples)
  else:
    samples, labels = run.generate(key, cfg.eval.num_samples), None
  out.update(metrics.sample_quality(samples, run.split, cfg, labels))
  if samples.ndim == 4 and jax.process_index() == 0:  # the overfitting test's picture
    train_images = run.split.train.get(np.arange(min(20_000, run.split.train.size)))["image"]
    _, nearest = metrics.sets.nearest_neighbour_distances(samples[:10], train_images)
    pairs = np.stack([samples[:10], train_images[nearest]], axis=1).reshape((-1, *samples.shape[1:]))
    images.save_png(os.path.join(run.workdir, "nearest_neighbours.png"), images.grid(pairs, ncol=2), upscale=4)
  if run.predict_fn is not None and run.split.test.has_labels:
    test = run.split.test
    preds, truth = [], []
    for i in range(0, test.size, cfg.eval.batch_size):
      batch = test.get(np.arange(i, min(test.size, i + cfg.eval.batch_size)))
      preds.append(parallel.local_copy(run.predict_fn(run.state, batch["image"])))
      truth.append(batch["label"])
    name, value = metrics.class_accuracy(np.concatenate(preds), np.concatenate(truth), run.method.CLASS_MATCHING)
    out[name] = value
  if run.encode_fn is not None and run.split.train.has_labels:  # linear probes on E(x) and on pixels
    train = run.split.train.get(np.arange(min(5000, run.split.train.size)))
    test = run.split.test.get(np.arange(run.split.test.size))
    code = lambda x: np.concatenate([parallel.local_copy(run.encode_fn(run.state, x[i:i + 500]))  # noqa: E731
                                     for i in range(0, len(x), 500)])
    out["linear_probe/latent_accuracy"] = metrics.linear_probe(code(train["image"]), train["label"],
                                                               code(test["image"]), test["label"])
    out["linear_probe/pixel_accuracy"] = metrics.linear_probe(train["image"], train["label"], test["image"], test["label"])
  if run.evaluate_fn is not None:
    test = run.split.test
    sums, count = {}, 0
    for i in range(0, test.size, cfg.eval.batch_size):
      batch = test.get(np.arange(i, min(test.size, i + cfg.eval.batch_size)))
      per_example = parallel.local_copy(run.evaluate_fn(run.state, batch["image"], jax.random.fold_in(key, i)))
      for k, v in per_example.items():
        sums[k] = sums.get(k, 0.0) + float(np.sum(np.asarray(v), dtype=np.float64))
      count += len(batch["image"])
    out.update({f"test/{k}": v / count for k, v in sums.items()})
  return out


def train(config, workdir, hooks: Optional[list[Callable]] = None):
  """Trains (or resumes) in `workdir`; returns the final state. `hooks` are called as hook(step, state)
  after every step (tests use them, e.g. to send a signal at a chosen step)."""
  preemption = _Preemption()
  with preemption.installed():  # from the start: a signal during setup or compilation is honoured too
    return _train(config, workdir, hooks, preemption)


def _train(config, workdir, hooks, preemption):
  from ganjax.writers import MetricWriter

  run = Run(config, workdir)
  cfg = run.config
  state, ckpts = run.state, run.checkpoints
  start = int(state.step)
  os.makedirs(run.workdir, exist_ok=True)
  if jax.process_index() == 0:
    with open(os.path.join(run.workdir, "config.json"), "w") as f:
      f.write(cfg.to_json_best_effort(indent=2))
  writer = MetricWriter(run.workdir, start, cfg.num_steps, cfg.get("progress", True))
  step_fn = make_step_fn(run.method, run.mesh, run.state_sharding, compiler_options(cfg))
  history, last_saved, last_log_time = [], ckpts.latest_step(), time.perf_counter()
  last_log_step, last_eval = start, None

  def flush(step):
    nonlocal history, last_log_time, last_log_step
    if not history:
      return
    host = jax.device_get(history)
    check_finite(host, last_saved, ckpts.directory)
    means = {k: float(np.mean([h[1][k] for h in host])) for k in host[-1][1]}
    now = time.perf_counter()
    means["steps_per_sec"] = (step - last_log_step) / max(now - last_log_time, 1e-9)
    writer.scalars(step, means)
    history, last_log_time, last_log_step = [], now, step

  def run_eval(step):
    nonlocal last_eval
    result = evaluate(run, step)
    writer.scalars(step, {f"eval/{k}": v for k, v in result.items() if k != "step"})
    if jax.process_index() == 0:
      with open(os.path.join(run.workdir, "eval.json"), "w") as f:
        json.dump(result, f, indent=2)
    last_eval = step

  def save(step):
    nonlocal last_saved
    if last_saved != step:
      ckpts.save(step, state, run.pipeline.iterator, cfg)
      last_saved = step

  try:
    for step in range(start + 1, cfg.num_steps + 1):
      batch = parallel.global_batch(next(run.pipeline), run.mesh)
      state, step_metrics = step_fn(state, batch, run.step_key)
      history.append((step, step_metrics))
      writer.advance()
      for hook in hooks or ():
        hook(step, state)
      at_log_step = step % cfg.log_every == 0 or step == cfg.num_steps
      stop = preemption.should_stop(at_log_step)
      if at_log_step or step % cfg.checkpoint_every == 0 or stop:
        flush(step)
      run.state = state
      if cfg.sample_every and step % cfg.sample_every == 0:
        write_samples(run, step, writer)
      if cfg.eval_every > 0 and step % cfg.eval_every == 0:
        run_eval(step)
      if step % cfg.checkpoint_every == 0 or stop:
        save(step)
      if stop:
        if jax.process_index() == 0:
          print(f"ganjax: stopped by a signal at step {step}; checkpoint saved in {ckpts.directory}; "
                "run the same command again to resume", flush=True)
        break
    flush(int(state.step))
    run.state = state
    if int(state.step) == cfg.num_steps:
      save(cfg.num_steps)
      if cfg.eval_every >= 0 and last_eval != cfg.num_steps:  # every run ends evaluated, unless -1
        run_eval(cfg.num_steps)
  finally:
    ckpts.close()
    writer.close()
  return state


def sample(config, workdir, num: int = 0) -> dict:
  """Writes `samples.png` and `interpolation.png` (or a scatter for 2-D data) from the latest checkpoint."""
  run = Run(config, workdir, need_data_iterator=False)
  if run.restored_step is None:
    from ganjax.errors import CheckpointError

    raise CheckpointError(f"no checkpoint in {run.checkpoints.directory}: train first")
  cfg = run.config
  key = jax.random.fold_in(run.base_key, SAMPLE_KEY)
  samples = run.generate(key, num or cfg.sample.num)
  ref = run.split.train.get(np.arange(min(2000, run.split.train.size)))["image"] if samples.ndim == 2 else None
  paths = {"samples": os.path.join(run.workdir, "samples.png")}
  out_pictures = {"samples": images.render(samples, ref)}
  if samples.ndim == 4:
    from ganjax.algorithms.common import sample_latent

    rows, steps = cfg.sample.interpolation_rows, cfg.sample.interpolation_steps
    ends = sample_latent(jax.random.fold_in(key, 1), 2 * rows, cfg.model)
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    z = (1 - t) * np.asarray(ends[:rows])[:, None] + t * np.asarray(ends[rows:])[:, None]
    strip = run.generate(key, rows * steps, z=z.reshape(rows * steps, -1))
    out_pictures["interpolation"] = images.grid(strip, ncol=steps)
    paths["interpolation"] = os.path.join(run.workdir, "interpolation.png")
  if cfg.sample.get("arithmetic"):  # Radford et al. 2015, Sec. 6.3: mean z of A - B + C
    out_pictures["arithmetic"] = images.grid(latent_arithmetic(run, jax.random.fold_in(key, 3)), ncol=8)
    paths["arithmetic"] = os.path.join(run.workdir, "arithmetic.png")
  if hasattr(run.method, "sample_grids"):  # method-specific pictures: rows per class, traversals, ...
    grids = run.method.sample_grids(run.state, jax.random.fold_in(key, 2), run.split.test)
    for name, (pictures, ncol) in grids.items():
      out_pictures[name] = images.render(parallel.local_copy(pictures), ncol=ncol)
      paths[name] = os.path.join(run.workdir, f"{name}.png")
  if jax.process_index() == 0:
    for k, p in paths.items():
      images.save_png(p, out_pictures[k], upscale=4 if out_pictures[k].shape[0] < 200 else 1)
  run.checkpoints.close()
  return paths


def latent_arithmetic(run: Run, key, pool: int = 2000, members: int = 7, noise: float = 0.25) -> np.ndarray:
  """Vector arithmetic on latents (Radford et al. 2015, Sec. 6.3) for any generator on labelled
  images. `config.sample.arithmetic` = "A,B,C" names three classes; `pool` latents are decoded and
  classified by the dataset classifier, and each class's group is its `members` most confident
  samples. Rows: group A's samples and (last column) the decoding of their mean latent; the same
  for B and C; then the decoding of mean(A) - mean(B) + mean(C), and 7 decodings of it plus
  `noise` * N(0, I). Returns the (4 * 8, ...) images."""
  from ganjax import data as data_lib
  from ganjax.algorithms.common import sample_latent
  from ganjax.errors import ConfigError, GanjaxError

  cfg = run.config
  data_lib.require_labels(run.split.train, "latent arithmetic")
  try:
    groups = [int(v) for v in str(cfg.sample.arithmetic).split(",")]
  except ValueError:
    groups = []
  if len(groups) != 3 or not all(0 <= g < run.split.train.num_classes for g in groups):
    raise ConfigError(f"sample.arithmetic={cfg.sample.arithmetic!r}: give three class labels, e.g. '7,1,3'")
  z = np.asarray(sample_latent(key, pool, cfg.model))
  x = run.generate(key, pool, z=z)
  _, probs = metrics.classifier_for(run.split, cfg)(x)
  means, rows = [], []
  for g in groups:
    conf = np.where(probs.argmax(1) == g, probs[:, g], -1.0)
    idx = np.argsort(-conf)[:members]
    if conf[idx[-1]] < 0:
      raise GanjaxError(f"latent arithmetic: fewer than {members} of {pool} samples are classified as {g}")
    means.append(z[idx].mean(0))
    rows.append(np.concatenate([x[idx], run.generate(key, 1, z=means[-1][None])]))
  result = means[0] - means[1] + means[2]
  jitter = noise * np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (members, z.shape[1])))
  rows.append(run.generate(key, members + 1, z=np.concatenate([result[None], result[None] + jitter])))
  return np.concatenate(rows)


def evaluate_checkpoint(config, workdir) -> dict:
  run = Run(config, workdir, need_data_iterator=False)
  if run.restored_step is None:
    from ganjax.errors import CheckpointError

    raise CheckpointError(f"no checkpoint in {run.checkpoints.directory}: train first")
  result = evaluate(run, run.restored_step)
  if jax.process_index() == 0:
    with open(os.path.join(run.workdir, "eval.json"), "w") as f:
      json.dump(result, f, indent=2)
  run.checkpoints.close()
  return result
