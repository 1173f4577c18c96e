"""Networks for token sequences: an LSTM generator that is stepped one token at a time,
and SeqGAN's CNN discriminator with a highway layer.

`LSTMGenerator.__call__(carry, x)` is one step: the previous token x (int ids (B,), or a relaxed
one-hot / soft-argmax distribution (B, V), embedded as x @ E) and the carry (c, h) -> (carry, logits
of the next token). Whole sequences are unrolled with `lax.scan` by `ganjax.algorithms.sequences`,
outside the module, so the same parameters serve teacher forcing, sampling, Monte Carlo rollouts
and relaxed sampling. Token 0 is the start input (SeqGAN's `start_token = 0`). With `latent_dim`
> 0, `initial(z)` maps a latent code to the initial carry (the GANs' G(z)); otherwise the carry
starts at zero (SeqGAN's policy and its oracle). `init_std` > 0 draws every parameter from
N(0, init_std^2): SeqGAN's oracle, "a randomly initialized LSTM, parameters ~ N(0, 1)".

`SequenceCNN(tokens_or_probs)` -> (logit, features): Yu et al.'s discriminator (Kim's text CNN):
embedding, one convolution over time per window size (ReLU, max over time), concatenated, a
highway layer, dropout, and one real-vs-generated logit. `features` (the pooled, highway-mixed
vector) is what TextGAN matches. SeqGAN's windows for length 20: 1-10, 15, 20 with
100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160 filters (`SEQGAN_FILTERS`);
windows longer than the sequence are dropped.

`SequenceLSTM(tokens_or_probs)` -> (logit, features): Kusner & Hernandez-Lobato's discriminator, an
LSTM reading the (relaxed) one-hot sequence, its last hidden state -> one logit.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

SEQGAN_FILTERS = ((1, 100), (2, 200), (3, 200), (4, 200), (5, 200), (6, 100), (7, 100), (8, 100), (9, 100),
                  (10, 100), (15, 160), (20, 160))


def embed(table, x):
  """Token ids (...,) or distributions over the vocabulary (..., V) -> embeddings (..., E)."""
  if jnp.issubdtype(x.dtype, jnp.integer):
    return table[x]
  return x.astype(table.dtype) @ table


class LSTMGenerator(nn.Module):
  vocab_size: int
  embed_dim: int = 32
  hidden: int = 32
  latent_dim: int = 0
  init_std: float = 0.0  # > 0: every parameter ~ N(0, init_std^2) (SeqGAN's oracle)

  def setup(self):
    if self.init_std:
      w = b = nn.initializers.normal(self.init_std)
    else:
      w, b = nn.initializers.lecun_normal(), nn.initializers.zeros
    self.embedding = self.param("embedding", nn.initializers.normal(self.init_std or 0.1),
                                (self.vocab_size, self.embed_dim))
    self.gates = nn.Dense(4 * self.hidden, kernel_init=w, bias_init=b, name="gates")  # [x, h] -> i, f, o, u
    self.readout = nn.Dense(self.vocab_size, kernel_init=w, bias_init=b, name="readout")
    if self.latent_dim:
      self.from_latent = nn.Dense(2 * self.hidden, name="from_latent")

  def initial(self, z):
    """The initial carry (c, h): from the latent code z (B, latent_dim), or zeros for (B,) ids."""
    if self.latent_dim and z.ndim == 2:
      c, h = jnp.split(jnp.tanh(self.from_latent(z)), 2, axis=-1)
      return c, h
    n = z.shape[0]
    return jnp.zeros((n, self.hidden)), jnp.zeros((n, self.hidden))

  def __call__(self, carry, x, train: bool = False):
    c, h = carry
    i, f, o, u = jnp.split(self.gates(jnp.concatenate([embed(self.embedding, x), h], axis=-1)), 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(u)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (c, h), self.readout(h)

  def init_all(self, z, x):
    """Creates every parameter (the latent map too): what `init` runs."""
    return self(self.initial(z), x)


_W = nn.initializers.truncated_normal(0.1)  # SeqGAN's discriminator initialisers
_B = nn.initializers.constant(0.1)


def _uniform_pm1(key, shape, dtype=jnp.float32):
  return jax.random.uniform(key, shape, dtype, -1.0, 1.0)


def _glorot_vector(key, shape, dtype=jnp.float32):
  """TensorFlow's default initializer (glorot_uniform) on a 1-D variable: fan_in = fan_out = n,
  U(-sqrt(3 / n), sqrt(3 / n)) -- the released highway layer's biases (`tf.get_variable` with no
  initializer)."""
  limit = (3.0 / shape[-1]) ** 0.5
  return jax.random.uniform(key, shape, dtype, -limit, limit)


class Highway(nn.Module):
  """One highway layer as SeqGAN's released discriminator (`highway(..., num_layers=1, bias=0)`):
  t = sigmoid(W_t x + b_t + gate_bias), y = t * relu(W_h x + b_h) + (1 - t) * x, every weight and bias
  from TensorFlow's default glorot_uniform, and `gate_bias` 0 (the function's default, -2, is
  overridden where the discriminator calls it)."""
  gate_bias: float = 0.0

  @nn.compact
  def __call__(self, x):
    d = x.shape[-1]
    dense = lambda name: nn.Dense(d, kernel_init=nn.initializers.glorot_uniform(), bias_init=_glorot_vector,  # noqa: E731
                                  name=name)
    t = jax.nn.sigmoid(dense("transform")(x) + self.gate_bias)
    return t * jax.nn.relu(dense("hidden")(x)) + (1.0 - t) * x


class SequenceCNN(nn.Module):
  """Initialised as SeqGAN's released discriminator: embeddings ~ U(-1, 1) (random token features from
  the start), convolution and output weights ~ N(0, 0.1^2) truncated, biases 0.1, the highway layer as
  `Highway`. `classes` = 2 is the released output layer, a two-class softmax (W of (F, 2)); the module
  then returns its log-odds l_1 - l_0 as the logit, so sigmoid(logit) = softmax(l)_1 = the code's
  `ypred_for_auc[:, 1]` and the binary cross-entropy of that logit is the code's softmax cross-entropy.
  `classes` = 1: one logit."""
  vocab_size: int
  embed_dim: int = 64
  filters: Sequence = SEQGAN_FILTERS  # (window, count) pairs
  filter_scale: float = 1.0  # every count times this (a CPU-sized D keeps the windows)
  dropout: float = 0.25  # SeqGAN's keep probability 0.75
  extra_outputs: int = 0  # > 0: a second head (TextGAN's latent reconstruction) on the features
  classes: int = 1  # 2: the released code's two-class softmax output layer

  @nn.compact
  def __call__(self, x, train: bool = False):
    table = self.param("embedding", _uniform_pm1, (self.vocab_size, self.embed_dim))
    e = embed(table, x)  # (B, T, E)
    length = e.shape[1]
    pooled = []
    for window, count in self.filters:
      if window > length:
        continue
      k = max(1, int(round(count * self.filter_scale)))
      y = nn.Conv(k, (window,), padding="VALID", kernel_init=_W, bias_init=_B, name=f"conv{window}")(e)
      pooled.append(jnp.max(jax.nn.relu(y), axis=1))
    feats = Highway(name="highway")(jnp.concatenate(pooled, axis=-1))
    feats = nn.Dropout(self.dropout, deterministic=not train)(feats)
    out = nn.Dense(self.classes, kernel_init=_W, bias_init=_B, name="logit")(feats)
    logit = out[:, 1] - out[:, 0] if self.classes == 2 else out[:, 0]
    if self.extra_outputs:
      return logit, feats, nn.Dense(self.extra_outputs, name="extra")(feats)
    return logit, feats


class SequenceLSTM(nn.Module):
  vocab_size: int
  embed_dim: int = 32
  hidden: int = 64

  @nn.compact
  def __call__(self, x, train: bool = False):
    table = self.param("embedding", nn.initializers.normal(0.1), (self.vocab_size, self.embed_dim))
    e = embed(table, x)  # (B, T, E)
    h = nn.RNN(nn.OptimizedLSTMCell(self.hidden), name="lstm")(e)[:, -1]
    return nn.Dense(1, name="logit")(h)[:, 0], h
