"""Evaluation of a run's state: `evaluate(run, step)` (the loop's evaluation, eval.json) and
`evaluate_checkpoint(config, workdir)` (`--mode=eval`): a loop over `ganjax.evaluators`, each of
which says when it applies (the parts of the method's record, the kind of the data) and what it
measures."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

import jax

from ganjax import evaluators
from ganjax.errors import CheckpointError
from ganjax.run import Run
from ganjax.state import EVAL_KEY


class _Stages:
  """A one-line progress report per evaluation stage (stderr) and each stage's wall time in
  `out["seconds/<stage>"]`."""

  def __init__(self, show: bool, out: dict):
    self.show, self.out, self.current, self.t0 = show, out, None, time.perf_counter()

  def start(self, name: str):
    self.close()
    self.current, self.t0 = name, time.perf_counter()
    if self.show:
      print(f"ganjax: evaluating: {name} ...", file=sys.stderr, flush=True)

  def close(self):
    if self.current is not None:
      seconds = time.perf_counter() - self.t0
      self.out[f"seconds/{self.current.replace(' ', '_')}"] = round(seconds, 3)
      if self.show:
        print(f"ganjax: evaluating: {self.current} done in {seconds:.1f} s", file=sys.stderr, flush=True)
    self.current = None

  @contextlib.contextmanager
  def __call__(self, name: str):
    self.start(name)
    yield
    self.close()


def evaluate(run, step: int) -> dict:
  """Every evaluator that applies to the run's method and data (`ganjax.evaluators.EVALUATORS`), as
  a flat dict; a progress line per evaluator when `config.progress`, and each one's seconds under
  `seconds/`."""
  key = jax.random.fold_in(jax.random.fold_in(run.base_key, EVAL_KEY), step)
  out = {"step": int(step)}
  stages = _Stages(run.config.progress and jax.process_index() == 0, out)
  context = evaluators.Context(run, key, stages.show)
  for evaluator in evaluators.EVALUATORS:
    if evaluator.applies(run):
      with stages(evaluator.stage):
        out.update(evaluator.measure(context))
  out.update({f"seconds/{k}": v for k, v in context.seconds.items()})
  return out


def evaluate_checkpoint(config, workdir) -> dict:
  run = Run(config, workdir, need_data_iterator=False)
  if run.restored_step is None:
    raise CheckpointError(f"no checkpoint in {run.checkpoints.directory}: train first")
  result = evaluate(run, run.restored_step)
  write_json(run, result)
  run.checkpoints.close()
  return result


def write_json(run, result: dict):
  if jax.process_index() == 0:
    with open(os.path.join(run.workdir, "eval.json"), "w") as f:
      json.dump(result, f, indent=2)
