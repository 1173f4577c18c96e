"""The PatchGAN discriminator of pix2pix (Isola et al. 2017, Sec. 3.2.2 and App. 6.1.2).

A fully convolutional classifier of N x N patches: C64-C128-C256-C512 of 4x4 convolutions (stride 2,
the last stride 1), BatchNorm after all but the first, LeakyReLU 0.2, then a 4x4 stride-1
convolution to one logit per patch position; the adversarial loss averages over the patches.
CycleGAN's discriminators are the same network with instance norm (`norm="instance"`).
`layers` = 3 is the paper's 70 x 70 PatchGAN (receptive field 70 pixels); 1 gives 16 x 16 and 2
gives 34 x 34 (the paper's Table 2 compares these). For pix2pix the input is the (input, output)
pair concatenated on channels.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.layers import Conv
from ganjax.networks.resnet_generator import norm_layer

init = nn.initializers.normal(0.02)


def receptive_field(layers: int) -> int:
  """Receptive field of one output logit: 4x4 kernels, `layers` strided, then two of stride 1."""
  r = 1
  for stride in reversed([2] * layers + [1, 1]):
    r = r * stride + (4 - stride)
  return r


class PatchGAN(nn.Module):
  width: int = 64
  layers: int = 3
  norm: str = "batch"  # batch (pix2pix) | instance (CycleGAN)
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.astype(self.dtype)
    for i in range(self.layers + 1):
      stride = 2 if i < self.layers else 1
      h = Conv(self.width * min(2**i, 8), strides=(stride, stride), kernel_init=init, impl=self.conv_impl,
               dtype=self.dtype)(h)
      if i > 0:
        h = norm_layer(self.norm, train, self.dtype)(h)
      h = nn.leaky_relu(h, 0.2)
    return Conv(1, strides=(1, 1), kernel_init=init, impl=self.conv_impl, dtype=self.dtype)(h).astype(jnp.float32)
