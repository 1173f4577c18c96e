"""The MNIST players of Salimans et al. 2016 ("Improved Techniques for Training GANs"), as in their
released code (openai/improved-gan, mnist_svhn_cifar10/train_mnist_feature_matching.py and nn.py):

  G: z -> FC 500 (no bias) BN (no scale) softplus -> FC 500 BN softplus -> FC `out` with weight
     normalisation (trained scale, Glorot-uniform direction) -> the output activation
  D: x -> noise(sigma_in) -> [WN-FC 1000 ReLU -> noise(0.5)] -> 500 -> 250 -> 250 -> 250
     -> WN-FC `num_outputs` (trained scale, no nonlinearity)

D's layers are weight-normalised (Salimans & Kingma 2016): W = g v / ||v||, v ~ N(0, 0.1), with a
data-dependent initialisation (`data_init`: on a batch of real images each layer's g and b are set
so that its pre-activations have zero mean and unit variance); the hidden layers' scales g then
stay fixed (collection "weight_norm"), the output layer's is trained. The code runs that
initialisation pass with the noise layers on (`LL.get_output(..., deterministic=False, init=True)`),
so the pre-activations it normalises include the noise and the fixed scales come out smaller than
from clean inputs: `noisy_init=True` does the same, given a key (measured worse here: D wins the
unsupervised game sooner, docs/results.md; the default initialises on clean inputs). `unit_pixels`
(config `model.pixel_range="unit"`) puts the code's [0, 1] pixels inside both players — G's sigmoid,
returned as 2 sigmoid - 1, and D reading (x + noise + 1) / 2 — with ganjax's [-1, 1] outside: with
weight normalisation the two ranges are not equivalent once training moves v, because a [-1, 1]
background feeds every weight on it a constant -1 where the code's feeds 0 (plus noise). Gaussian noise is added to
D's input and to every hidden layer's output when an rng named "noise" is given (training); without
one (evaluation) D is deterministic. D sows its last hidden layer's output (before its noise) as the
"features" of feature matching: the code's `layers[-3]`.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.errors import choose
from ganjax.networks.layers import wide
from ganjax.networks.mlp import OUTPUT_ACTIVATIONS


class WNDense(nn.Module):
  """A weight-normalised dense layer, y = x (g v / ||v||) + b, with Salimans et al.'s initialisation:
  v ~ N(0, 0.1), g = 1, b = 0, then (`init_data=True`, one pass over a data batch) g <- g / std and
  b <- -mean / std of the pre-activations, whose normalised values the pass returns. g is a
  parameter when `train_scale`, else a fixed variable (collection "weight_norm")."""
  features: int
  train_scale: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, init_data: bool = False):
    v = self.param("v", nn.initializers.normal(0.1), (x.shape[-1], self.features))
    scale = self.variable("params" if self.train_scale else "weight_norm", "scale", jnp.ones, (self.features,))
    bias = self.variable("params", "bias", jnp.zeros, (self.features,))
    w = v * (scale.value / jnp.sqrt(jnp.sum(v**2, axis=0)))
    a = x.astype(self.dtype) @ w.astype(self.dtype)
    if init_data:
      mean = jnp.mean(a, axis=0)
      std = jnp.sqrt(jnp.mean((a - mean)**2, axis=0))
      scale.value, bias.value = scale.value / std, -mean / std
      return (a - mean) / std
    return a + bias.value.astype(self.dtype)


HIDDEN_INITS = {"glorot": nn.initializers.glorot_uniform(), "lecun": nn.initializers.lecun_normal()}


class Generator(nn.Module):
  out_shape: Sequence[int]
  hidden: Sequence[int] = (500, 500)
  output_activation: str = "tanh"  # the code: sigmoid on [0, 1] pixels; ganjax's images are in [-1, 1]
  dtype: Any = jnp.float32
  unit_pixels: bool = False  # the code's sigmoid, returned on ganjax's scale: 2 sigmoid(a) - 1 (for "tanh")
  hidden_init: str = "glorot"  # G's hidden weights: "glorot" (Lasagne's DenseLayer default) | "lecun" (flax's)

  @nn.compact
  def __call__(self, z, train: bool = True):
    init = choose("model.weight_init", self.hidden_init, HIDDEN_INITS)
    h = z
    for width in self.hidden:
      h = nn.Dense(width, use_bias=False, kernel_init=init, dtype=self.dtype)(h)
      h = nn.BatchNorm(use_running_average=not train, use_scale=False, momentum=0.9, epsilon=1e-6, dtype=self.dtype)(h)
      h = nn.softplus(h)
    size = math.prod(self.out_shape)
    v = self.param("out_v", nn.initializers.glorot_uniform(), (h.shape[-1], size))
    g = self.param("out_scale", nn.initializers.ones, (size,))
    b = self.param("out_bias", nn.initializers.zeros, (size,))
    w = v * (g / jnp.sqrt(1e-6 + jnp.sum(v**2, axis=0)))
    x = (h @ w.astype(self.dtype) + b.astype(self.dtype)).astype(wide(self.dtype))
    if self.unit_pixels and self.output_activation == "tanh":
      return (2.0 * jax.nn.sigmoid(x) - 1.0).reshape((z.shape[0], *self.out_shape))
    return OUTPUT_ACTIVATIONS[self.output_activation](x).reshape((z.shape[0], *self.out_shape))


class Discriminator(nn.Module):
  hidden: Sequence[int] = (1000, 500, 250, 250, 250)
  num_outputs: int = 1
  input_noise: float = 0.6  # the code's 0.3 on [0, 1] pixels, on ganjax's [-1, 1] ones
  hidden_noise: float = 0.5
  dtype: Any = jnp.float32
  noisy_init: bool = False  # True: the data-dependent initialisation sees the noise, as in the code
  unit_pixels: bool = False  # read (x + noise + 1) / 2: the code's [0, 1] pixels with its input noise 0.3

  @nn.compact
  def __call__(self, x, train: bool = True, init_data: bool = False):
    noisy = train and self.has_rng("noise")

    def noise(h, sigma):
      return h + sigma * jax.random.normal(self.make_rng("noise"), h.shape, h.dtype) if noisy and sigma else h

    h = noise(x.reshape((x.shape[0], -1)).astype(self.dtype), self.input_noise)
    if self.unit_pixels:  # after the noise: sigma 0.6 on [-1, 1] is the code's 0.3 on [0, 1]
      h = (h + 1.0) / 2.0
    for i, width in enumerate(self.hidden):
      h = nn.relu(WNDense(width, dtype=self.dtype)(h, init_data))
      if i == len(self.hidden) - 1:
        self.sow("intermediates", "features", h)
      h = noise(h, self.hidden_noise)
    out = WNDense(self.num_outputs, train_scale=True, dtype=self.dtype)(h, init_data).astype(wide(self.dtype))
    return out[:, 0] if self.num_outputs == 1 else out

  def data_init(self, variables, x, key=None):
    """`variables` after weight normalisation's data-dependent initialisation on the batch `x`
    (the code's `init_param(trainx[:500])`); with `noisy_init` and a `key`, the pass draws D's
    noise from it, as the code's does."""
    rngs = {"noise": key} if self.noisy_init and key is not None else {}
    _, updated = self.apply(variables, x, train=bool(rngs), init_data=True, rngs=rngs, mutable=["params", "weight_norm"])
    return {**variables, **updated}
