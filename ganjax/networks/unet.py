"""The U-Net generator of pix2pix (Isola et al. 2017, Sec. 3.2.1 and App. 6.1.1).

An encoder-decoder whose i-th decoder layer also receives the (n - i)-th encoder layer's output
(skip connections, concatenated on channels), so that low-level structure shared by input and
output (edges, layout) need not pass through the bottleneck. Encoder: 4x4 stride-2 convolutions
C64-C128-C256-C512-C512-... down to 1 x 1 (channels `width * min(2^i, 8)`), BatchNorm after all but
the first and the innermost one, LeakyReLU 0.2 before every one but the first. Decoder: 4x4 stride-2
transposed convolutions mirroring the encoder, each fed ReLU of the concatenation [encoder output,
decoder output] (the encoder's side before its LeakyReLU), BatchNorm after all but the last, dropout
0.5 -- pix2pix's only noise source, kept on at test time -- and a tanh output with `out_channels`.
Where the dropout goes, paper and released code disagree (`dropout_placement`): "paper" puts it in the
`dropout_layers` = 3 innermost decoder layers (App. 6.1.1: CD512-CD512-CD512-C512-...); "released" as
`UnetGenerator`, which gives the innermost block none and the `num_downs - 5` 512-channel blocks
around it one each -- decoder layers 1 .. n - 5 counted from the innermost (layers 1-3 at 256 x 256,
none at 32 x 32, where the released network has no noise at all). This is the authors' released `UnetSkipConnectionBlock`:
`torch.cat([x, model(x)], 1)` followed by the next block's `uprelu` (ReLU) before its `upconv`, the
skip side first. Weights from N(0, 0.02). Image sizes: the shorter side a power of two >= 8, the
longer a multiple of it (32 x 32 takes 5 levels; the paper's 256 x 256 8; 256 x 512 also 8, down to
1 x 2).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from ganjax.errors import ConfigError, DataError
from ganjax.networks.dcgan import batch_norm
from ganjax.networks.layers import Conv, ConvTranspose

init = nn.initializers.normal(0.02)


def levels(height: int, width: int) -> int:
  """The number of stride-2 levels: down to 1 pixel on the shorter side, which must be a power of
  two >= 8; the longer side must be a multiple of it (256 x 512 ends at 1 x 2)."""
  short = min(height, width)
  n = int(round(math.log2(short)))
  if short < 8 or 2**n != short or max(height, width) % short:
    raise DataError(f"the U-Net needs images whose shorter side is a power of two >= 8 and whose longer side "
                    f"is a multiple of it, got {height} x {width}: set --config.data.image_size or data.crop")
  return n


class UNet(nn.Module):
  out_channels: int
  width: int = 64
  dropout_layers: int = 3
  dropout_rate: float = 0.5
  dropout_placement: str = "paper"  # paper | released (see the module docstring)
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    n = levels(*x.shape[1:3])
    if self.dropout_placement not in ("paper", "released"):
      raise ConfigError(f"unknown dropout_placement {self.dropout_placement!r}: paper | released")
    channels = [self.width * min(2**i, 8) for i in range(n)]
    skips, h = [], x.astype(self.dtype)
    for i, ch in enumerate(channels):  # encoder: size / 2^(i+1)
      if i > 0:
        h = nn.leaky_relu(h, 0.2)
      h = Conv(ch, kernel_init=init, impl=self.conv_impl, dtype=self.dtype, name=f"down{i}")(h)
      if 0 < i < n - 1:
        h = batch_norm(train, self.dtype)(h)
      skips.append(h)  # before the LeakyReLU: the decoder's ReLU takes it
    for j, ch in enumerate(reversed(channels[:-1])):  # decoder, innermost first
      h = ConvTranspose(ch, kernel_init=init, impl=self.conv_impl, dtype=self.dtype, name=f"up{j}")(nn.relu(h))
      h = batch_norm(train, self.dtype)(h)
      if (j < self.dropout_layers if self.dropout_placement == "paper" else 1 <= j <= n - 5):
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
      h = jnp.concatenate([skips[n - 2 - j], h], axis=-1)  # the skip first, as torch.cat([x, model(x)])
    h = ConvTranspose(self.out_channels, kernel_init=init, impl=self.conv_impl, dtype=self.dtype, name="out")(
        nn.relu(h))
    return jnp.tanh(h.astype(jnp.float32))
