"""The PatchGAN discriminator of pix2pix (Isola et al. 2017, Sec. 3.2.2 and App. 6.1.2).

A fully convolutional classifier of N x N patches: C64-C128-C256-C512 of 4x4 convolutions (stride 2,
the last stride 1), BatchNorm after all but the first, LeakyReLU 0.2, then a 4x4 stride-1
convolution to one logit per patch position; the adversarial loss averages over the patches.
Every convolution is padded by 1 pixel on each side, as the authors' released `NLayerDiscriminator`
(`padw = 1`): a stride-2 layer halves an even size, and each of the two stride-1 layers takes one
pixel off, so a 256 x 256 input gives a 30 x 30 logit map (SAME padding would give 32 x 32).
CycleGAN's discriminators are the same network with instance norm (`norm="instance"`).
`layers` = 3 is the paper's 70 x 70 PatchGAN (receptive field 70 pixels); 1 gives 16 x 16 and 2
gives 34 x 34 (the paper's Table 2 compares these). For pix2pix the input is the (input, output)
pair concatenated on channels. An image too small for the two stride-1 layers (fewer than 3 pixels
left after the strided ones: below 24 px with `layers` = 3), where the released network fails too,
is one clear line.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from ganjax.errors import DataError
from ganjax.networks.layers import Conv
from ganjax.networks.resnet_generator import norm_layer

init = nn.initializers.normal(0.02)
PAD = ((1, 1), (1, 1))  # NLayerDiscriminator's padw = 1


def receptive_field(layers: int) -> int:
  """Receptive field of one output logit: 4x4 kernels, `layers` strided, then two of stride 1."""
  r = 1
  for stride in reversed([2] * layers + [1, 1]):
    r = r * stride + (4 - stride)
  return r


def min_size(layers: int) -> int:
  """The smallest even image side that leaves one logit: 3 pixels after the `layers` halvings."""
  return 3 * 2**layers


class PatchGAN(nn.Module):
  width: int = 64
  layers: int = 3
  norm: str = "batch"  # batch (pix2pix) | instance (CycleGAN)
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    if min(x.shape[1:3]) < min_size(self.layers):
      raise DataError(f"the {receptive_field(self.layers)} x {receptive_field(self.layers)} PatchGAN "
                      f"(patch_layers={self.layers}) needs images of at least {min_size(self.layers)} px, got "
                      f"{x.shape[1]} x {x.shape[2]}: lower patch_layers or raise data.image_size")
    h = x.astype(self.dtype)
    for i in range(self.layers + 1):
      ch = self.width * min(2**i, 8)
      if i < self.layers:  # stride 2: SAME pads an even size by 1 on each side, as padw = 1
        h = Conv(ch, strides=(2, 2), kernel_init=init, impl=self.conv_impl, dtype=self.dtype)(h)
      else:
        h = nn.Conv(ch, (4, 4), padding=PAD, kernel_init=init, dtype=self.dtype)(h)
      if i > 0:
        h = norm_layer(self.norm, train, self.dtype)(h)
      h = nn.leaky_relu(h, 0.2)
    return nn.Conv(1, (4, 4), padding=PAD, kernel_init=init, dtype=self.dtype)(h).astype(jnp.float32)
