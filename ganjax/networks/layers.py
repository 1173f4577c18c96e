"""Layers shared by the networks.

`ConvTranspose` is a drop-in for `flax.linen.ConvTranspose` (same parameters, same result) for the
DCGAN upsampling layer, 4x4 kernel, stride 2, SAME padding. On the CPU backend it computes the layer
as a *sub-pixel* convolution: one stride-1 3x3 convolution that produces the four output phases as
4x the channels, then a depth-to-space shuffle. XLA's CPU weight-gradient of the input-dilated
convolution that `lax.conv_transpose` lowers to is much slower than the stride-1 convolution's: the
whole DCGAN step takes 2.2x longer with `--config.model.conv_impl=xla` in `launch/bench_cpu.sh`.
On GPU/TPU XLA's own path is kept.

Derivation (one axis, no kernel flip, SAME padding of 2 on the dilated input): with input x and
kernel taps k0..k3, the output is y[2i] = k0 x[i-1] + k2 x[i] and y[2i+1] = k1 x[i] + k3 x[i+1], i.e.
a 3-tap convolution over x (padded by 1) with taps (k0, k2, 0) for the even phase and (0, k1, k3)
for the odd phase. In 2-D the phase kernels are the outer product of the 1-D selections.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# _PHASE_TAPS[p, a, t] = 1 when kernel tap t feeds output phase p from input offset a - 1.
_PHASE_TAPS = np.zeros((2, 3, 4), np.float32)
_PHASE_TAPS[0, 0, 0] = _PHASE_TAPS[0, 1, 2] = 1.0
_PHASE_TAPS[1, 1, 1] = _PHASE_TAPS[1, 2, 3] = 1.0


def wide(dtype):
  """The dtype outputs and statistics are returned in: float32 for float32/16-bit computation,
  float64 when the network computes in float64 (gradient checks under jax.enable_x64)."""
  return jnp.promote_types(dtype, jnp.float32)


def subpixel_kernel(kernel):
  """(4, 4, C, O) transposed-conv kernel -> (3, 3, C, 2 * 2 * O) stride-1 kernel of the 4 phases."""
  s = jnp.asarray(_PHASE_TAPS, kernel.dtype)
  k = jnp.einsum("yat,xbu,tuco->abcyxo", s, s, kernel)
  return k.reshape(3, 3, kernel.shape[2], 4 * kernel.shape[3])


def conv_transpose_4x4_s2(x, kernel):
  """Sub-pixel evaluation of lax.conv_transpose(x, kernel, (2, 2), 'SAME') for a 4x4 kernel."""
  b, h, w, _ = x.shape
  o = kernel.shape[-1]
  y = jax.lax.conv_general_dilated(x, subpixel_kernel(kernel), (1, 1), ((1, 1), (1, 1)),
                                   dimension_numbers=("NHWC", "HWIO", "NHWC"))
  y = y.reshape(b, h, w, 2, 2, o).transpose(0, 1, 3, 2, 4, 5)
  return y.reshape(b, 2 * h, 2 * w, o)


def use_subpixel(impl: str) -> bool:
  if impl == "auto":
    return jax.default_backend() == "cpu"
  if impl not in ("xla", "subpixel"):
    raise ValueError(f"conv impl must be auto | xla | subpixel, got {impl!r}")
  return impl == "subpixel"


class ConvTranspose(nn.Module):
  """`nn.ConvTranspose(features, (4, 4), (2, 2), padding="SAME")` with a faster CPU evaluation."""

  features: int
  kernel_size: Sequence[int] = (4, 4)
  strides: Sequence[int] = (2, 2)
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  impl: str = "auto"  # auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  dtype: Any = jnp.float32  # computation dtype; parameters are float32

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    x, kernel, bias = x.astype(self.dtype), kernel.astype(self.dtype), bias.astype(self.dtype)
    if tuple(self.kernel_size) == (4, 4) and tuple(self.strides) == (2, 2) and use_subpixel(self.impl):
      y = conv_transpose_4x4_s2(x, kernel)
    else:
      y = jax.lax.conv_transpose(x, kernel, tuple(self.strides), "SAME",
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + bias


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, Sec. 3.2). Features f(x_i) in R^A are
  multiplied by a learned tensor T in R^{A x B x C} to M_i in R^{B x C}; with the L1 kernel
  c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1), o(x_i)_b = sum_j c_b(x_i, x_j) over the minibatch,
  and the layer returns [f(x_i), o(x_i)] in R^{A + B}: D sees how alike the samples of a batch are."""

  num_kernels: int  # B
  kernel_dim: int  # C
  group_size: int = 0  # > 0: the sums run within consecutive groups of this many samples (0: the whole batch)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, f):
    t = self.param("T", nn.initializers.normal(0.05), (f.shape[-1], self.num_kernels * self.kernel_dim))
    m = (f.astype(self.dtype) @ t.astype(self.dtype)).reshape((-1, self.num_kernels, self.kernel_dim))
    n = m.shape[0]
    g = self.group_size if self.group_size and n % self.group_size == 0 else n
    m = m.reshape((n // g, g, self.num_kernels, self.kernel_dim))
    l1 = jnp.sum(jnp.abs(m[:, :, None] - m[:, None, :]), axis=-1)  # (groups, g, g, B): cost grows as g^2
    o = jnp.sum(jnp.exp(-l1.astype(wide(self.dtype))), axis=2).reshape((n, self.num_kernels))  # (n, B)
    return jnp.concatenate([f, o.astype(f.dtype)], axis=-1)


def spectral(layer: nn.Module, enabled: bool, train: bool):
  """`layer`, with its weight divided by its largest singular value (Miyato et al. 2018, spectral
  normalisation: one power iteration per training call, the estimate kept in `batch_stats`) when
  `enabled`; the plain layer otherwise."""
  if not enabled:
    return layer
  return lambda x: nn.SpectralNorm(layer, n_steps=1)(x, update_stats=train)


class VirtualBatchNorm(nn.Module):
  """Virtual batch normalisation (Salimans et al. 2016, Sec. 3.4). The input's first
  `reference_size` rows are the activations of a reference batch chosen once at the start of
  training; the other rows are the examples. Each example is normalised with the statistics of the
  reference batch together with itself, per channel over the batch and spatial axes:
      mean = (R mean_ref + mean_x) / (R + 1),  E[h^2] = (R E_ref[h^2] + E_x[h^2]) / (R + 1),
  and the reference rows with the reference statistics alone. No example sees another example, so
  D's output for x depends on x and the fixed reference only (unlike batch norm)."""

  reference_size: int
  epsilon: float = 1e-5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, h):
    r = self.reference_size
    h32 = h.astype(wide(self.dtype))
    axes = tuple(range(1, h.ndim - 1))  # spatial axes of one example
    ref, x = h32[:r], h32[r:]
    ref_mean = jnp.mean(ref, axis=(0, *axes))
    ref_sq = jnp.mean(ref**2, axis=(0, *axes))
    w = 1.0 / (r + 1.0)
    x_mean = (1.0 - w) * ref_mean + w * jnp.mean(x, axis=axes, keepdims=True)
    x_sq = (1.0 - w) * ref_sq + w * jnp.mean(x**2, axis=axes, keepdims=True)
    ref_shape = (r,) + (1,) * len(axes) + ref_mean.shape
    mean = jnp.concatenate([jnp.broadcast_to(ref_mean, ref_shape), x_mean])
    var = jnp.concatenate([jnp.broadcast_to(ref_sq - ref_mean**2, ref_shape), x_sq - x_mean**2])
    scale = self.param("scale", nn.initializers.ones, (h.shape[-1],))
    bias = self.param("bias", nn.initializers.zeros, (h.shape[-1],))
    y = (h32 - mean) * jax.lax.rsqrt(jnp.maximum(var, 0.0) + self.epsilon) * scale + bias
    return y.astype(self.dtype)


class LabelConditioned(nn.Module):
  """A discriminator that also sees a label (Mirza & Osindero 2014): the one-hot label is appended
  to the input, as constant feature maps for images / series and as extra inputs for vectors."""

  base: nn.Module
  num_classes: int

  @nn.compact
  def __call__(self, x, y, train: bool = True):
    onehot = jax.nn.one_hot(y, self.num_classes, dtype=x.dtype)
    if x.ndim > 2:
      onehot = jnp.broadcast_to(onehot.reshape((x.shape[0],) + (1,) * (x.ndim - 2) + (-1,)),
                                (*x.shape[:-1], self.num_classes))
      return self.base(jnp.concatenate([x, onehot], axis=-1), train=train)
    return self.base(jnp.concatenate([x.reshape((x.shape[0], -1)), onehot], axis=-1), train=train)


class JointDiscriminator(nn.Module):
  """D(x, z) for ALI / BiGAN: `x_net` (any discriminator with `num_outputs` = F) embeds x, a
  leaky-ReLU layer embeds z, and a `hidden`-unit joint layer on both gives one logit."""

  x_net: nn.Module
  hidden: int = 512
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, z, train: bool = True):
    hx = nn.leaky_relu(self.x_net(x, train=train), 0.2)
    hz = nn.leaky_relu(nn.Dense(self.hidden, dtype=self.dtype)(z), 0.2)
    h = nn.leaky_relu(nn.Dense(self.hidden, dtype=self.dtype)(jnp.concatenate([hx, hz.astype(hx.dtype)], -1)), 0.2)
    self.sow("intermediates", "features", h)
    return nn.Dense(1, dtype=self.dtype)(h)[:, 0].astype(wide(self.dtype))
