"""The networks of the domain-adaptation methods (`ganjax.algorithms.dann`, `dtn`, `pixelda`, `simgan`).

`Extractor` + `Head` is the MNIST architecture of Ganin et al. 2016 (JMLR, Sec. 5.2 / Fig. 4):
conv 5x5 32 - ReLU - max-pool 2 - conv 5x5 48 - ReLU - max-pool 2 (the feature extractor G_f), then
fully connected 100 - 100 - 10 (the label predictor G_y) and 100 - 1 (the domain classifier G_d).
PixelDA's task classifier for MNIST -> MNIST-M is the same network (Bousmalis et al. 2017, Sec. 4.2),
so `Classifier` (extractor + label head) is every method's task classifier and the source-only /
target-only bounds'. Its convolutions are the paper's VALID ones (28 -> 24 -> 12 -> 8 -> 4) for
images of sides >= 16 and SAME below (the tests' 8 x 8 images).

`PatchDiscriminator` is SimGAN's local adversarial network (Shrivastava et al. 2017, Sec. 3.1):
conv 3x3 96 stride 2 - conv 3x3 64 stride 2 - max-pool 3x3 stride 1 - conv 3x3 32 - conv 1x1 32 -
conv 1x1, one logit per local patch (the paper's two-way softmax per patch is a sigmoid of one logit).
`ConvDiscriminator` is PixelDA's discriminator and, with three logits (G(source), G(target), real
target), DTN's (Taigman et al. 2017). `Decoder` is DTN's g: f's code -> an image (DCGAN-like, Sec. 5.1).
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.networks.dcgan import batch_norm
from ganjax.networks.layers import Conv, ConvTranspose


def padding(x) -> str:
  """The paper's VALID convolutions where the image allows them (sides >= 16), SAME below."""
  return "VALID" if min(x.shape[1:3]) >= 16 else "SAME"


class Extractor(nn.Module):
  widths: Sequence[int] = (32, 48)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    h, pad = x.astype(self.dtype), padding(x)
    for ch in self.widths:
      h = nn.relu(nn.Conv(ch, (5, 5), padding=pad, dtype=self.dtype)(h))
      h = nn.max_pool(h, (2, 2), (2, 2), padding="SAME")
    return h.reshape((h.shape[0], -1)).astype(jnp.float32)


class Head(nn.Module):
  """Fully connected ReLU layers of `hidden` units, then `outputs` logits (a vector when outputs == 1);
  with `features`, the last hidden layer instead of the logits. The default is the label predictor
  G_y (100 - 100 - outputs); DANN's domain classifier G_d is `Head(1, hidden=(100,))`, 100 - 1."""
  outputs: int
  hidden: Sequence[int] = (100, 100)

  @nn.compact
  def __call__(self, h, train: bool = True, features: bool = False):
    for units in self.hidden:
      h = nn.relu(nn.Dense(units)(h))
    out = nn.Dense(self.outputs)(h)
    if features:
      return h
    return out[:, 0] if self.outputs == 1 else out


class Classifier(nn.Module):
  """The task classifier: `Extractor` then a label `Head` (logits; with `features`, the last hidden layer)."""
  num_classes: int = 10
  widths: Sequence[int] = (32, 48)
  hidden: Sequence[int] = (100, 100)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True, features: bool = False):
    return Head(self.num_classes, self.hidden)(Extractor(self.widths, self.dtype)(x, train), train, features)


class PatchDiscriminator(nn.Module):
  width: int = 96  # the first layer's filters; the others scale with it (96 - 64 - 32 - 32 in the paper)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    w = self.width
    h = x.astype(self.dtype)
    h = nn.relu(nn.Conv(w, (3, 3), (2, 2), padding="SAME", dtype=self.dtype)(h))
    h = nn.relu(nn.Conv(max(w * 2 // 3, 1), (3, 3), (2, 2), padding="SAME", dtype=self.dtype)(h))
    h = nn.max_pool(h, (3, 3), (1, 1), padding="SAME")
    h = nn.relu(nn.Conv(max(w // 3, 1), (3, 3), padding="SAME", dtype=self.dtype)(h))
    h = nn.relu(nn.Conv(max(w // 3, 1), (1, 1), dtype=self.dtype)(h))
    return nn.Conv(1, (1, 1), dtype=self.dtype)(h).astype(jnp.float32)  # (B, h, w, 1): one logit per patch


class ConvDiscriminator(nn.Module):
  """PixelDA's discriminator (Bousmalis et al. 2017, Fig. 2; the authors' `predict_domain`): 3x3
  convolutions of width, 2, 4, 8 x width filters (strides 1, 2, 2, 2; batch norm after all but the
  first), leaky ReLU 0.2, dropout `dropout` and Gaussian noise of std `noise` after every layer while
  training, then `outputs` logits (a vector when 1). `input_noise`: the noise on the input image too
  (the released hparam `discriminator_image_noise`, False for MNIST -> MNIST-M). The released network
  is `strided_kernel=3, init_std=0.02, slim_norm=True`; the defaults (4x4 strided convolutions on
  ganjax's fast CPU path, flax's initialisers, DCGAN's batch norm) are DTN's: with outputs = 3 and no
  noise or dropout it is DTN's three-way D (Taigman et al. 2017: G(source), G(target), real target)."""
  outputs: int = 1
  width: int = 64
  noise: float = 0.0
  dropout: float = 0.0
  input_noise: bool = True
  strided_kernel: int = 4
  init_std: float = 0.0  # > 0: every weight from N(0, init_std), biases 0 (the released code's)
  slim_norm: bool = False  # TF-Slim's batch norm (the released code's): no scale, epsilon 1e-3, decay 0.9
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    def noisy(h):
      if not (train and self.noise):
        return h
      return h + self.noise * jax.random.normal(self.make_rng("noise"), h.shape, h.dtype)

    def norm():
      if self.slim_norm:
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-3, use_scale=False,
                            dtype=self.dtype)
      return batch_norm(train, self.dtype)

    init = {"kernel_init": nn.initializers.normal(self.init_std)} if self.init_std else {}
    h = x.astype(self.dtype)
    h = noisy(h) if self.input_noise else h
    for i, stride in enumerate((1, 2, 2, 2)):
      k = (3, 3) if stride == 1 else (self.strided_kernel,) * 2  # 4x4 stride 2: ganjax's fast CPU path
      h = Conv(self.width * 2**i, k, (stride, stride), impl=self.conv_impl, dtype=self.dtype, **init)(h)
      if i > 0:
        h = norm()(h)
      h = nn.leaky_relu(h, 0.2)
      if self.dropout:
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
      h = noisy(h)
    out = nn.Dense(self.outputs, **init)(h.reshape((h.shape[0], -1)).astype(jnp.float32))
    return out[:, 0] if self.outputs == 1 else out


class Decoder(nn.Module):
  """DTN's g: a code (B, d) -> an image of `out_shape`: a dense layer to (H/4, W/4, 2 width), two
  4x4 stride-2 transposed convolutions (batch norm, ReLU), tanh."""
  out_shape: Sequence[int]
  width: int = 64
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, code, train: bool = True):
    hh, ww, ch = self.out_shape
    if hh % 4 or ww % 4:
      raise ValueError(f"DTN's decoder needs image sides divisible by 4, got {hh} x {ww}")
    h = nn.Dense(hh // 4 * ww // 4 * 2 * self.width, dtype=self.dtype)(code.astype(self.dtype))
    h = nn.relu(batch_norm(train, self.dtype)(h.reshape((-1, hh // 4, ww // 4, 2 * self.width))))
    h = ConvTranspose(self.width, impl=self.conv_impl, dtype=self.dtype)(h)
    h = nn.relu(batch_norm(train, self.dtype)(h))
    h = ConvTranspose(ch, impl=self.conv_impl, dtype=self.dtype)(h)
    return jnp.tanh(h.astype(jnp.float32))


class NoiseConditioned(nn.Module):
  """PixelDA's generator G(x, z) (Bousmalis et al. 2017, Fig. 2; the authors' `resnet_generator`):
  z through a fully connected layer to H x W values (batch norm, ReLU), reshaped to one extra image
  channel and concatenated with the source image x; a `kernel` x `kernel` convolution of `width`
  filters and ReLU (no batch norm); `blocks` residual blocks (conv, batch norm, ReLU, conv, batch
  norm, plus the block's input, no activation after the sum); a 1x1 convolution to `out_channels`
  and tanh. Stride 1 and zero (SAME) padding throughout; TF-Slim's batch norm (decay 0.9, epsilon
  1e-3, no scale; no bias in the layers it follows); weights from N(0, `init_std`), biases 0."""
  out_channels: int
  width: int = 64
  blocks: int = 6
  kernel: int = 3
  init_std: float = 0.02
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, z, train: bool = True):
    init = nn.initializers.normal(self.init_std)
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-3,  # noqa: E731
                                use_scale=False, dtype=self.dtype)
    conv = lambda ch, k=self.kernel, bias=False: nn.Conv(ch, (k, k), padding="SAME", use_bias=bias,  # noqa: E731
                                                         kernel_init=init, dtype=self.dtype)
    b, hh, ww = x.shape[:3]
    noise = nn.Dense(hh * ww, use_bias=False, kernel_init=init, dtype=self.dtype)(z.astype(self.dtype))
    noise = nn.relu(norm()(noise)).reshape((b, hh, ww, 1))
    h = nn.relu(conv(self.width, bias=True)(jnp.concatenate([x.astype(self.dtype), noise.astype(self.dtype)], -1)))
    for _ in range(self.blocks):
      r = nn.relu(norm()(conv(self.width)(h)))
      h = h + norm()(conv(self.width)(r))
    return jnp.tanh(conv(self.out_channels, 1, True)(h).astype(jnp.float32))
