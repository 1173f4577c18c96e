"""SRGAN's networks (Ledig et al. 2017, Fig. 4): the SRResNet generator and the SRGAN discriminator.

Generator: a 9x9 convolution (k = `width` = 64 filters) with PReLU; `blocks` = 16 residual blocks
of conv3x3-BN-PReLU-conv3x3-BN with an identity skip; conv3x3-BN added to the first layer's output
(the long skip); log2(factor) upsampling blocks of conv3x3 with 4k filters, a sub-pixel shuffle
(Shi et al. 2016, x2 each) and PReLU; a 9x9 convolution to the output channels, here with tanh
(outputs in [-1, 1] like the data; the paper's HR images are scaled to [-1, 1]).
Discriminator: conv3x3 (k) + LeakyReLU 0.2, then 7 conv3x3-BN-LeakyReLU blocks of k, 2k, 2k, 4k,
4k, 8k, 8k filters with strides 2, 1, 2, 1, 2, 1, 2, a dense layer of 16k (1024) units with
LeakyReLU and one logit. Batch norm momentum as ganjax's DCGAN players.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.dcgan import batch_norm


def pixel_shuffle(x, r: int):
  """(B, H, W, C r^2) -> (B, H r, W r, C): depth-to-space, channel index c * r^2 + i * r + j (PyTorch's)."""
  b, h, w, c = x.shape
  x = x.reshape(b, h, w, c // (r * r), r, r).transpose(0, 1, 4, 2, 5, 3)
  return x.reshape(b, h * r, w * r, c // (r * r))


class PReLU(nn.Module):
  """max(0, x) + a * min(0, x) with one learned slope a per channel (He et al. 2015), a = 0.25 at init."""

  @nn.compact
  def __call__(self, x):
    a = self.param("alpha", nn.initializers.constant(0.25), (x.shape[-1],))
    return jnp.where(x >= 0, x, a.astype(x.dtype) * x)


class SRResNet(nn.Module):
  out_channels: int
  factor: int = 4
  width: int = 64
  blocks: int = 16
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    ups = int(round(math.log2(self.factor)))
    if 2**ups != self.factor:
      raise ValueError(f"SRResNet upsamples by powers of two, got factor {self.factor}")
    conv = lambda ch, k: nn.Conv(ch, (k, k), padding="SAME", dtype=self.dtype)  # noqa: E731
    first = PReLU()(conv(self.width, 9)(x.astype(self.dtype)))
    h = first
    for _ in range(self.blocks):
      r = PReLU()(batch_norm(train, self.dtype)(conv(self.width, 3)(h)))
      h = h + batch_norm(train, self.dtype)(conv(self.width, 3)(r))
    h = first + batch_norm(train, self.dtype)(conv(self.width, 3)(h))
    for _ in range(ups):
      h = PReLU()(pixel_shuffle(conv(4 * self.width, 3)(h), 2))
    return jnp.tanh(conv(self.out_channels, 9)(h).astype(jnp.float32))


class Discriminator(nn.Module):
  width: int = 64
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    k = self.width
    h = nn.leaky_relu(nn.Conv(k, (3, 3), padding="SAME", dtype=self.dtype)(x.astype(self.dtype)), 0.2)
    for ch, stride in ((k, 2), (2 * k, 1), (2 * k, 2), (4 * k, 1), (4 * k, 2), (8 * k, 1), (8 * k, 2)):
      h = nn.Conv(ch, (3, 3), (stride, stride), padding=((1, 1), (1, 1)), dtype=self.dtype)(h)
      h = nn.leaky_relu(batch_norm(train, self.dtype)(h), 0.2)
    h = nn.leaky_relu(nn.Dense(16 * k, dtype=self.dtype)(h.reshape((h.shape[0], -1))), 0.2)
    return nn.Dense(1, dtype=self.dtype)(h).astype(jnp.float32)[:, 0]
