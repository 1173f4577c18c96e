"""Layers shared by the networks.

`Conv` and `ConvTranspose` are drop-ins for `flax.linen.Conv` / `flax.linen.ConvTranspose` (same
parameters, same values) for DCGAN's layers: 4x4 kernels, stride 2, SAME padding. On the CPU
backend (`impl="auto"`) their gradients are hand-written (`jax.custom_vjp`) so that every
convolution XLA:CPU runs -- in second derivatives too (gradient penalties) -- is one of the two kinds
it runs fast:

  strided   the 4x4 stride-2 convolution, forward and weight gradient (XLA's own)
  upsample  the 4x4 stride-2 transposed convolution as a *sub-pixel* convolution: one 2x2 stride-1
            convolution of the input padded by 1, with the four output phases as 4x the channels,
            then a depth-to-space shuffle and a crop of the border row/column. Where that form
            wastes most (a 4x4 input: 5x5 positions computed for 4x4) or runs worst (<= 16 output
            channels), the upsample is one GEMM of every input pixel with all 16 taps followed by
            an overlap-add of the shifted taps instead: 2-3% off the DCGAN step at batch 64 and 256
            (development A/B runs on this CPU, with the train step's default compile options).

A transposed convolution is the adjoint of a strided one, `upsample(x, k) = strided^T(x; m)` with
`m = flip(k)` (taps reversed, input/output channels swapped), so

  Conv           y = strided(x, k);   dx = upsample(g, flip(k));   dk = XLA's weight gradient
  ConvTranspose  y = upsample(x, k);  dx = strided(g, flip(k));    dk = flip(weight gradient of
                                                                        strided(g, .) against x)

On this repository's CPU, XLA's own backward pass of a transposed convolution (an input-dilated
convolution) ran 13-17x slower than this one for DCGAN's layers, and XLA's weight gradient of a
stride-1 convolution slower still, so neither appears here; the DCGAN step with XLA's own layers is
the README performance table's `conv_impl=xla` row. On GPU/TPU XLA's own path is kept.

Sub-pixel derivation (one axis): `lax.conv_transpose` (no kernel transposition, SAME) gives
y[2i] = k0 x[i-1] + k2 x[i] and y[2i+1] = k1 x[i] + k3 x[i+1]. A 2-tap convolution over x padded
by 1, z[u, r] = sum_a xp[u + a] K[a, r] with K[a, r] = k[2a + 1 - r], gives z[u, 0] = y[2u - 1] and
z[u, 1] = y[2u] for u = 0..H: interleaved, that is y[-1..2H], and the crop leaves y[0..2H-1]. The
GEMM form computes z[m, t] = x[m] k_t for the four taps t and adds y[2m] = z[m, 2] + z[m - 1, 0],
y[2m + 1] = z[m, 1] + z[m + 1, 3].
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

_DN = ("NHWC", "HWIO", "NHWC")


def wide(dtype):
  """The dtype outputs and statistics are returned in: float32 for float32/16-bit computation,
  float64 when the network computes in float64 (gradient checks under jax.enable_x64)."""
  return jnp.promote_types(dtype, jnp.float32)


def strided_4x4_s2(x, kernel):
  """XLA's 4x4 stride-2 SAME convolution of x (B, 2H, 2W, C) with kernel (4, 4, C, O)."""
  return jax.lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)), dimension_numbers=_DN)


def _shift(a, axis, d):
  """`a` moved by d = +1 (out[m] = a[m - 1]) or -1 (out[m] = a[m + 1]) along `axis`, zero-filled."""
  n = a.shape[axis]
  pad = [(0, 0)] * a.ndim
  pad[axis] = (1, 0) if d > 0 else (0, 1)
  return jax.lax.slice_in_dim(jnp.pad(a, pad), 0 if d > 0 else 1, n + (0 if d > 0 else 1), axis=axis)


def _overlap_add(z, axis, tap_axis):
  """The even and odd output phases of a 4-tap stride-2 transposed convolution along `axis`, from the
  per-tap products z (taps on `tap_axis`): y[2m] = z[m, 2] + z[m - 1, 0], y[2m + 1] = z[m, 1] + z[m + 1, 3]."""
  tap = lambda t: jax.lax.index_in_dim(z, t, tap_axis, keepdims=False)  # noqa: E731
  return tap(2) + _shift(tap(0), axis, +1), tap(1) + _shift(tap(3), axis, -1)


def _upsample_gemm(x, kernel):
  """The transposed convolution as one GEMM (every input pixel times all 16 taps) and an overlap-add."""
  b, h, w, c = x.shape
  o = kernel.shape[-1]
  z = (x.reshape(b * h * w, c) @ kernel.transpose(2, 0, 1, 3).reshape(c, 16 * o)).reshape(b, h, w, 4, 4, o)
  rows = _overlap_add(z, 1, 3)  # even, odd output rows: (b, h, w, 4, o) each
  y = jnp.stack([jnp.stack(_overlap_add(r, 2, 3), 3) for r in rows], 2)  # (b, h, 2, w, 2, o)
  return y.reshape(b, 2 * h, 2 * w, o)


def _upsample_subpixel(x, kernel):
  """The transposed convolution as one 2x2 convolution of x padded by 1 to the four output phases."""
  b, h, w, c = x.shape
  o = kernel.shape[-1]
  k = jnp.flip(kernel.reshape(2, 2, 2, 2, c, o), (1, 3))  # (a, r, e, s, c, o): tap 2a + 1 - r, 2e + 1 - s
  k = k.transpose(0, 2, 4, 1, 3, 5).reshape(2, 2, c, 4 * o)
  z = jax.lax.conv_general_dilated(x, k, (1, 1), ((1, 1), (1, 1)), dimension_numbers=_DN)  # (b, h + 1, w + 1, 4 o)
  y = z.reshape(b, h + 1, w + 1, 2, 2, o).transpose(0, 1, 3, 2, 4, 5).reshape(b, 2 * h + 2, 2 * w + 2, o)
  return y[:, 1:-1, 1:-1]


def upsample_4x4_s2(x, kernel):
  """lax.conv_transpose(x, kernel, (2, 2), "SAME") for a (4, 4, C, O) kernel: sub-pixel, or GEMM +
  overlap-add where the sub-pixel form wastes most (a 4x4 input: 25 positions computed for 16) or
  runs worst (O <= 16: a convolution with few output channels, where one GEMM does better)."""
  if x.shape[1] * x.shape[2] <= 16 or kernel.shape[-1] <= 16:
    return _upsample_gemm(x, kernel)
  return _upsample_subpixel(x, kernel)


def _adjoint_kernel(kernel):
  """The kernel of the adjoint layer: taps reversed, input and output channels swapped."""
  return jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)


def _strided_kernel_grad(x, g, kernel_shape):
  """d<g, strided(x, k)>/dk: XLA's weight gradient of the strided convolution."""
  return jax.vjp(lambda k: strided_4x4_s2(x, k), jnp.zeros(kernel_shape, x.dtype))[1](g)[0]


def _with_gradients(forward, backward):
  """forward(x, kernel) with the hand-written backward(x, kernel, g) -> (dx, dkernel)."""
  f = jax.custom_vjp(forward)
  f.defvjp(lambda x, kernel: (forward(x, kernel), (x, kernel)), lambda res, g: backward(*res, g))
  return f


# The input gradients go through the custom-vjp layers themselves (defined below; the same values as
# upsample_4x4_s2 / strided_4x4_s2), so that differentiating a gradient again -- the gradient penalties
# of WGAN-GP, R1 and DRAGAN -- also runs only the two fast kinds: plain autodiff of the sub-pixel form
# would ask XLA for the weight gradient of its stride-1 convolution, which made WGAN-GP's step
# ~5x slower on this CPU (docs/performance.md).
def _conv_backward(x, kernel, g):
  return conv_transpose_4x4_s2(g, _adjoint_kernel(kernel)), _strided_kernel_grad(x, g, kernel.shape)


def _conv_transpose_backward(x, kernel, g):
  m = _adjoint_kernel(kernel)
  return conv_4x4_s2(g, m), _adjoint_kernel(_strided_kernel_grad(g, x, m.shape))


# strided_4x4_s2 with its input gradient as a sub-pixel convolution (even H, W)
conv_4x4_s2 = _with_gradients(strided_4x4_s2, _conv_backward)
# upsample_4x4_s2 with both gradients through the strided convolution
conv_transpose_4x4_s2 = _with_gradients(upsample_4x4_s2, _conv_transpose_backward)


def use_subpixel(impl: str) -> bool:
  """Whether a 4x4 stride-2 layer takes the sub-pixel path: `impl` auto (on the CPU backend) | xla | subpixel."""
  if impl == "auto":
    return jax.default_backend() == "cpu"
  if impl not in ("xla", "subpixel"):
    raise ValueError(f"conv impl must be auto | xla | subpixel, got {impl!r}")
  return impl == "subpixel"


def _fast(kernel_size, strides, spatial, impl) -> bool:
  return (tuple(kernel_size) == (4, 4) and tuple(strides) == (2, 2) and len(spatial) == 2
          and use_subpixel(impl))


class Conv(nn.Module):
  """`nn.Conv(features, kernel_size, strides, padding="SAME")` for images or series (same parameters
  and values); 4x4 stride-2 image layers on even sizes take the sub-pixel path where `impl` says so."""

  features: int
  kernel_size: Sequence[int] = (4, 4)
  strides: Sequence[int] = (2, 2)
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros
  impl: str = "auto"  # auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  dtype: Any = jnp.float32  # computation dtype; parameters are float32

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init, (self.features,))
    x, kernel, bias = x.astype(self.dtype), kernel.astype(self.dtype), bias.astype(self.dtype)
    spatial = x.shape[1:-1]
    if _fast(self.kernel_size, self.strides, spatial, self.impl) and not any(s % 2 for s in spatial):
      y = conv_4x4_s2(x, kernel)
    else:
      dn = ("NHWC", "HWIO", "NHWC") if len(spatial) == 2 else ("NWC", "WIO", "NWC")
      y = jax.lax.conv_general_dilated(x, kernel, tuple(self.strides), "SAME", dimension_numbers=dn)
    return y + bias


class ConvTranspose(nn.Module):
  """`nn.ConvTranspose(features, (4, 4), (2, 2), padding="SAME")` for images (same parameters and
  values); takes the sub-pixel path where `impl` says so."""

  features: int
  kernel_size: Sequence[int] = (4, 4)
  strides: Sequence[int] = (2, 2)
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros
  impl: str = "auto"  # auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  dtype: Any = jnp.float32  # computation dtype; parameters are float32

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init, (self.features,))
    x, kernel, bias = x.astype(self.dtype), kernel.astype(self.dtype), bias.astype(self.dtype)
    if _fast(self.kernel_size, self.strides, x.shape[1:-1], self.impl):
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


def _l2_normalize(x, eps):
  return x * jax.lax.rsqrt(jnp.sum(x**2) + eps)


class SpectralNorm(nn.SpectralNorm):
  """Spectral normalisation (Miyato et al. 2018, Algorithm 1) with exactly one power iteration per
  update of the player. Each weight W (reshaped to (in, out)) keeps a vector u in the "spectral"
  collection. Every call computes v = normalize(u W^T), u' = normalize(v W), sigma = v W u'^T and
  uses W / sigma; a training call writes u' to `u_next` but never changes `u`, so every call of the
  same update (a real pass, a fake pass, a penalty) normalises by the same sigma, and
  `commit_power_iteration` (run by `ganjax.state.Player.update`) moves `u_next` into `u` once
  the update is taken. (Flax's layer advances u on every training call: two iterations per
  discriminator update, with different sigmas for the real and the generated pass.)"""

  collection_name: str = "spectral"

  def _spectral_normalize(self, path, vs, update_stats):
    value = jnp.asarray(vs)
    if value.ndim <= 1:  # biases
      return value
    shape = value.shape
    w = value.reshape((-1, shape[-1]))
    base = self.layer_instance.name + "/" + "/".join(k.key for k in path[1:])
    u_var = self.variable(self.collection_name, base + "/u", jax.random.normal,
                          self.make_rng("params") if not self.has_variable(self.collection_name, base + "/u") else None,
                          (1, w.shape[-1]), self.param_dtype)
    u_next = self.variable(self.collection_name, base + "/u_next", lambda: u_var.value)
    sigma_var = self.variable(self.collection_name, base + "/sigma", jnp.ones, (), self.param_dtype)
    v = jax.lax.stop_gradient(_l2_normalize(u_var.value @ w.T, self.epsilon))
    u = jax.lax.stop_gradient(_l2_normalize(v @ w, self.epsilon))
    sigma = (v @ w @ u.T)[0, 0]
    if update_stats:
      u_next.value, sigma_var.value = u, sigma
    return (w / jnp.where(sigma != 0, sigma, 1)).reshape(shape).astype(vs.dtype)


def commit_power_iteration(model_state):
  """model_state with every spectral-norm `u` replaced by the `u_next` of this update's calls."""
  if "spectral" not in model_state:
    return model_state

  def commit(tree):
    if not isinstance(tree, dict) and not hasattr(tree, "items"):
      return tree
    out = {k: commit(v) for k, v in tree.items()}
    for k in list(out):
      if k.endswith("/u_next"):
        out[k[:-len("_next")]] = out[k]
    return out

  return {**model_state, "spectral": commit(model_state["spectral"])}


def spectral(layer: nn.Module, enabled: bool, train: bool):
  """`layer`, with its weight divided by its largest singular value (`SpectralNorm`: one power
  iteration per update) when `enabled`; the plain layer otherwise."""
  if not enabled:
    return layer
  return lambda x: SpectralNorm(layer)(x, update_stats=train)


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
  spectral_norm: bool = False  # the joint layers too (x_net has its own flag)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, z, train: bool = True):
    dense = lambda n: spectral(nn.Dense(n, dtype=self.dtype), self.spectral_norm, train)  # noqa: E731
    hx = nn.leaky_relu(self.x_net(x, train=train), 0.2)
    hz = nn.leaky_relu(dense(self.hidden)(z), 0.2)
    h = nn.leaky_relu(dense(self.hidden)(jnp.concatenate([hx, hz.astype(hx.dtype)], -1)), 0.2)
    self.sow("intermediates", "features", h)
    return dense(1)(h)[:, 0].astype(wide(self.dtype))
