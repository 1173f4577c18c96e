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

`weight_init` and `leak` are where the paper and the authors' released code (openai/InfoGAN,
infogan/misc/custom_ops.py) differ from Flax's defaults or from each other: weight_init "lecun" (Flax's
truncated-normal kernels of variance 1/fan_in, batch-norm scales 1) or "normal" (the code's: every
kernel drawn from N(0, 0.02^2) -- the code truncates its convolutions' draws at 2 std, here they are
not --, batch-norm scales from N(1, 0.02^2); biases 0 in both) or "torch"
(PyTorch's defaults, what a plain PyTorch InfoGAN starts from: weights and biases ~ U(+-1/sqrt(fan)),
fan = fan_in, but out_channels * k for a transposed convolution, as torch computes it); `leak` the
leaky ReLU's slope (the paper: 0.1; the code's `leaky_rectify` default: 0.01). `unit_pixels` is the
code's pixel range: its images are in [0, 1] and G ends in a sigmoid (`MeanBernoulli`'s mean), so
with it G returns 2 sigmoid(a) - 1 = tanh(a / 2) instead of tanh(a) and D maps its input x -> (x + 1) / 2
first: outside the networks pixels stay in ganjax's [-1, 1]; inside, the background is 0, like the
convolutions' zero padding, as in the code.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.networks.layers import Conv, ConvTranspose, MinibatchDiscrimination, spectral, wide
from ganjax.networks.mlp import OUTPUT_ACTIVATIONS


INITS = {"lecun": "Flax's default: truncated-normal kernels of variance 1/fan_in, batch-norm scales 1",
         "normal": "the authors' code: kernels ~ N(0, 0.02^2), batch-norm scales ~ N(1, 0.02^2)",
         "torch": "PyTorch's defaults: kernels and biases ~ U(+-1/sqrt(fan_in)) (a transposed convolution's "
                  "fan: out_channels * kernel size)"}


PIXEL_RANGES = {"signed": "ganjax's [-1, 1] pixels, G ending in tanh", "unit": "the authors' code: [0, 1] pixels inside "
                 "the networks, G ending in a sigmoid (mapped to [-1, 1] outside), D reading (x + 1) / 2"}


def _uniform(fan: int):
  bound = 1.0 / math.sqrt(fan)
  return lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -bound, bound)


def _layer_init(init: str, fan: int) -> dict:
  """kernel_init (and bias_init) of a layer whose PyTorch fan is `fan`."""
  if init == "torch":
    return {"kernel_init": _uniform(fan), "bias_init": _uniform(fan)}
  return {"kernel_init": nn.initializers.normal(0.02) if init == "normal" else nn.initializers.lecun_normal()}


def _bn(train: bool, dtype, init: str = "lecun"):
  scale = ((lambda k, s, d=jnp.float32: 1.0 + nn.initializers.normal(0.02)(k, s, d)) if init == "normal"
           else nn.initializers.ones)
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype, scale_init=scale)


def _check_init(init: str):
  if init not in INITS:
    raise ValueError(f"infogan networks: unknown weight_init {init!r}; choose one of {', '.join(INITS)}")


def _check(spatial: Sequence[int]):
  if any(s % 4 for s in spatial):
    raise ValueError(f"infogan networks need spatial sizes divisible by 4, got {tuple(spatial)}")


class Generator(nn.Module):
  out_shape: Sequence[int]  # (H, W, C) or (T, C)
  width: int = 64  # channels of the last hidden up-conv (the paper: 64); the seed has 2 * width
  fc_width: int = 1024  # the first fully connected layer (the paper: 1024)
  output_activation: str = "tanh"
  conv_impl: str = "auto"  # 2-D up-convs: auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  weight_init: str = "lecun"  # lecun | normal | torch (`INITS`)
  dtype: Any = jnp.float32
  unit_pixels: bool = False  # the code's sigmoid onto [0, 1], returned as 2 sigmoid - 1 (module docstring)

  @nn.compact
  def __call__(self, z, train: bool = True):
    *spatial, channels = self.out_shape
    _check(spatial)
    _check_init(self.weight_init)
    seed = [s // 4 for s in spatial]
    init = lambda fan: _layer_init(self.weight_init, fan)  # noqa: E731
    bn = lambda: _bn(train, self.dtype, self.weight_init)  # noqa: E731
    h = nn.relu(bn()(nn.Dense(self.fc_width, dtype=self.dtype, **init(z.shape[-1]))(z)))
    h = nn.Dense(math.prod(seed) * 2 * self.width, dtype=self.dtype, **init(self.fc_width))(h)
    h = nn.relu(bn()(h)).reshape((z.shape[0], *seed, 2 * self.width))
    taps = 4**len(spatial)  # a transposed convolution's PyTorch fan: out_channels * kernel size
    if len(spatial) == 2:  # the fast CPU formulation of `ganjax.networks.layers` (same parameters and values)
      up = lambda f: ConvTranspose(f, impl=self.conv_impl, dtype=self.dtype, **init(f * taps))  # noqa: E731
    else:
      up = lambda f: nn.ConvTranspose(f, (4,), (2,), padding="SAME", dtype=self.dtype, **init(f * taps))  # noqa: E731
    h = nn.relu(bn()(up(self.width)(h)))
    x = up(channels)(h).astype(wide(self.dtype))
    if self.unit_pixels and self.output_activation == "tanh":
      return 2.0 * jax.nn.sigmoid(x) - 1.0
    return OUTPUT_ACTIVATIONS[self.output_activation](x)


class Discriminator(nn.Module):
  width: int = 64
  fc_width: int = 1024  # D's fully connected layer (the paper: 1024)
  num_outputs: int = 1
  conv_impl: str = "auto"  # 2-D convs: auto (sub-pixel on CPU, XLA elsewhere) | xla | subpixel
  spectral_norm: bool = False  # spectrally normalise D's weights (Miyato et al. 2018; `QHead`'s stay plain)
  minibatch_features: Sequence[int] = ()  # (B, C) or (B, C, group size): a minibatch-discrimination layer before D's output
  weight_init: str = "lecun"  # lecun | normal | torch (`INITS`)
  leak: float = 0.1  # the leaky ReLUs' slope (the paper: 0.1; the authors' code: 0.01)
  dtype: Any = jnp.float32
  unit_pixels: bool = False  # read (x + 1) / 2: the code's [0, 1] pixels (module docstring)

  @nn.compact
  def __call__(self, x, train: bool = True):
    spatial = x.shape[1:-1]
    if self.unit_pixels:
      x = (x + 1.0) / 2.0
    _check(spatial)
    _check_init(self.weight_init)
    k, s = (4,) * len(spatial), (2,) * len(spatial)
    init = lambda fan: _layer_init(self.weight_init, fan)  # noqa: E731
    sn = lambda layer: spectral(layer, self.spectral_norm, train)  # noqa: E731
    conv = lambda f, cin: sn(Conv(f, k, s, impl=self.conv_impl, dtype=self.dtype, **init(cin * 4**len(k))))  # noqa: E731
    act = lambda h: nn.leaky_relu(h, self.leak)  # noqa: E731
    h = act(conv(self.width, x.shape[-1])(x))
    h = conv(2 * self.width, self.width)(h)
    h = act(_bn(train, self.dtype, self.weight_init)(h)).reshape((x.shape[0], -1))
    dense = nn.Dense(self.fc_width, dtype=self.dtype, **init(h.shape[-1]))
    h = act(_bn(train, self.dtype, self.weight_init)(sn(dense)(h)))
    self.sow("intermediates", "features", h)
    d_in = MinibatchDiscrimination(*self.minibatch_features, dtype=self.dtype)(h) if self.minibatch_features else h
    out = sn(nn.Dense(self.num_outputs, dtype=self.dtype, **init(d_in.shape[-1])))(d_in).astype(wide(self.dtype))
    return out[:, 0] if self.num_outputs == 1 else out


class QHead(nn.Module):
  """InfoGAN's Q head on D's FC features (the paper: FC 128 BN lReLU(0.1) -> FC outputs)."""
  outputs: int
  hidden: int = 128
  weight_init: str = "lecun"  # lecun | normal | torch (`INITS`)
  leak: float = 0.1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, h, train: bool = True):
    _check_init(self.weight_init)
    init = lambda fan: _layer_init(self.weight_init, fan)  # noqa: E731
    q = nn.Dense(self.hidden, dtype=self.dtype, **init(h.shape[-1]))(h)
    q = nn.leaky_relu(_bn(train, self.dtype, self.weight_init)(q), self.leak)
    return nn.Dense(self.outputs, dtype=self.dtype, **init(self.hidden))(q).astype(wide(self.dtype))
