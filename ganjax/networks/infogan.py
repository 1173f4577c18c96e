"""InfoGAN's MNIST players (Chen et al. 2016, Appendix C.1, Table 1), for images (H, W, C) and, with
1-D convolutions, for time-series windows (T, C):

  G: z -> FC 1024 BN ReLU -> FC (S/4)·128 BN ReLU -> 4x4 up-conv 64 stride 2 BN ReLU -> 4x4 up-conv C
     stride 2 -> tanh                                             (S = 28: the paper's 7x7x128 seed)
  D: x -> 4x4 conv 64 stride 2 lReLU(0.1) -> 4x4 conv 128 stride 2 BN lReLU -> FC 1024 BN lReLU
     -> FC `num_outputs`                                           (the D head)
  Q: D's FC-1024 features -> FC 128 BN lReLU -> FC `outputs`        (`QHead`, on D's trunk)

The discriminator returns its logits and sows the FC-1024 features; `QHead` is a module of its own
applied to them (InfoGAN keeps it as a player of its own, so that it can have its own optimizer
and step). Spatial sizes must be divisible by 4.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.layers import Conv, ConvTranspose, MinibatchDiscrimination, spectral, wide
from ganjax.networks.mlp import OUTPUT_ACTIVATIONS


def _bn(train: bool, dtype):
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype)


def _check(spatial: Sequence[int]):
  if any(s % 4 for s in spatial):
    raise ValueError(f"infogan networks need spatial sizes divisible by 4, got {tuple(spatial)}")


class Generator(nn.Module):
  out_shape: Sequence[int]  # (H, W, C) or (T, C)
  width: int = 64  # channels of the last hidden up-conv (the paper: 64); the seed has 2 * width
  fc_width: int = 1024  # the first fully connected layer (the paper: 1024)
  output_activation: str = "tanh"
  conv_impl: str = "auto"  # 2-D up-convs: auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    *spatial, channels = self.out_shape
    _check(spatial)
    seed = [s // 4 for s in spatial]
    h = nn.relu(_bn(train, self.dtype)(nn.Dense(self.fc_width, dtype=self.dtype)(z)))
    h = nn.Dense(math.prod(seed) * 2 * self.width, dtype=self.dtype)(h)
    h = nn.relu(_bn(train, self.dtype)(h)).reshape((z.shape[0], *seed, 2 * self.width))
    if len(spatial) == 2:  # the fast CPU formulation of `ganjax.networks.layers` (same parameters and values)
      up = lambda f: ConvTranspose(f, impl=self.conv_impl, dtype=self.dtype)  # noqa: E731
    else:
      up = lambda f: nn.ConvTranspose(f, (4,), (2,), padding="SAME", dtype=self.dtype)  # noqa: E731
    h = nn.relu(_bn(train, self.dtype)(up(self.width)(h)))
    x = up(channels)(h)
    return OUTPUT_ACTIVATIONS[self.output_activation](x.astype(wide(self.dtype)))


class Discriminator(nn.Module):
  width: int = 64
  fc_width: int = 1024  # D's fully connected layer (the paper: 1024)
  num_outputs: int = 1
  conv_impl: str = "auto"  # 2-D convs: auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  spectral_norm: bool = False  # spectrally normalise D's weights (Miyato et al. 2018; `QHead`'s stay plain)
  minibatch_features: Sequence[int] = ()  # (B, C) or (B, C, group size): a minibatch-discrimination layer before D's output
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    spatial = x.shape[1:-1]
    _check(spatial)
    k, s = (4,) * len(spatial), (2,) * len(spatial)
    sn = lambda layer: spectral(layer, self.spectral_norm, train)  # noqa: E731
    conv = lambda f: sn(Conv(f, k, s, impl=self.conv_impl, dtype=self.dtype))  # noqa: E731
    h = nn.leaky_relu(conv(self.width)(x), 0.1)
    h = conv(2 * self.width)(h)
    h = nn.leaky_relu(_bn(train, self.dtype)(h), 0.1).reshape((x.shape[0], -1))
    h = nn.leaky_relu(_bn(train, self.dtype)(sn(nn.Dense(self.fc_width, dtype=self.dtype))(h)), 0.1)
    self.sow("intermediates", "features", h)
    d_in = MinibatchDiscrimination(*self.minibatch_features, dtype=self.dtype)(h) if self.minibatch_features else h
    out = sn(nn.Dense(self.num_outputs, dtype=self.dtype))(d_in).astype(wide(self.dtype))
    return out[:, 0] if self.num_outputs == 1 else out


class QHead(nn.Module):
  """InfoGAN's Q head on D's FC features (the paper: FC 128 BN lReLU(0.1) -> FC outputs)."""
  outputs: int
  hidden: int = 128
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, h, train: bool = True):
    q = nn.leaky_relu(_bn(train, self.dtype)(nn.Dense(self.hidden, dtype=self.dtype)(h)), 0.1)
    return nn.Dense(self.outputs, dtype=self.dtype)(q).astype(wide(self.dtype))
