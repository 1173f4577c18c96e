"""Fixed feature networks phi for the content, perceptual and texture losses (SRGAN, EnhanceNet,
CartoonGAN), chosen by a method's `perceptual` config block:

  network = "vgg19"       the papers' VGG-19 from ImageNet weights the user converted
                          (`perceptual.vgg19_weights`, `ganjax.networks.vgg`); layers relu1_1 ... relu5_4
  network = "classifier"  ganjax's own: the metrics' classifier architecture (`ganjax.metrics.classifier`)
                          trained on the training images' labels with `perceptual.seed` (1: not the
                          evaluation's classifier, seed 0, which then scores the results)
  network = "self"        ganjax's own for unlabelled images: the SimCLR encoder of
                          `ganjax.metrics.selfsup`, trained on the training images with `perceptual.seed`
  layers of the own networks: conv1, conv2, conv3 (3x3 convolutions after ReLU, strides 1 / 2 / 2)

Both own networks are trained once per dataset and cached like the metrics' networks. `prepare`
returns phi's parameters (a method keeps them in its state's extras, frozen); `activations` is the
pure function a train step differentiates through.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from ganjax.data.fetch import default_cache_dir
from ganjax.errors import ConfigError, choose
from ganjax.metrics import classifier, selfsup
from ganjax.networks import vgg

OWN_LAYERS = ("conv1", "conv2", "conv3")
NETWORKS = ("vgg19", "classifier", "self")


def block():
  """The `perceptual` config block (defaults: ganjax's own classifier, its deepest convolution)."""
  p = ml_collections.ConfigDict()
  p.network = "classifier"  # vgg19 | classifier | self
  p.vgg19_weights = ""  # the .npz of `python -m ganjax.networks.vgg --convert=...` (network=vgg19)
  p.steps = 2000  # training steps of the own networks (cached per dataset)
  p.seed = 1  # their seed: not the evaluation classifier's (0)
  return p


def check(p, layers):
  choose("perceptual.network", p.network, {n: n for n in NETWORKS})
  if p.network == "vgg19":
    if not p.vgg19_weights:
      raise ConfigError("perceptual.network=vgg19 needs perceptual.vgg19_weights (an .npz from "
                        "`python -m ganjax.networks.vgg --convert=vgg19.pth --out=vgg19.npz`); offline, use "
                        "perceptual.network=classifier or self")
    names = [n for n, _, _ in vgg.layers()]
  else:
    names = list(OWN_LAYERS)
  bad = [name for name in layers if name not in names]
  if bad:
    raise ConfigError(f"perceptual.network={p.network} has no layer {bad[0]!r}; its layers: {', '.join(names)}")


def prepare(p, images, labels=None, num_classes: int = 0, cache_dir: str = "", progress: bool = False) -> dict:
  """phi's parameters: loaded (vgg19), or the own network trained on `images` (cached; minutes the
  first time, so with a progress bar when `progress`, on the first process only)."""
  progress = progress and jax.process_index() == 0
  if p.network == "vgg19":
    return vgg.load(p.vgg19_weights)
  cache_dir = cache_dir or default_cache_dir()
  if p.network == "classifier":
    if labels is None:
      raise ConfigError("perceptual.network=classifier needs labelled images; use perceptual.network=self")
    return classifier.load_or_train(images, labels, num_classes, cache_dir, p.steps, seed=p.seed,
                                    progress=progress).params["params"]
  return selfsup.load_or_train(images, cache_dir, p.steps, seed=p.seed, progress=progress).params["params"]["encoder"]


def activations(network: str, params, x, layers) -> list:
  """phi's activations of images x (in [-1, 1]) at `layers`, in that order."""
  if network == "vgg19":
    return vgg.features(params, x, list(layers))
  h, got = x, {}
  for i, stride in enumerate((1, 2, 2)):  # ganjax.metrics.classifier.body's convolutions
    conv = params[f"Conv_{i}"]
    h = jax.lax.conv_general_dilated(h, conv["kernel"], (stride, stride), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC")) + conv["bias"]
    h = jax.nn.relu(h)
    got[OWN_LAYERS[i]] = h
  return [got[name] for name in layers]


def content_loss(fake_features, real_features, norm: str = "l2"):
  """The mean squared difference of the feature maps (SRGAN's l_VGG/i,j, Ledig et al. 2017, Eq. 5),
  or with norm="l1" their mean absolute difference (CartoonGAN's L_con, Chen et al. 2018, Eq. 3),
  summed over the layers given."""
  diff = (lambda v: v ** 2) if norm == "l2" else jnp.abs
  return sum(jnp.mean(diff(f - r)) for f, r in zip(fake_features, real_features))


def gram(f):
  """Gram matrices of feature maps (..., N, C) over their N positions, divided by N."""
  return jnp.einsum("...nc,...nd->...cd", f, f) / f.shape[-2]


def texture_loss(fake_features, real_features, patch: int = 16):
  """EnhanceNet's texture loss (Sajjadi et al. 2017, Sec. 4.2.3, Eq. 4): the squared distance of the
  Gram matrices G(phi(x)) = phi(x)^T phi(x) of the estimate and of the ground truth, computed on
  non-overlapping `patch` x `patch` windows of each feature map (a window larger than the map is
  the whole map), averaged over windows and layers' entries and summed over layers."""
  total = 0.0
  for f, r in zip(fake_features, real_features):
    b, h, w, c = f.shape
    ph, pw = min(patch, h), min(patch, w)
    def windows(v):
      v = v[:, :h // ph * ph, :w // pw * pw]
      v = v.reshape(b, h // ph, ph, w // pw, pw, c).transpose(0, 1, 3, 2, 4, 5)
      return v.reshape(b, h // ph, w // pw, ph * pw, c)
    total = total + jnp.mean((gram(windows(f)) - gram(windows(r))) ** 2)
  return total
