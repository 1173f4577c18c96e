"""The dataset classifier whose features and class probabilities the quality metrics use.

A small CNN (or an MLP for vector data) trained on the training split's labels, once per dataset,
and cached under `<cache>/classifiers/<fingerprint>.msgpack`; the fingerprint covers the data
(shape, size, a hash of the first images and of the labels), the training settings (steps, seed,
width) and the code: a hash of the source of the modules that define and train the network
(`code_fingerprint`), so neither a changed dataset nor a changed network or training loop reuses a
stale classifier. Its held-out accuracy is reported with every evaluation so a reader can judge the
feature space.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import sys

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import xla
from ganjax.metrics import sets

FEATURES = 128


def body(x):
  """The feature body of both trained feature networks (the classifier, the SimCLR encoder): three
  3x3 convolutions (32/64/128, strides 1/2/2) or a 256-unit layer for vectors, then FEATURES ReLU
  units. Call it inside an `nn.compact` method: its layers belong to the caller."""
  if x.ndim == 4:
    h = x
    for ch, stride in ((32, 1), (64, 2), (128, 2)):
      h = nn.relu(nn.Conv(ch, (3, 3), (stride, stride), padding="SAME")(h))
    h = h.reshape((h.shape[0], -1))
  else:
    h = nn.relu(nn.Dense(256)(x.reshape((x.shape[0], -1))))
  return nn.relu(nn.Dense(FEATURES)(h))


class Classifier(nn.Module):
  num_classes: int

  @nn.compact
  def __call__(self, x):
    features = body(x)
    return features, nn.Dense(self.num_classes)(features)


def _source(module) -> bytes:
  return pathlib.Path(module.__file__).read_bytes()


def code_fingerprint(*modules) -> str:
  """A hash of the source files of `modules` (those that define and train a cached network): part of
  every cache key, so that weights trained by older code are never reused."""
  h = hashlib.sha256()
  for m in modules:
    h.update(m.__name__.encode() + b"\0" + _source(m) + b"\0")
  return h.hexdigest()[:16]


def fingerprint(images, labels, num_classes: int, steps: int, seed: int) -> str:
  """The classifier's cache key: the data, the settings and this module's code."""
  h = hashlib.sha256()
  h.update(repr((images.shape, str(images.dtype), num_classes, steps, seed, FEATURES, "v2",
                 code_fingerprint(sys.modules[__name__]))).encode())
  h.update(np.ascontiguousarray(images[:256]).tobytes())
  h.update(np.ascontiguousarray(labels).tobytes())
  return h.hexdigest()[:16]


def train_classifier(images, labels, num_classes: int, steps: int = 2000, batch: int = 128, seed: int = 0,
                     progress: bool = False):
  model = Classifier(num_classes)
  params = jax.jit(model.init)(jax.random.key(seed), jnp.asarray(images[:2]))  # = the eager init, bit for bit
  tx = optax.adam(1e-3)
  opt = tx.init(params)

  @functools.partial(jax.jit, compiler_options=xla.full_optimization())
  def step(params, opt, x, y):
    def loss_fn(p):
      return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x)[1], y).mean()

    grads = jax.grad(loss_fn)(params)
    updates, opt = tx.update(grads, opt, params)
    return optax.apply_updates(params, updates), opt

  rng = np.random.default_rng(seed)
  for _ in sets.progress_bar(range(steps), "training the feature classifier", progress, "step"):
    idx = rng.integers(0, len(images), min(batch, len(images)))
    params, opt = step(params, opt, jnp.asarray(images[idx]), jnp.asarray(labels[idx]))
  return params


def batched(apply, x, batch: int = 500):
  """apply(rows) over x in chunks of `batch` rows, the last one zero-padded, so that a jitted
  `apply` compiles once whatever len(x) is; outputs (an array or a tuple of arrays) concatenated."""
  outs = []
  for i in range(0, len(x), batch):
    chunk = np.asarray(x[i:i + batch])
    n = len(chunk)
    size = batch if len(x) > batch else max(8, 1 << (len(x) - 1).bit_length())  # small sets: a power of 2
    padded = np.concatenate([chunk, np.zeros((size - n, *chunk.shape[1:]), chunk.dtype)]) if size > n else chunk
    out = apply(jnp.asarray(padded))
    outs.append(tuple(np.asarray(o)[:n] for o in out) if isinstance(out, tuple) else np.asarray(out)[:n])
  if isinstance(outs[0], tuple):
    return tuple(np.concatenate(parts) for parts in zip(*outs))
  return np.concatenate(outs)


class FeatureNet:
  """A trained classifier: `features(x)` (B, 128) and `probs(x)` (B, num_classes), batched."""

  def __init__(self, params, num_classes: int):
    self.params, self.num_classes = params, num_classes
    model = Classifier(num_classes)
    self._apply = jax.jit(lambda p, x: (lambda f, l: (f, jax.nn.softmax(l)))(*model.apply(p, x)),
                          compiler_options=xla.full_optimization())

  def __call__(self, x, batch: int = 500):
    return batched(lambda b: self._apply(self.params, b), x, batch)

  def accuracy(self, images, labels) -> float:
    return float((self(images)[1].argmax(1) == np.asarray(labels)).mean())


def cached_params(cache_dir, kind: str, key: str, template, train_fn):
  """Parameters cached under `<cache_dir>/<kind>/<key>.msgpack`, or `train_fn()` written there
  atomically; a corrupt cache entry is retrained, never trusted."""
  path = os.path.join(os.path.expanduser(str(cache_dir)), kind, f"{key}.msgpack")
  if os.path.exists(path):
    try:
      with open(path, "rb") as f:
        return flax.serialization.from_bytes(template, f.read())
    except Exception:
      pass
  params = train_fn()
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = path + f".tmp{os.getpid()}"
  with open(tmp, "wb") as f:
    f.write(flax.serialization.to_bytes(params))
  os.replace(tmp, path)
  return params


def load_or_train(images, labels, num_classes: int, cache_dir, steps: int = 2000, seed: int = 0,
                  progress: bool = False) -> FeatureNet:
  template = jax.eval_shape(Classifier(num_classes).init, jax.random.key(0), jnp.asarray(images[:2]))  # shapes only
  params = cached_params(cache_dir, "classifiers", fingerprint(images, labels, num_classes, steps, seed), template,
                         lambda: train_classifier(images, labels, num_classes, steps, seed=seed, progress=progress))
  return FeatureNet(params, num_classes)
