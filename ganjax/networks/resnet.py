"""ResNet GAN players with the block structure of Gulrajani et al. 2017 (App. F) and Miyato et al.
2018 (SN-GAN's ResNets): residual blocks of two 3x3 convolutions with a 1x1-convolution shortcut.
Not their exact networks: their CIFAR players keep a constant width (G 256, D 128 channels) and their
D's last blocks do not downsample; here the channels double / halve per block as in DCGAN, so one
definition serves 32x32 to 128x128.

Generator: z -> dense 4x4 seed with `width * 2**(n-1)` channels -> n up-blocks
[BN, ReLU, nearest 2x upsampling, conv3x3, BN, ReLU, conv3x3] + [upsampling, conv1x1], each halving
the channels down to `width` -> BN, ReLU, conv3x3 to the image channels, tanh. n = log2(size / 4):
32x32 takes 3 blocks, 128x128 takes 5 (seed 1024, then 512-256-128-64-64 channels at width 64).
Discriminator: an "optimised" first block [conv3x3, ReLU, conv3x3, 2x2 average pool] + [pool,
conv1x1], then down-blocks [ReLU, conv3x3, ReLU, conv3x3, pool] + [conv1x1, pool] doubling the
channels (capped at 16 * width) down to 4x4, ReLU, global sum pooling, dense. No batch norm in D
(so gradient penalties apply per sample); `spectral_norm` normalises every D weight, as in SN-GAN.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.dcgan import _num_up, batch_norm
from ganjax.networks.layers import MinibatchDiscrimination, spectral, wide
from ganjax.networks.mlp import OUTPUT_ACTIVATIONS

init = nn.initializers.xavier_uniform()


def _up(h):
  return jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)


def _down(h):
  return nn.avg_pool(h, (2, 2), (2, 2))


class UpBlock(nn.Module):
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    conv = lambda f, k: nn.Conv(f, (k, k), padding="SAME", kernel_init=init, dtype=self.dtype)  # noqa: E731
    h = _up(nn.relu(batch_norm(train, self.dtype)(x)))
    h = conv(self.features, 3)(h)
    h = conv(self.features, 3)(nn.relu(batch_norm(train, self.dtype)(h)))
    return h + conv(self.features, 1)(_up(x))


class DownBlock(nn.Module):
  features: int
  first: bool = False  # the optimised first block: no ReLU before its first conv, pool before the shortcut conv
  spectral_norm: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    conv = lambda k: spectral(nn.Conv(self.features, (k, k), padding="SAME", kernel_init=init,  # noqa: E731
                                      dtype=self.dtype), self.spectral_norm, train)
    h = conv(3)(x if self.first else nn.relu(x))
    h = _down(conv(3)(nn.relu(h)))
    shortcut = conv(1)(_down(x)) if self.first else _down(conv(1)(x))
    return h + shortcut


class Generator(nn.Module):
  out_shape: Sequence[int]  # (H, W, C), H = W a power of two >= 8
  width: int = 64
  output_activation: str = "tanh"
  dtype: Any = jnp.float32  # computation dtype (parameters stay float32); outputs are float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    size, _, channels = self.out_shape
    n = _num_up(size)
    h = nn.Dense(4 * 4 * self.width * 2**(n - 1), kernel_init=init, dtype=self.dtype)(z)
    h = h.reshape((z.shape[0], 4, 4, -1))
    for i in range(n):
      h = UpBlock(self.width * max(2**(n - 2 - i), 1), dtype=self.dtype)(h, train)
    h = nn.relu(batch_norm(train, self.dtype)(h))
    x = nn.Conv(channels, (3, 3), padding="SAME", kernel_init=init, dtype=self.dtype)(h)
    return OUTPUT_ACTIVATIONS[self.output_activation](x.astype(wide(self.dtype)))


class Discriminator(nn.Module):
  width: int = 64
  num_outputs: int = 1
  spectral_norm: bool = False  # spectrally normalise every weight (Miyato et al. 2018)
  minibatch_features: Sequence[int] = ()  # (B, C) or (B, C, group size): add a minibatch-discrimination layer
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    n = _num_up(x.shape[1])
    h = x.astype(self.dtype)
    for i in range(n):
      h = DownBlock(self.width * min(2**i, 16), first=i == 0, spectral_norm=self.spectral_norm,
                    dtype=self.dtype)(h, train)
    h = jnp.sum(nn.relu(h), axis=(1, 2))
    self.sow("intermediates", "features", h)
    if self.minibatch_features:
      h = MinibatchDiscrimination(*self.minibatch_features, dtype=self.dtype)(h)
    dense = nn.Dense(self.num_outputs, kernel_init=init, dtype=self.dtype)
    out = spectral(dense, self.spectral_norm, train)(h).astype(wide(self.dtype))
    return out[:, 0] if self.num_outputs == 1 else out
