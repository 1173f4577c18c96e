"""Evaluation of a run's state: `evaluate(run, step)` (the loop's evaluation, eval.json) and
`evaluate_checkpoint(config, workdir)` (`--mode=eval`). Which metrics apply is decided by the
parts of the method's record (`ganjax.algorithms.Method`) and the data (`ganjax.metrics`), never by name."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

import jax
import numpy as np

from ganjax import images, metrics, parallel
from ganjax.algorithms import adaptation
from ganjax.data.derived import bicubic
from ganjax.errors import CheckpointError
from ganjax.metrics.translation import cycle_error
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


def _samples(run, key):
  """(eval.num_samples samples, the labels a conditional generator was asked for, or None)."""
  n = run.config.eval.num_samples
  if run.generate_labeled_fn is not None:  # conditional generators: also score the requested classes
    return run.generate_labeled(key, n)
  return run.generate(key, n), None


def evaluate(run, step: int) -> dict:
  """Every metric that applies to the run's method and data (`ganjax.metrics`), as a flat dict;
  a progress line per stage when `config.progress`, and each stage's seconds under `seconds/`."""
  cfg = run.config
  key = jax.random.fold_in(jax.random.fold_in(run.base_key, EVAL_KEY), step)
  out = {"step": int(step)}
  stages = _Stages(cfg.progress and jax.process_index() == 0, out)
  spec = run.split.train.element_spec
  if run.generate_fn is None or not ("image" in spec or "tokens" in spec) or cfg.eval.num_samples == 0:
    samples = None  # eval.num_samples = 0: only the method's own metrics (e.g. a time-to-accuracy curve)
  else:
    with stages("samples"):
      samples, labels = _samples(run, key)
  if samples is not None and "tokens" in spec:  # token sequences: oracle NLL, grammar validity, BLEU
    with stages("sequence quality"):
      out.update(metrics.sequence_quality(samples, run.split, cfg))
    samples = None
  if samples is not None:
    with stages("sample quality"):
      out.update(metrics.sample_quality(samples, run.split, cfg, labels, progress=stages.show))
  if samples is not None and samples.ndim == 4 and jax.process_index() == 0:  # the overfitting test's picture
    train_images = run.split.train.get(np.arange(min(20_000, run.split.train.size)))["image"]
    _, nearest = metrics.sets.nearest_neighbour_distances(samples[:10], train_images)
    pairs = np.stack([samples[:10], train_images[nearest]], axis=1).reshape((-1, *samples.shape[1:]))
    images.save_png(os.path.join(run.workdir, "nearest_neighbours.png"), images.grid(pairs, ncol=2), upscale=4)
  if run.predict_fn is not None:
    for prefix, test, image_key in prediction_sets(run):
      stages.start("class predictions")
      preds, truth = [], []
      for i in range(0, test.size, cfg.eval.batch_size):
        batch = test.get(np.arange(i, min(test.size, i + cfg.eval.batch_size)))
        preds.append(parallel.local_copy(run.predict_fn(run.state, batch[image_key])))
        truth.append(batch["label"])
      name, value = metrics.class_accuracy(np.concatenate(preds), np.concatenate(truth), run.method.classifier.matching)
      out[prefix + name] = value
  if run.encode_fn is not None and run.split.train.has_labels:  # linear probes on E(x) and on pixels
    stages.start("linear probes")
    train = run.split.train.get(np.arange(min(5000, run.split.train.size)))
    test = run.split.test.get(np.arange(run.split.test.size))
    code = lambda x: np.concatenate([parallel.local_copy(run.encode_fn(run.state, x[i:i + 500]))  # noqa: E731
                                     for i in range(0, len(x), 500)])
    train_code, test_code = code(train["image"]), code(test["image"])
    out["linear_probe/latent_accuracy"] = metrics.linear_probe(train_code, train["label"], test_code, test["label"])
    out["linear_probe/pixel_accuracy"] = metrics.linear_probe(train["image"], train["label"], test["image"], test["label"])
    # BiGAN's own measure of E(x): the 1-nearest-neighbour classifier, on the codes and on pixels
    out["nearest_neighbour/latent_accuracy"] = metrics.nearest_neighbour_accuracy(train_code, train["label"], test_code,
                                                                                   test["label"])
    out["nearest_neighbour/pixel_accuracy"] = metrics.nearest_neighbour_accuracy(train["image"], train["label"],
                                                                                  test["image"], test["label"])
    if run.reconstruct_fn is not None and test["image"].ndim == 4:  # do reconstructions G(E(x)) keep the class?
      stages.start("reconstructions")
      rec = np.concatenate([parallel.local_copy(run.reconstruct_fn(run.state, test["image"][i:i + 500]))
                            for i in range(0, len(test["image"]), 500)])
      classify = metrics.classifier_for(run.split, cfg, stages.show)
      out["reconstruction/class_accuracy"] = float(np.mean(classify(rec)[1].argmax(1) == test["label"]))
      out["reconstruction/class_accuracy_real"] = float(np.mean(classify(test["image"])[1].argmax(1) == test["label"]))
  if run.translate_fn is not None:  # image-to-image: A -> B (and B -> A), against the truth where there is one
    stages.start("translations")
    out.update(translation_metrics(run, key, stages.show))
  if run.evaluate_fn is not None:
    stages.start("held-out metrics")
    test = run.split.test
    data_key = "tokens" if "tokens" in test.element_spec else "image"
    sums, count = {}, 0
    for i in range(0, test.size, cfg.eval.batch_size):
      batch = test.get(np.arange(i, min(test.size, i + cfg.eval.batch_size)))
      per_example = parallel.local_copy(run.evaluate_fn(run.state, batch[data_key], jax.random.fold_in(key, i)))
      for k, v in per_example.items():
        sums[k] = sums.get(k, 0.0) + float(np.sum(np.asarray(v), dtype=np.float64))
      count += len(batch[data_key])
    out.update({f"test/{k}": v / count for k, v in sums.items()})
  stages.close()
  return out


def prediction_sets(run):
  """[(metric prefix, held-out Source, image key)] a method's class predictions are scored on: the
  held-out images of the one stream, or each stream's own domain in a domain-adaptation run
  (`source/`, `target/`: `ganjax.algorithms.adaptation`)."""
  sets = adaptation.prediction_sets(run)
  if sets or not run.split.test.has_labels or "image" not in run.split.test.element_spec:
    return sets
  return [("", run.split.test, "image")]


def side_split(run, side: str):
  """(split, key): the first stream whose rows hold domain `side` ("a" or "b": one paired stream
  holds both), else the stream named `side` (or, for a domain-adaptation run, "source" for a and
  "target" for b) when its rows are single-domain "image"s; or None."""
  for split in run.splits.values():
    if side in split.test.element_spec:
      return split, side
  split = run.splits.get(side, run.splits.get({"a": "source", "b": "target"}[side]))  # or a DA run's stream
  if split is not None and "image" in split.test.element_spec:
    return split, "image"
  return None


def translation_metrics(run, key, progress: bool = False) -> dict:
  """`ganjax.metrics.translation` for A -> B (`translate`) and, where the method has it, B -> A
  (`translate_back`), each with the cycle-reconstruction error when the method translates back;
  for super-resolution (paired, smaller inputs) also bicubic upsampling's (`translation_bicubic/*`),
  the baseline of Ledig et al.'s Table 2."""
  cfg, out = run.config, {}
  directions = [("translation", run.translate_fn, run.translate_back_fn, "a", "b")]
  if run.translate_back_fn is not None:
    directions.append(("translation_ba", run.translate_back_fn, run.translate_fn, "b", "a"))
  for prefix, forward, back, src, dst in directions:
    source, target = side_split(run, src), side_split(run, dst)
    if source is None or target is None:
      continue
    (source, src_key), (target, dst_key) = source, target
    rows = source.test.get(np.arange(min(source.test.size, cfg.eval.num_samples)))
    apply = lambda fn, x, salt: np.concatenate([  # noqa: E731
        parallel.local_copy(fn(run.state, x[i:i + cfg.eval.batch_size], jax.random.fold_in(key, salt + i)))
        for i in range(0, len(x), cfg.eval.batch_size)])
    outputs = apply(forward, rows[src_key], 0 if src == "a" else 1 << 20)
    paired = dst in rows  # the rows hold their partners: a ground truth
    target_name = cfg.data.streams.get(dst, "") if cfg.data.streams else cfg.data.name
    out.update(metrics.translation_quality(
        outputs, target, cfg, side=dst_key, prefix=prefix, truth=rows[dst] if paired else None,
        labels=rows.get("label"), target_name=target_name, progress=progress))
    if paired and src == "a" and rows[src_key].shape[1] < outputs.shape[1]:  # super-resolution's baseline
      out.update(metrics.translation_quality(
          bicubic(rows[src_key], *outputs.shape[1:3]), target, cfg, side=dst_key, prefix="translation_bicubic",
          truth=rows[dst], labels=rows.get("label"), target_name=target_name, progress=progress))
    if back is not None:
      out[f"{prefix}/cycle_l1"] = cycle_error(apply(back, outputs, 2 << 20), rows[src_key])
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
