"""A feature network for data without labels: a SimCLR encoder trained on the dataset's own images.

SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual Representations",
Sec. 2.1, Eq. 1): two random augmentations of each image in a batch of N pass through an encoder f
and a projection head g; the NT-Xent loss l(i, j) = -log exp(sim(z_i, z_j) / tau) /
sum_{k != i} exp(sim(z_i, z_k) / tau) (cosine similarity, tau = 0.5) pulls each image's two views
together against the other 2N - 2 views. The metrics use the encoder's output h = f(x) (128-d, after
its ReLU, as the classifier's features), not the projection z. Evaluating GANs in self-supervised
features rather than a supervised classifier's is studied by Morozov et al. 2021 ("On
Self-Supervised Image Representations for GAN Evaluation").

The encoder is the dataset classifier's body (three 3x3 convolutions, 32/64/128 channels, then a
dense layer), so the two feature spaces differ only in what trained them. Augmentations, per image:
a random zoomed crop (scale 1-1.5x, i.e. 44-100% of the area, resampled bilinearly), a horizontal
flip for colour images only (digits and text are not mirror-symmetric), brightness (+-0.2) and
contrast (x0.7-1.3) jitter, and Gaussian noise (sigma 0.05). Trained `steps` Adam steps (1e-3) of
128 images, once per dataset, cached under `<cache>/self_features/<fingerprint>.msgpack` (data shape,
a sample of the images, the settings, and the source of this module and of `classifier.py`, whose
body the encoder is: `classifier.code_fingerprint`). `pair_accuracy` — of 1,000 held-out images, the fraction
whose second view's nearest neighbour among all second views is its own — says how much the
features distinguish images, as the classifier's held-out accuracy does for its features.
"""

from __future__ import annotations

import functools
import hashlib
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import xla
from ganjax.metrics import classifier, sets

FEATURES = classifier.FEATURES
TEMPERATURE = 0.5


class Encoder(nn.Module):
  @nn.compact
  def __call__(self, x):
    return classifier.body(x)


class SimCLR(nn.Module):
  @nn.compact
  def __call__(self, x):
    h = Encoder(name="encoder")(x)
    z = nn.Dense(64)(nn.relu(nn.Dense(FEATURES)(h)))  # the projection head g
    return h, z


def augment(key, images):
  """One random view of each image (NHWC in [-1, 1])."""
  n, height, width, channels = images.shape
  k_scale, k_shift, k_flip, k_bright, k_contrast, k_noise = jax.random.split(key, 6)
  scale = jax.random.uniform(k_scale, (n,), minval=1.0, maxval=1.5)
  shift = jax.random.uniform(k_shift, (n, 2)) * (1.0 - scale[:, None]) * jnp.array([height, width])

  def crop(img, s, t):
    return jax.image.scale_and_translate(img, img.shape, (0, 1), jnp.array([s, s]), t, "linear")

  x = jax.vmap(crop)(images, scale, shift)
  if channels == 3:
    flip = jax.random.bernoulli(k_flip, 0.5, (n, 1, 1, 1))
    x = jnp.where(flip, x[:, :, ::-1], x)
  mean = x.mean(axis=(1, 2, 3), keepdims=True)
  contrast = jax.random.uniform(k_contrast, (n, 1, 1, 1), minval=0.7, maxval=1.3)
  bright = jax.random.uniform(k_bright, (n, 1, 1, 1), minval=-0.2, maxval=0.2)
  x = (x - mean) * contrast + mean + bright + 0.05 * jax.random.normal(k_noise, x.shape)
  return jnp.clip(x, -1.0, 1.0)


def nt_xent(z1, z2, temperature: float = TEMPERATURE):
  """SimCLR's loss, Eq. 1, averaged over all 2N anchors (both orders of each positive pair)."""
  z = jnp.concatenate([z1, z2])
  z = z / jnp.linalg.norm(z, axis=1, keepdims=True).clip(1e-12)
  sim = z @ z.T / temperature
  n = len(z1)
  sim = jnp.where(jnp.eye(2 * n, dtype=bool), -jnp.inf, sim)  # k != i
  positive = jnp.concatenate([jnp.arange(n, 2 * n), jnp.arange(n)])
  return optax.softmax_cross_entropy_with_integer_labels(sim, positive).mean()


def fingerprint(images, steps: int, seed: int) -> str:
  """The encoder's cache key: the data, the settings and the code of the encoder and its training."""
  h = hashlib.sha256()
  h.update(repr((images.shape, str(images.dtype), steps, seed, FEATURES, TEMPERATURE, "simclr-v1",
                 classifier.code_fingerprint(classifier, sys.modules[__name__]))).encode())
  h.update(np.ascontiguousarray(images[:256]).tobytes())
  h.update(np.ascontiguousarray(images[::max(1, len(images) // 256)][:256]).tobytes())
  return h.hexdigest()[:16]


def train(images, steps: int = 2000, batch: int = 128, seed: int = 0, progress: bool = False):
  model = SimCLR()
  params = jax.jit(model.init)(jax.random.key(seed), jnp.asarray(images[:2]))  # = the eager init, bit for bit
  tx = optax.adam(1e-3)
  opt = tx.init(params)

  @functools.partial(jax.jit, compiler_options=xla.full_optimization())
  def step(params, opt, x, key):
    k1, k2 = jax.random.split(key)

    def loss_fn(p):
      return nt_xent(model.apply(p, augment(k1, x))[1], model.apply(p, augment(k2, x))[1])

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt = tx.update(grads, opt, params)
    return optax.apply_updates(params, updates), opt, loss

  rng = np.random.default_rng(seed)
  key = jax.random.key(seed + 1)
  for t in sets.progress_bar(range(steps), "training the self-supervised feature encoder", progress, "step"):
    idx = rng.choice(len(images), min(batch, len(images)), replace=False)
    params, opt, _ = step(params, opt, jnp.asarray(images[idx]), jax.random.fold_in(key, t))
  return params


class SelfFeatures:
  """A trained SimCLR encoder: `features(x)` (B, 128), batched."""

  def __init__(self, params):
    self.params = params
    model = SimCLR()
    self._apply = jax.jit(lambda p, x: model.apply(p, x)[0], compiler_options=xla.full_optimization())
    self._augment = jax.jit(augment)

  def __call__(self, x, batch: int = 500):
    return classifier.batched(lambda b: self._apply(self.params, b), x, batch)

  def pair_accuracy(self, images, n: int = 1000, seed: int = 0) -> float:
    """Of up to n images, the fraction whose second augmented view's nearest neighbour (cosine)
    among all second views is its own."""
    x = jnp.asarray(images[:n])
    k1, k2 = jax.random.split(jax.random.key(seed))
    a, b = self(np.asarray(self._augment(k1, x))), self(np.asarray(self._augment(k2, x)))
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.mean((a @ b.T).argmax(1) == np.arange(len(a))))


def load_or_train(images, cache_dir, steps: int = 2000, seed: int = 0, progress: bool = False) -> SelfFeatures:
  template = jax.eval_shape(SimCLR().init, jax.random.key(0), jnp.asarray(images[:2]))  # shapes only
  return SelfFeatures(classifier.cached_params(cache_dir, "self_features", fingerprint(images, steps, seed), template,
                                               lambda: train(images, steps, seed=seed, progress=progress)))
