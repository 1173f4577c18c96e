"""Fully connected players: Goodfellow et al. (2014)'s MLP GAN, and the MLP VAE of Kingma & Welling
(2013) (784-500-20 as in the Flax VAE example when `hidden=(500,)`)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from ganjax.networks.layers import MinibatchDiscrimination, spectral, wide

OUTPUT_ACTIVATIONS = {"tanh": jnp.tanh, "none": lambda x: x}


class Generator(nn.Module):
  out_shape: Sequence[int]
  hidden: Sequence[int] = (256, 512)
  output_activation: str = "tanh"  # "none" for a decoder that returns logits
  dtype: Any = jnp.float32  # computation dtype (parameters stay float32); outputs are float32
  batch_norm: bool = False  # Dense -> batch norm -> ReLU in every hidden layer (BiGAN's MNIST generator)

  @nn.compact
  def __call__(self, z, train: bool = True):
    h = z
    for width in self.hidden:
      h = nn.Dense(width, use_bias=not self.batch_norm, dtype=self.dtype)(h)
      if self.batch_norm:
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(h)
      h = nn.relu(h)
    x = nn.Dense(math.prod(self.out_shape), dtype=self.dtype)(h).astype(wide(self.dtype))
    return OUTPUT_ACTIVATIONS[self.output_activation](x).reshape((z.shape[0], *self.out_shape))


class Discriminator(nn.Module):
  hidden: Sequence[int] = (512, 256)
  num_outputs: int = 1
  negative_slope: float = 0.2
  minibatch_features: Sequence[int] = ()  # (B, C) or (B, C, group size): add a minibatch-discrimination layer
  spectral_norm: bool = False  # spectrally normalise every weight (Miyato et al. 2018)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.reshape((x.shape[0], -1))
    for width in self.hidden:
      h = nn.leaky_relu(spectral(nn.Dense(width, dtype=self.dtype), self.spectral_norm, train)(h),
                        self.negative_slope)
      self.sow("intermediates", "blocks", h)  # every hidden layer, for a multi-layer feature matching
    self.sow("intermediates", "features", h)
    if self.minibatch_features:
      h = MinibatchDiscrimination(*self.minibatch_features, dtype=self.dtype)(h)
    out = spectral(nn.Dense(self.num_outputs, dtype=self.dtype), self.spectral_norm, train)(h)
    out = out.astype(wide(self.dtype))
    return out[:, 0] if self.num_outputs == 1 else out


class Encoder(nn.Module):
  latent_dim: int
  hidden: Sequence[int] = (500,)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.reshape((x.shape[0], -1))
    for width in self.hidden:
      h = nn.relu(nn.Dense(width, dtype=self.dtype)(h))
    head = lambda: nn.Dense(self.latent_dim, dtype=self.dtype)(h).astype(wide(self.dtype))  # noqa: E731
    return head(), head()
