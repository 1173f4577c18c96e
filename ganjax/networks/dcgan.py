"""DCGAN players (Radford et al. 2015, Sec. 3 "architecture guidelines"): strided convolutions
instead of pooling, transposed convolutions to upsample, batch norm in G (all layers but the
output) and in D (all layers but the input), ReLU in G with tanh output, LeakyReLU(0.2) in D, and
weights drawn from N(0, 0.02). Sizes: a 4x4 seed doubled `log2(size / 4)` times, so 32x32 images
take three upsamplings with `width * 4, width * 2, width` channels (width 64 for 64x64 gives the
paper's 1024-512-256-128 at width 128)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.layers import Conv, ConvTranspose, MinibatchDiscrimination, VirtualBatchNorm, spectral, wide
from ganjax.networks.mlp import OUTPUT_ACTIVATIONS

init = nn.initializers.normal(0.02)


def _num_up(size: int) -> int:
  n = int(round(math.log2(size / 4)))
  if size < 8 or 4 * 2**n != size:
    raise ValueError(f"dcgan networks need a power-of-two image size >= 8, got {size}")
  return n


def batch_norm(train: bool, dtype=jnp.float32):
  # momentum 0.9: running averages that keep up with a GAN's moving statistics. Statistics are
  # reduced in float32 whatever the computation dtype.
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype, scale_init=lambda k, s, d=jnp.float32:
                      1.0 + 0.02 * nn.initializers.normal(1.0)(k, s, d))


def reference_batch(module: nn.Module, x, r: int, train: bool):
  """Virtual batch norm's reference (Salimans et al. 2016, Sec. 3.4): the first `r` rows of the
  first training input this network sees, kept in the "vbn" collection and fixed from then on.
  Returns [reference; x]: the network normalises every row with the reference statistics."""
  ref = module.variable("vbn", "reference", jnp.zeros, (r, *x.shape[1:]), jnp.float32)
  filled = module.variable("vbn", "filled", lambda: jnp.zeros((), bool))
  if train and not module.is_initializing():
    ref.value = jnp.where(filled.value, ref.value, x[:r].astype(jnp.float32))
    filled.value = jnp.ones((), bool)
  return jnp.concatenate([ref.value.astype(x.dtype), x])


class Generator(nn.Module):
  out_shape: Sequence[int]  # (H, W, C)
  width: int = 64
  output_activation: str = "tanh"
  conv_impl: str = "auto"  # 4x4 stride-2 convs: auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  dtype: Any = jnp.float32  # computation dtype (parameters stay float32); outputs are float32
  # > 0: virtual batch norm (Salimans et al. 2016, Sec. 3.4, where the paper puts it) instead of
  # batch norm, with a reference batch of this many latents (the first ones G is trained on).
  virtual_batch_norm: int = 0
  # True: z is already a 4x4 feature map (a fully convolutional encoder's output, `_ConvTrunk(flatten=False)`),
  # upsampled by the transposed convolutions alone: no dense seed layer.
  conv_input: bool = False

  @nn.compact
  def __call__(self, z, train: bool = True):
    size, _, channels = self.out_shape
    n = _num_up(size)
    r = self.virtual_batch_norm
    norm = ((lambda: VirtualBatchNorm(r, dtype=self.dtype)) if r else (lambda: batch_norm(train, self.dtype)))
    h = reference_batch(self, z, r, train) if r else z
    if self.conv_input:
      if h.ndim != 4 or h.shape[1:3] != (4, 4):
        raise ValueError(f"a conv_input dcgan generator takes 4x4 feature maps, got shape {h.shape}")
    else:
      h = nn.Dense(4 * 4 * self.width * 2**(n - 1), kernel_init=init, dtype=self.dtype)(h)
      h = nn.relu(norm()(h.reshape((h.shape[0], 4, 4, -1))))
    for i in range(n - 1):
      h = ConvTranspose(self.width * 2**(n - 2 - i), kernel_init=init, impl=self.conv_impl, dtype=self.dtype)(h)
      h = nn.relu(norm()(h))
    x = ConvTranspose(channels, kernel_init=init, impl=self.conv_impl, dtype=self.dtype)(h)[r:]
    return OUTPUT_ACTIVATIONS[self.output_activation](x.astype(wide(self.dtype)))


class _ConvTrunk(nn.Module):
  width: int = 64
  batch_norm: bool = True
  dtype: Any = jnp.float32
  spectral_norm: bool = False
  virtual_batch_norm: int = 0  # > 0: virtual batch norm; the input's first rows are the reference batch
  conv_impl: str = "auto"  # auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  flatten: bool = True  # False: return the last 4x4 feature map (a fully convolutional encoder's code)

  @nn.compact
  def __call__(self, x, train: bool = True):
    """The strided blocks down to 4x4; each block's activation is sown as ("intermediates", "blocks")
    (without virtual batch norm's reference rows): the layers a multi-layer feature matching reads."""
    n = _num_up(x.shape[1])
    h = x
    for i in range(n):
      conv = Conv(self.width * 2**i, kernel_init=init, impl=self.conv_impl, dtype=self.dtype)
      h = spectral(conv, self.spectral_norm, train)(h)
      if i > 0 and self.virtual_batch_norm:
        h = VirtualBatchNorm(self.virtual_batch_norm, dtype=self.dtype)(h)
      elif i > 0 and self.batch_norm:
        h = batch_norm(train, self.dtype)(h)
      h = nn.leaky_relu(h, 0.2)
      self.sow("intermediates", "blocks", h[self.virtual_batch_norm:] if self.virtual_batch_norm else h)
    return h.reshape((x.shape[0], -1)) if self.flatten else h


class Discriminator(nn.Module):
  width: int = 64
  num_outputs: int = 1
  batch_norm: bool = True  # False for critics with a gradient penalty (Gulrajani et al. 2017)
  minibatch_features: Sequence[int] = ()  # (B, C) or (B, C, group size): add a minibatch-discrimination layer
  spectral_norm: bool = False  # spectrally normalise every weight (Miyato et al. 2018)
  # > 0: virtual batch norm (Salimans et al. 2016, Sec. 3.4 -- the paper puts it in G; in D it is
  # an extension) instead of batch norm, with a reference batch of this many images: the first
  # ones D is trained on (`reference_batch`).
  virtual_batch_norm: int = 0
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    r = self.virtual_batch_norm
    if r:
      x = reference_batch(self, x, r, train)
    h = _ConvTrunk(self.width, self.batch_norm, self.dtype, self.spectral_norm, r, self.conv_impl)(x, train)[r:]
    self.sow("intermediates", "features", h)
    if self.minibatch_features:
      h = MinibatchDiscrimination(*self.minibatch_features, dtype=self.dtype)(h)
    dense = nn.Dense(self.num_outputs, kernel_init=init, dtype=self.dtype)
    out = spectral(dense, self.spectral_norm, train)(h).astype(wide(self.dtype))
    return out[:, 0] if self.num_outputs == 1 else out


class Encoder(nn.Module):
  latent_dim: int
  width: int = 64
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = _ConvTrunk(self.width, batch_norm=False, dtype=self.dtype, conv_impl=self.conv_impl)(x, train)
    head = lambda: nn.Dense(self.latent_dim, dtype=self.dtype)(h).astype(wide(self.dtype))  # noqa: E731
    return head(), head()
