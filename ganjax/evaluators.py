"""The evaluators: each says when it applies to a run -- by the parts of the method's record
(`ganjax.algorithms.Method`) and the kind of its data (`ganjax.data.KINDS`), never by a method's or a
dataset's name -- and what it measures. `ganjax.evaluation.evaluate` runs, in order, every one that
applies; a new capability or a new kind of data adds an evaluator to `EVALUATORS`, not a branch.

  samples            images: FID, KID, precision/recall, ... in a feature space (`metrics.sample_quality`)
  modes              points: the 2-D mixtures' mode metrics (`metrics.modes`)
  sequences          tokens: oracle NLL, grammar validity, BLEU (`metrics.sequences`)
  nearest neighbours images: the overfitting test's picture, nearest_neighbours.png
  class predictions  a Classifier: accuracy on held-out labels, each domain's for two streams
  probes             an Encoder on labelled data: linear and 1-NN probes on the codes and on the rows
  reconstructions    Encoder.reconstruct on labelled images: do G(E(x)) keep the class?
  translations       a Translator: `metrics.translation` each way, against the truth where there is one
  held-out metrics   Method.evaluate: per-example metrics averaged over the held-out rows (test/...)
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from typing import Callable

import jax
import numpy as np

from ganjax import images, metrics, parallel
from ganjax.data import side_key
from ganjax.data.derived import bicubic
from ganjax.metrics.translation import cycle_error, mixture_mapping


@dataclasses.dataclass(frozen=True)
class Evaluator:
  stage: str  # the progress line's name; its time is eval.json's seconds/<stage>
  applies: Callable  # (run) -> bool
  measure: Callable  # (Context) -> {metric: value}


class Context:
  """What the evaluators of one evaluation share: the run, its evaluation key, whether to show
  progress, and the generator's samples, drawn once for every evaluator that reads them."""

  def __init__(self, run, key, progress: bool):
    self.run, self.key, self.progress = run, key, progress
    self.seconds = {}  # the shared work's own times: eval.json's seconds/<name>

  @functools.cached_property
  def samples(self):
    """(eval.num_samples samples, the labels a conditional generator was asked for, or None)."""
    run, n, started = self.run, self.run.config.eval.num_samples, time.perf_counter()
    if run.generate_labeled_fn is not None:  # conditional generators: also score the requested classes
      out = run.generate_labeled(self.key, n)
    else:
      out = run.generate(self.key, n), None
    self.seconds["samples"] = round(time.perf_counter() - started, 3)
    return out


def _batches(fn, x, size: int):
  return np.concatenate([parallel.local_copy(fn(x[i:i + size])) for i in range(0, len(x), size)])


def _draws(kind: str):
  def applies(run):
    return run.generate_fn is not None and run.config.eval.num_samples > 0 and run.split.train.kind == kind
  return applies


def _sample_quality(ctx):
  samples, labels = ctx.samples
  return metrics.sample_quality(samples, ctx.run.split, ctx.run.config, labels, progress=ctx.progress)


def _modes(ctx):
  return metrics.modes.mode_metrics(ctx.samples[0], ctx.run.config.data.name, ctx.run.config.data.mixture_std)


def _sequences(ctx):
  return metrics.sequence_quality(ctx.samples[0], ctx.run.split, ctx.run.config)


def _nearest_neighbours(ctx):
  """The 10 first samples beside their nearest training images (process 0 writes the picture)."""
  run, samples = ctx.run, ctx.samples[0]
  if jax.process_index() == 0:
    train = run.split.train.get(np.arange(min(20_000, run.split.train.size)))["image"]
    _, nearest = metrics.sets.nearest_neighbour_distances(samples[:10], train)
    pairs = np.stack([samples[:10], train[nearest]], axis=1).reshape((-1, *samples.shape[1:]))
    images.save_png(os.path.join(run.workdir, "nearest_neighbours.png"), images.grid(pairs, ncol=2), upscale=4)
  return {}


def prediction_sets(run):
  """[(metric prefix, held-out Source, row key)] a method's class predictions are scored on: the
  held-out labelled rows of the one stream, or each of `Classifier.streams`' own domain (A, then B)."""
  streams = run.method.classifier.streams
  if not streams:
    test = run.split.test
    return [("", test, test.key)] if test.has_labels and test.key is not None else []
  out = []
  for stream, side in zip(streams, ("a", "b")):
    test = run.splits[stream].test
    if test.has_labels:
      out.append((f"{stream}/", test, side_key(test, side)))
  return out


def _class_predictions(ctx):
  run, out, size = ctx.run, {}, ctx.run.config.eval.batch_size
  for prefix, test, key in prediction_sets(run):
    rows = test.get(np.arange(test.size))
    preds = _batches(lambda x: run.predict_fn(run.state, x), rows[key], size)
    name, value = metrics.class_accuracy(preds, rows["label"], run.method.classifier.matching)
    out[prefix + name] = value
  return out


def _labelled_rows(run):
  return run.split.train.has_labels and run.split.train.key is not None


def _labelled_images(run):
  return run.split.train.has_labels and run.split.train.kind == "images"


def _probes(ctx):
  """Linear probes and BiGAN's 1-nearest-neighbour classifier on the codes E(x) and on the rows
  themselves (`pixel_accuracy`)."""
  run, key = ctx.run, ctx.run.split.train.key
  train = run.split.train.get(np.arange(min(5000, run.split.train.size)))
  test = run.split.test.get(np.arange(run.split.test.size))
  code = lambda x: _batches(lambda b: run.encode_fn(run.state, b), x, 500)  # noqa: E731
  out = {}
  for name, (a, b) in {"latent": (code(train[key]), code(test[key])), "pixel": (train[key], test[key])}.items():
    out[f"linear_probe/{name}_accuracy"] = metrics.linear_probe(a, train["label"], b, test["label"])
    out[f"nearest_neighbour/{name}_accuracy"] = metrics.nearest_neighbour_accuracy(a, train["label"], b, test["label"])
  return out


def _reconstructions(ctx):
  """The dataset classifier's accuracy on G(E(x)) of the held-out images, and on the images themselves."""
  run = ctx.run
  test = run.split.test.get(np.arange(run.split.test.size))
  rec = _batches(lambda b: run.reconstruct_fn(run.state, b), test["image"], 500)
  classify = metrics.classifier_for(run.split, run.config, ctx.progress)
  return {"reconstruction/class_accuracy": float(np.mean(classify(rec)[1].argmax(1) == test["label"])),
          "reconstruction/class_accuracy_real": float(np.mean(classify(test["image"])[1].argmax(1) == test["label"]))}


def domain_split(run, side: str):
  """(Split, row key) of domain `side` ("a" or "b") of a translation run: the one stream of pairs
  holds both; two streams (`Translator.streams`) give one each; None where the run has no such domain."""
  if run.single:
    return (run.split, side) if run.split.test.paired else None
  stream = run.method.translator.streams[("a", "b").index(side)]
  split = run.splits.get(stream)
  return None if split is None else (split, side_key(split.test, side))


def _translations(ctx):
  """`metrics.translation` for A -> B (`translate`) and, where the method has it, B -> A
  (`translate_back`), each with the cycle-reconstruction error when the method translates back; for
  super-resolution (paired, smaller inputs) also bicubic upsampling's (`translation_bicubic/*`), the
  baseline of Ledig et al.'s Table 2; a map into a 2-D mixture gets the mixture's mode metrics."""
  run, key, cfg, out = ctx.run, ctx.key, ctx.run.config, {}
  directions = [("translation", run.translate_fn, run.translate_back_fn, "a", "b")]
  if run.translate_back_fn is not None:
    directions.append(("translation_ba", run.translate_back_fn, run.translate_fn, "b", "a"))
  for prefix, forward, back, src, dst in directions:
    source, target = domain_split(run, src), domain_split(run, dst)
    if source is None or target is None:
      continue
    (source, src_key), (target, dst_key) = source, target
    rows = source.test.get(np.arange(min(source.test.size, cfg.eval.num_samples)))
    apply = lambda fn, x, salt: np.concatenate([  # noqa: E731
        parallel.local_copy(fn(run.state, x[i:i + cfg.eval.batch_size], jax.random.fold_in(key, salt + i)))
        for i in range(0, len(x), cfg.eval.batch_size)])
    outputs = apply(forward, rows[src_key], 0 if src == "a" else 1 << 20)
    if target.train.kind == "points":
      name = cfg.data.streams.get(dst, "") if cfg.data.streams else cfg.data.name
      out.update({f"{prefix}/{k}": v for k, v in
                  mixture_mapping(outputs, name, rows.get("label"), cfg.data.mixture_std).items()})
    else:
      paired = source.test.paired  # the rows hold their partners: a ground truth
      out.update(metrics.translation_quality(
          outputs, target, cfg, side=dst_key, prefix=prefix, truth=rows[dst] if paired else None,
          labels=rows.get("label"), progress=ctx.progress))
      if paired and src == "a" and rows[src_key].shape[1] < outputs.shape[1]:  # super-resolution's baseline
        out.update(metrics.translation_quality(
            bicubic(rows[src_key], *outputs.shape[1:3]), target, cfg, side=dst_key, prefix="translation_bicubic",
            truth=rows[dst], labels=rows.get("label"), progress=ctx.progress))
    if back is not None:
      out[f"{prefix}/cycle_l1"] = cycle_error(apply(back, outputs, 2 << 20), rows[src_key])
  return out


def _held_out(ctx):
  """Method.evaluate's per-example metrics, averaged over the held-out rows: test/<name>."""
  run, test, size = ctx.run, ctx.run.split.test, ctx.run.config.eval.batch_size
  sums, count = {}, 0
  for i in range(0, test.size, size):
    x = test.get(np.arange(i, min(test.size, i + size)))[test.key]
    per_example = parallel.local_copy(run.evaluate_fn(run.state, x, jax.random.fold_in(ctx.key, i)))
    for k, v in per_example.items():
      sums[k] = sums.get(k, 0.0) + float(np.sum(np.asarray(v), dtype=np.float64))
    count += len(x)
  return {f"test/{k}": v / count for k, v in sums.items()}


EVALUATORS = (
    Evaluator("sample quality", _draws("images"), _sample_quality),
    Evaluator("modes", _draws("points"), _modes),
    Evaluator("sequence quality", _draws("tokens"), _sequences),
    Evaluator("nearest neighbours", _draws("images"), _nearest_neighbours),
    Evaluator("class predictions", lambda run: run.predict_fn is not None and bool(prediction_sets(run)),
              _class_predictions),
    Evaluator("linear probes", lambda run: run.encode_fn is not None and _labelled_rows(run), _probes),
    Evaluator("reconstructions", lambda run: run.reconstruct_fn is not None and _labelled_images(run),
              _reconstructions),
    Evaluator("translations", lambda run: run.translate_fn is not None, _translations),
    Evaluator("held-out metrics", lambda run: run.evaluate_fn is not None, _held_out),
)
