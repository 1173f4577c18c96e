"""Inception-v3 pool features for FID with user-supplied weights (nothing is downloaded).

The network is the FID variant of Inception-v3 that pytorch-fid ports from the TensorFlow FID
graph (Heusel et al. 2017; Seitzer, pytorch-fid `inception.py`): BasicConv = conv without bias +
batch norm (eps 1e-3) + ReLU; Mixed_5b-d (A blocks, average pooling without the padded zeros),
Mixed_6a (B), Mixed_6b-e (C), Mixed_7a (D), Mixed_7b (E with average pooling), Mixed_7c (E with max
pooling), then global average pooling to 2,048 features. Images in [-1, 1] are resized bilinearly to
299 x 299 (grey images are repeated to 3 channels).

Weights: an `.npz` whose keys are the PyTorch state-dict names of that port (e.g.
`Mixed_5b.branch1x1.conv.weight`, `...bn.running_mean`); convert pytorch-fid's
`pt_inception-2015-12-05-6726825d.pth` once with
`python -c "import torch, numpy as np; sd = torch.load('pt_inception.pth'); np.savez('inception_fid.npz', **{k: v.numpy() for k, v in sd.items()})"`
and pass `--config.eval.inception_weights=inception_fid.npz`: eval.json then has `inception_fid`.
`launch/compare_inception.py` compares this network with pytorch-fid's on the same weights and
images (features and FID within 1e-3 relative); with `--weights=random` (no file needed) they agree
to 4e-7 relative here, upsampling 28 x 28 digits and downsampling 400 x 400 photos. Real weights
were not available on this offline machine.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.errors import ConfigError


class BasicConv(nn.Module):
  features: int
  kernel: tuple
  strides: tuple = (1, 1)
  padding: tuple = (0, 0)

  @nn.compact
  def __call__(self, x):
    pad = [(p, p) for p in self.padding]
    x = nn.Conv(self.features, self.kernel, self.strides, padding=pad, use_bias=False, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
    return nn.relu(x)


def _avg_pool_excluding_padding(x):
  """3x3 stride-1 average pooling with padding 1 that divides by the unpadded count."""
  total = nn.avg_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1))) * 9.0
  ones = jnp.ones((1, *x.shape[1:3], 1), x.dtype)
  count = nn.avg_pool(ones, (3, 3), (1, 1), padding=((1, 1), (1, 1))) * 9.0
  return total / count


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, (1, 1), name="branch1x1")(x)
    b5 = BasicConv(48, (1, 1), name="branch5x5_1")(x)
    b5 = BasicConv(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
    b3 = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
    bp = BasicConv(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_excluding_padding(x))
    return jnp.concatenate([b1, b5, b3, bp], -1)


class InceptionB(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), (2, 2), name="branch3x3")(x)
    bd = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = BasicConv(96, (3, 3), (2, 2), name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, nn.max_pool(x, (3, 3), (2, 2))], -1)


class InceptionC(nn.Module):
  c7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.c7
    b1 = BasicConv(192, (1, 1), name="branch1x1")(x)
    b7 = BasicConv(c7, (1, 1), name="branch7x7_1")(x)
    b7 = BasicConv(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
    bd = BasicConv(c7, (1, 1), name="branch7x7dbl_1")(x)
    bd = BasicConv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
    bd = BasicConv(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
    bd = BasicConv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
    bd = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
    bp = BasicConv(192, (1, 1), name="branch_pool")(_avg_pool_excluding_padding(x))
    return jnp.concatenate([b1, b7, bd, bp], -1)


class InceptionD(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(192, (1, 1), name="branch3x3_1")(x)
    b3 = BasicConv(320, (3, 3), (2, 2), name="branch3x3_2")(b3)
    b7 = BasicConv(192, (1, 1), name="branch7x7x3_1")(x)
    b7 = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
    b7 = BasicConv(192, (3, 3), (2, 2), name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, nn.max_pool(x, (3, 3), (2, 2))], -1)


class InceptionE(nn.Module):
  max_pool: bool  # Mixed_7c of the FID graph pools by max, Mixed_7b by average

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(320, (1, 1), name="branch1x1")(x)
    b3 = BasicConv(384, (1, 1), name="branch3x3_1")(x)
    b3 = jnp.concatenate([BasicConv(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
                          BasicConv(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3)], -1)
    bd = BasicConv(448, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = jnp.concatenate([BasicConv(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
                          BasicConv(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd)], -1)
    pooled = (nn.max_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1))) if self.max_pool
              else _avg_pool_excluding_padding(x))
    bp = BasicConv(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], -1)


def preprocess(x, size: int = 299):
  """Grey -> RGB, then bilinear resizing to size x size as pytorch-fid's `F.interpolate(...,
  mode="bilinear", align_corners=False)`: half-pixel centres and no antialiasing when shrinking
  (jax.image.resize's default antialiasing changed FID by 4% on 400 x 400 photos)."""
  if x.shape[-1] == 1:
    x = jnp.repeat(x, 3, axis=-1)
  return jax.image.resize(x, (x.shape[0], size, size, 3), "bilinear", antialias=False)


class InceptionV3(nn.Module):
  """Images (B, H, W, C) in [-1, 1] -> (B, 2048) pool features."""

  @nn.compact
  def __call__(self, x):
    x = preprocess(x)
    x = BasicConv(32, (3, 3), (2, 2), name="Conv2d_1a_3x3")(x)
    x = BasicConv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = nn.max_pool(x, (3, 3), (2, 2))
    x = BasicConv(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = BasicConv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = nn.max_pool(x, (3, 3), (2, 2))
    x = InceptionA(32, name="Mixed_5b")(x)
    x = InceptionA(64, name="Mixed_5c")(x)
    x = InceptionA(64, name="Mixed_5d")(x)
    x = InceptionB(name="Mixed_6a")(x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
      x = InceptionC(c7, name=name)(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(False, name="Mixed_7b")(x)
    x = InceptionE(True, name="Mixed_7c")(x)
    return jnp.mean(x, axis=(1, 2))


def variables_from_state_dict(state_dict: dict, template) -> dict:
  """PyTorch-named arrays -> the Flax variables of `template` (InceptionV3's init), checking shapes.
  Convolutions are OIHW in PyTorch and HWIO here."""
  flat = {}
  for path, leaf in jax.tree_util.tree_leaves_with_path(template):
    keys = [p.key for p in path]
    collection, *modules, name = keys
    prefix = ".".join(modules)
    torch_name = {("params", "kernel"): "weight", ("params", "scale"): "weight", ("params", "bias"): "bias",
                  ("batch_stats", "mean"): "running_mean", ("batch_stats", "var"): "running_var"}[(collection, name)]
    key = f"{prefix}.{torch_name}"
    if key not in state_dict:
      raise ConfigError(f"inception weights: missing {key}")
    value = np.asarray(state_dict[key], np.float32)
    if name == "kernel":
      value = value.transpose(2, 3, 1, 0)
    if value.shape != leaf.shape:
      raise ConfigError(f"inception weights: {key} has shape {value.shape}, expected {leaf.shape}")
    flat[tuple(keys)] = value
  return jax.tree_util.tree_map_with_path(lambda p, _: flat[tuple(k.key for k in p)], template)


def state_dict_from_variables(variables) -> dict:
  """The inverse mapping (for tests, and to save converted weights)."""
  out = {}
  for path, leaf in jax.tree_util.tree_leaves_with_path(variables):
    collection, *modules, name = [p.key for p in path]
    torch_name = {"kernel": "weight", "scale": "weight", "bias": "bias", "mean": "running_mean",
                  "var": "running_var"}[name]
    value = np.asarray(leaf)
    out[".".join(modules) + "." + torch_name] = value.transpose(3, 2, 0, 1) if name == "kernel" else value
  return out


@functools.lru_cache(maxsize=2)
def load(path: str):
  """A jitted images -> features function with the weights in `path` (.npz of PyTorch names)."""
  try:
    with np.load(path) as f:
      state_dict = dict(f)
  except (OSError, ValueError) as e:
    raise ConfigError(f"inception weights {path}: cannot read ({e})") from None
  model = InceptionV3()
  template = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
  variables = variables_from_state_dict(state_dict, template)
  apply = jax.jit(model.apply)
  return lambda images: np.concatenate([np.asarray(apply(variables, jnp.asarray(images[i:i + 50])))
                                        for i in range(0, len(images), 50)])
