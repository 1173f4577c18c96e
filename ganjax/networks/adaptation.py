"""The networks of the domain-adaptation methods (`ganjax.algorithms.dann`, `dtn`, `pixelda`, `simgan`).

`Extractor` + `Head` is the MNIST architecture of Ganin et al. 2016 (JMLR, Sec. 5.1 / Fig. 4):
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
  with `features`, the last hidden layer instead of the logits."""
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
  """PixelDA's discriminator (Bousmalis et al. 2017, App.): Gaussian noise of std `noise` on the input
  and after every layer while training, 3x3 convolutions of width, 2, 4, 8 x width filters (strides
  1, 2, 2, 2; batch norm after all but the first; the strided ones 4x4 here, for ganjax's fast CPU
  path), leaky ReLU 0.2 and dropout `dropout`, then
  `outputs` logits (a vector when 1). With outputs = 3 and no noise or dropout it is DTN's three-way
  D (Taigman et al. 2017: G(source), G(target), real target)."""
  outputs: int = 1
  width: int = 64
  noise: float = 0.0
  dropout: float = 0.0
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    def noisy(h):
      if not (train and self.noise):
        return h
      return h + self.noise * jax.random.normal(self.make_rng("noise"), h.shape, h.dtype)

    h = noisy(x.astype(self.dtype))
    for i, stride in enumerate((1, 2, 2, 2)):
      k = (3, 3) if stride == 1 else (4, 4)  # 4x4 stride 2: ganjax's fast CPU path (`layers.Conv`)
      h = Conv(self.width * 2**i, k, (stride, stride), impl=self.conv_impl, dtype=self.dtype)(h)
      if i > 0:
        h = batch_norm(train, self.dtype)(h)
      h = nn.leaky_relu(h, 0.2)
      if self.dropout:
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
      h = noisy(h)
    out = nn.Dense(self.outputs)(h.reshape((h.shape[0], -1)).astype(jnp.float32))
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
  """PixelDA's generator G(x, z) (Bousmalis et al. 2017, Sec. 3.2 and App.): the noise vector z
  through a dense layer to one extra image channel, concatenated with the source image x, then a
  stride-1 ResNet (`ResnetGenerator` with no down-sampling: 3x3 convolutions of `width` filters,
  `blocks` residual blocks with batch norm, tanh)."""
  out_channels: int
  width: int = 64
  blocks: int = 6
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, z, train: bool = True):
    from ganjax.networks.resnet_generator import ResnetGenerator

    noise = nn.Dense(x.shape[1] * x.shape[2])(z).reshape((*x.shape[:3], 1))
    return ResnetGenerator(self.out_channels, width=self.width, blocks=self.blocks, downsamplings=0, norm="batch",
                           edge_kernel=3, dtype=self.dtype)(jnp.concatenate([x, noise.astype(x.dtype)], -1), train)
