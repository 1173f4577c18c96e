"""A deterministic autoencoder x -> code -> reconstruction: EBGAN's discriminator (Zhao et al. 2016,
Sec. 2.3), the plain autoencoder and DiscoGAN's generators. The encoder is the MLP or DCGAN
discriminator trunk followed by a linear code layer; the decoder is the matching generator
(`ganjax.networks.mlp` / `dcgan`) fed the code. With `bottleneck="conv"` (DCGAN only) there is no
dense layer: the code is the trunk's 4x4 feature map and the decoder's transposed convolutions start
from it -- the fully convolutional encoder-decoder of DiscoGAN's released code (Kim et al. 2017:
strided 4x4 convolutions with batch norm and leaky ReLU down to 4x4, transposed ones with batch norm
and ReLU back up). Returns (reconstruction, code) and sows the code as the "features"."""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks import dcgan, mlp
from ganjax.networks.layers import wide


class Autoencoder(nn.Module):
  out_shape: Sequence[int]
  kind: str = "dcgan"  # mlp | dcgan
  code_dim: int = 64
  width: int = 64  # DCGAN base channels
  hidden: Sequence[int] = (512, 256)  # MLP encoder widths (the decoder mirrors them)
  batch_norm: bool = True  # DCGAN encoder batch norm
  bottleneck: str = "dense"  # dense (a code of code_dim units) | conv (the 4x4 feature map, fully convolutional)
  output_activation: str = "tanh"
  conv_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True, decode_only: bool = False):
    """(reconstruction, code) of x; with `decode_only`, x is a batch of codes and only the decoder runs."""
    conv = self.bottleneck == "conv"
    if self.bottleneck not in ("dense", "conv") or (conv and self.kind != "dcgan"):
      raise ValueError(f"autoencoder bottleneck must be dense | conv (conv: kind dcgan), got {self.bottleneck!r} "
                       f"with kind {self.kind!r}")
    if self.kind == "dcgan":
      decoder = dcgan.Generator(self.out_shape, self.width, self.output_activation, self.conv_impl, self.dtype,
                                conv_input=conv, name="decoder")
    elif self.kind == "mlp":
      decoder = mlp.Generator(self.out_shape, tuple(reversed(self.hidden)), self.output_activation, self.dtype,
                              name="decoder")
    else:
      raise ValueError(f"autoencoder kind must be mlp | dcgan, got {self.kind!r}")
    if decode_only:
      return decoder(x, train=train)
    if self.kind == "dcgan":
      trunk = dcgan._ConvTrunk(self.width, self.batch_norm, self.dtype, conv_impl=self.conv_impl, flatten=not conv)
      h = trunk(x, train)
    else:
      h = x.reshape((x.shape[0], -1)).astype(self.dtype)
      for width in self.hidden:
        h = nn.leaky_relu(nn.Dense(width, dtype=self.dtype)(h), 0.2)
    code = (h if conv else nn.Dense(self.code_dim, dtype=self.dtype)(h)).astype(wide(self.dtype))
    self.sow("intermediates", "features", code)
    return decoder(code, train=train), code
