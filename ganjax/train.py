"""The loop, and nothing else: the run (`ganjax.run.Run`: mesh -> data -> init (sharded) -> restore)
-> step loop (log, sample, evaluate, save) -> final save. It names no method and reads no method's
config block: what it needs of a method it learns from the method's interface (`ganjax.algorithms`).

`train(config, workdir)` is importable from tests and notebooks; `ganjax.main` is a thin CLI over it.
Per step: one global batch (sharded on the mesh's `data` axis; one sub-batch per stream of
`config.data.streams`) and `train_step(state, batch, key)` with key = fold_in(step_key,
state.step), jitted once with the state donated (once per phase for a method with `phase`).
Metrics stay on the device until a log step, when all of them since the last log are read back at
once, checked for non-finite values (which stops the run before anything bad is saved), averaged
and written. SIGTERM / Ctrl-C: the loop finishes its step, saves, and returns; rerunning resumes
bitwise; during the setup or an evaluation (minutes, when a feature network is trained) the signal
ends that work at once, after the current step's checkpoint is saved. Evaluation is `ganjax.evaluation`, pictures `ganjax.sampling`, XLA settings `ganjax.xla`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Callable, Optional

import jax
import numpy as np

from ganjax import evaluation, parallel, sampling, xla
from ganjax.errors import DivergenceError
from ganjax.run import Run
from ganjax.state import Same, remember
from ganjax.writers import MetricWriter


def phase_of(method, config, step: int):
  """The training phase of the step that starts at `step` (the record's `phase`: e.g. pre-training,
  then adversarial training), or None for a method with one phase."""
  return method.phase(config, step) if method.phase is not None else None


def make_step_fn(method, mesh, state_sharding=None, options: Optional[dict] = None, phase=None):
  """The jitted train step (state donated); `options`: XLA compile options (`ganjax.xla`). A method
  with phases (`phase(config, step)`) gets one program per phase, `train_step(state, batch, key,
  phase)` with the phase a Python value: a phase switch inside one program (`lax.cond`) ran its
  branches 2-5 times slower on XLA:CPU (SeqGAN's D pre-training, TextGAN's adversarial step)."""
  rep, bs = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  ss = rep if state_sharding is None else state_sharding
  leaves, treedef = jax.tree.flatten(ss)
  key = (Same(method), phase, mesh, treedef, tuple(leaves), bs, tuple(sorted((options or {}).items())))

  def step(state, batch, step_key):
    key = jax.random.fold_in(step_key, state.step)
    if phase is not None:
      return method.train_step(state, batch, key, phase)
    return method.train_step(state, batch, key)

  # one jitted function per (method, phase, shardings, options) in a process
  return remember(_STEP_FNS, key, lambda: jax.jit(step, in_shardings=(ss, bs, rep), out_shardings=(ss, rep),
                                                  donate_argnums=0, compiler_options=options))


# The jitted steps made last: a second run of the same config in the process (resuming, a notebook,
# a test session) finds its step traced and compiled (`ganjax.state.ModuleApply`).
_STEP_FNS = {}


class Interrupted(Exception):
  """A signal arrived during work that is not a training step (setup, an evaluation): that work stops."""


class _Preemption:
  """SIGTERM / SIGINT set a flag; the loop saves and exits at the end of the current step. Work that
  is not a step -- building the run (which may train a feature network for a loss), an evaluation
  (which may train one for a metric) -- can take minutes: inside `interruptible()` the signal stops it
  at once instead (one process only: several processes finish it together, as they do a step)."""

  def __init__(self):
    self.requested = False
    self.interruptible_now = False

  @contextlib.contextmanager
  def interruptible(self):
    if jax.process_count() > 1:
      yield
      return
    if self.requested:
      raise Interrupted
    self.interruptible_now = True
    try:
      yield
    finally:
      self.interruptible_now = False

  @contextlib.contextmanager
  def installed(self):
    def handler(signum, frame):
      if self.requested and signum == signal.SIGINT:  # a second Ctrl-C: stop now
        raise KeyboardInterrupt
      self.requested = True
      if self.interruptible_now:
        self.interruptible_now = False
        raise Interrupted

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


def train(config, workdir, hooks: Optional[list[Callable]] = None):
  """Trains (or resumes) in `workdir`; returns the final state. `hooks` are called as hook(step, state)
  after every step (tests use them, e.g. to send a signal at a chosen step)."""
  preemption = _Preemption()
  with preemption.installed():  # from the start: a signal during setup or compilation is honoured too
    return _train(config, workdir, hooks, preemption)


def _train(config, workdir, hooks, preemption):
  try:
    with preemption.interruptible():
      run = Run(config, workdir)
  except Interrupted:
    if jax.process_index() == 0:
      print("ganjax: stopped by a signal before the first step; nothing new to save; run the same command "
            "again to start", flush=True)
    return None
  cfg = run.config
  state, ckpts = run.state, run.checkpoints
  start = int(state.step)
  os.makedirs(run.workdir, exist_ok=True)
  if jax.process_index() == 0:
    with open(os.path.join(run.workdir, "config.json"), "w") as f:
      f.write(cfg.to_json_best_effort(indent=2))
  writer = MetricWriter(run.workdir, start, cfg.num_steps, cfg.progress)
  step_fns = {}  # one jitted program per phase of the method (one for most methods)

  def step_fn(state, batch, step_key, step):
    phase = phase_of(run.method, cfg, step - 1)
    if phase not in step_fns:
      step_fns[phase] = make_step_fn(run.method, run.mesh, run.state_sharding, xla.compiler_options(cfg), phase)
    return step_fns[phase](state, batch, step_key)

  history, last_saved, last_log_time = [], ckpts.latest_step(), time.perf_counter()
  last_log_step, last_eval = start, None
  # this process's training wall time (compilation included; evaluations, samples and checkpoints
  # not): eval.json's `train_seconds`, the x axis of a time-to-quality curve
  train_seconds, resumed_at = 0.0, time.perf_counter()

  def flush(step):
    nonlocal history, last_log_time, last_log_step
    if not history:
      return
    host = jax.device_get(history)
    check_finite(host, last_saved, ckpts.directory)
    # each metric's mean over the steps that report it: a method's phases report their own metrics
    keys = dict.fromkeys(k for _, values in host for k in values)
    means = {k: float(np.mean([values[k] for _, values in host if k in values])) for k in keys}
    now = time.perf_counter()
    means["steps_per_sec"] = (step - last_log_step) / max(now - last_log_time, 1e-9)
    writer.scalars(step, means)
    history, last_log_time, last_log_step = [], now, step

  def paused():  # stop the training clock (after the device has finished the queued steps)
    nonlocal train_seconds
    jax.block_until_ready(state)
    train_seconds += time.perf_counter() - resumed_at

  def resumed():
    nonlocal resumed_at
    resumed_at = time.perf_counter()

  def run_eval(step):
    nonlocal last_eval
    with preemption.interruptible():
      result = {**evaluation.evaluate(run, step), "train_seconds": round(train_seconds, 1)}
    writer.scalars(step, {f"eval/{k}": v for k, v in result.items() if k != "step" and not isinstance(v, str)})
    evaluation.write_json(run, result)
    last_eval = step

  def save(step):
    nonlocal last_saved
    if last_saved != step:
      ckpts.save(step, state, run.iterators(), cfg)
      last_saved = step

  try:
    for step in range(start + 1, cfg.num_steps + 1):
      batch = run.next_batch()
      state, step_metrics = step_fn(state, batch, run.step_key, step)
      history.append((step, step_metrics))
      writer.advance()
      for hook in hooks or ():
        hook(step, state)
      at_log_step = step % cfg.log_every == 0 or step == cfg.num_steps
      stop = preemption.should_stop(at_log_step)
      if at_log_step or step % cfg.checkpoint_every == 0 or stop:
        flush(step)
      run.state = state
      sample_now = cfg.sample_every and step % cfg.sample_every == 0 and (run.generate_fn or run.translate_fn) is not None
      eval_now = cfg.eval_every > 0 and step % cfg.eval_every == 0 and step >= cfg.eval_start
      save_now = step % cfg.checkpoint_every == 0 or stop
      if sample_now or eval_now or save_now:
        paused()
      if sample_now:
        sampling.write_samples(run, step, writer)
      if eval_now:
        try:
          run_eval(step)
        except Interrupted:
          stop = save_now = True
      if save_now:
        save(step)
      if sample_now or eval_now or save_now:
        resumed()
      if stop:
        if jax.process_index() == 0:
          print(f"ganjax: stopped by a signal at step {step}; checkpoint saved in {ckpts.directory}; "
                "run the same command again to resume", flush=True)
        break
    flush(int(state.step))
    run.state = state
    paused()
    if int(state.step) == cfg.num_steps:
      save(cfg.num_steps)
      if cfg.eval_every >= 0 and last_eval != cfg.num_steps:  # every run ends evaluated, unless -1
        try:
          run_eval(cfg.num_steps)
        except Interrupted:
          if jax.process_index() == 0:
            print(f"ganjax: stopped by a signal during the final evaluation; checkpoint {cfg.num_steps} saved in "
                  f"{ckpts.directory}; --mode=eval evaluates it", flush=True)
  finally:
    ckpts.close()
    writer.close()
  return state

