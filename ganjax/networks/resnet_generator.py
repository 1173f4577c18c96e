"""The ResNet-block generator of CycleGAN (Zhu et al. 2017, App. 7.2), after Johnson et al. 2016.

c7s1-k, d2k, d4k, R4k x `blocks`, u2k, uk, c7s1-out in the paper's notation: a 7x7 stride-1
convolution with k = `width` filters, `downsamplings` 3x3 stride-2 convolutions doubling the
filters, residual blocks of two 3x3 convolutions at the bottleneck, as many 3x3 stride-1/2
fractional-strided (transposed) convolutions halving them, and a 7x7 convolution to `out_channels`
with tanh. Instance normalisation (no affine parameters, as the authors' InstanceNorm2d) and ReLU
after every convolution but the last and the second one of each block; reflection padding for the
7x7 and the blocks' convolutions; weights from N(0, 0.02). The paper uses 6 blocks for 128 x 128
images and 9 for 256 x 256 and larger. Image sizes: divisible by 2^downsamplings. With
`downsamplings=0` and `edge_kernel=3` it is PixelDA's generator (Bousmalis et al. 2017) and, with
`out_kernel=1` (a 1x1 convolution to the image), the stride-1 ResNet refiner of SimGAN (Shrivastava
et al. 2017).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.dcgan import batch_norm

init = nn.initializers.normal(0.02)


def norm_layer(kind: str, train: bool, dtype=jnp.float32):
  """"instance": per-image, per-channel statistics without affine parameters (the authors'
  InstanceNorm2d default); "batch": pix2pix's batch norm (`ganjax.networks.dcgan.batch_norm`); "none"."""
  if kind == "instance":
    return nn.InstanceNorm(use_scale=False, use_bias=False, epsilon=1e-5, dtype=dtype)
  if kind == "batch":
    return batch_norm(train, dtype)
  if kind == "none":
    return lambda h: h
  raise ValueError(f"norm must be instance | batch | none, got {kind!r}")


def reflect(h, p: int):
  return jnp.pad(h, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


class ResnetBlock(nn.Module):
  norm: str = "instance"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    ch = x.shape[-1]
    h = nn.Conv(ch, (3, 3), padding="VALID", kernel_init=init, dtype=self.dtype)(reflect(x, 1))
    h = nn.relu(norm_layer(self.norm, train, self.dtype)(h))
    h = nn.Conv(ch, (3, 3), padding="VALID", kernel_init=init, dtype=self.dtype)(reflect(h, 1))
    return x + norm_layer(self.norm, train, self.dtype)(h)


class ResnetGenerator(nn.Module):
  out_channels: int
  width: int = 64
  blocks: int = 9
  downsamplings: int = 2
  norm: str = "instance"
  edge_kernel: int = 7  # the first and last convolutions' size (c7s1); 3 for SimGAN's and PixelDA's refiners
  dtype: Any = jnp.float32
  out_kernel: int = 0  # the last convolution's size if not edge_kernel (SimGAN's refiner: 1, a 1x1 convolution)

  @nn.compact
  def __call__(self, x, train: bool = True):
    if x.shape[1] % 2**self.downsamplings or x.shape[2] % 2**self.downsamplings:
      raise ValueError(f"the ResNet generator needs image sides divisible by {2**self.downsamplings}, got {x.shape[1:3]}")
    norm = lambda: norm_layer(self.norm, train, self.dtype)  # noqa: E731
    k, p = (self.edge_kernel,) * 2, self.edge_kernel // 2
    h = nn.Conv(self.width, k, padding="VALID", kernel_init=init, dtype=self.dtype)(reflect(x.astype(self.dtype), p))
    h = nn.relu(norm()(h))
    for i in range(self.downsamplings):  # d2k, d4k: 3x3 stride 2, padding 1 (exactly half the size)
      h = nn.Conv(self.width * 2**(i + 1), (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), kernel_init=init,
                  dtype=self.dtype)(h)
      h = nn.relu(norm()(h))
    for _ in range(self.blocks):
      h = ResnetBlock(self.norm, self.dtype)(h, train)
    for i in reversed(range(self.downsamplings)):  # u2k, uk: PyTorch's padding 1, output_padding 1 (exactly twice)
      h = nn.ConvTranspose(self.width * 2**i, (3, 3), strides=(2, 2), padding=((1, 2), (1, 2)), kernel_init=init,
                           dtype=self.dtype)(h)
      h = nn.relu(norm()(h))
    k = (self.out_kernel or self.edge_kernel,) * 2
    h = nn.Conv(self.out_channels, k, padding="VALID", kernel_init=init, dtype=self.dtype)(reflect(h, k[0] // 2))
    return jnp.tanh(h.astype(jnp.float32))
