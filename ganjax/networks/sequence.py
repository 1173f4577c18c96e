"""Networks for token sequences: an LSTM generator that is stepped one token at a time,
and SeqGAN's CNN discriminator with a highway layer.

`LSTMGenerator.__call__(carry, x)` is one step: the previous token x (int ids (B,), or a relaxed
one-hot / soft-argmax distribution (B, V), embedded as x @ E) and the carry (c, h) -> (carry, logits
of the next token). Whole sequences are unrolled outside the module by the functions at the end of
this file, each one `lax.scan` over time (no Python loop per token), so the same parameters serve
teacher forcing (`teacher_forced_logits`, `nll`), sampling (`sample`), Monte Carlo rollouts
(`rollout`, `rollout_values`, `vmap`ped over the completions) and relaxed Gumbel-softmax /
soft-argmax sampling (`relaxed_sample`): the sequence methods (`ganjax.algorithms.sequences`), the
oracle data (`ganjax.data.sequences`) and its NLL metric (`ganjax.metrics.sequences`) all step the
network through them. Token 0 is the start input (`START`, SeqGAN's `start_token = 0`). With
`latent_dim` > 0, `initial(z)` maps a latent code to the initial carry (the GANs' G(z)); otherwise
the carry starts at zero (SeqGAN's policy and its oracle). `init_std` > 0 draws every parameter from
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

START = 0  # the first input of every unroll
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


# The unrolls of an `LSTMGenerator`: `apply_fn` is its `apply`, `params` its parameters.


def categorical(key, logits):
  """One token per row of logits (B, V), exactly, by inverting the CDF with a single uniform per row
  (V times fewer random numbers than `jax.random.categorical`'s Gumbel trick: the rollouts draw tens
  of millions of tokens per step) in two levels: the block of ~sqrt(V) tokens the uniform falls in,
  then the token inside it (two cumulative sums of ~sqrt(V) instead of one of V)."""
  n, v = logits.shape[:-1], logits.shape[-1]
  block = max(1, int(round(v**0.5)))
  blocks = -(-v // block)
  p = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
  p = jnp.pad(p, [(0, 0)] * len(n) + [(0, blocks * block - v)]).reshape((*n, blocks, block))
  outer = jnp.cumsum(jnp.sum(p, axis=-1), axis=-1)  # (..., blocks)
  u = jax.random.uniform(key, (*n, 1)) * outer[..., -1:]
  i = jnp.minimum(jnp.sum(outer < u, axis=-1), blocks - 1)  # the block holding u
  before = jnp.where(i > 0, jnp.take_along_axis(outer, jnp.maximum(i - 1, 0)[..., None], axis=-1)[..., 0], 0.0)
  inner = before[..., None] + jnp.cumsum(jnp.take_along_axis(p, i[..., None, None], axis=-2)[..., 0, :], axis=-1)
  j = jnp.minimum(jnp.sum(inner < u, axis=-1), block - 1)
  return jnp.minimum(i * block + j, v - 1).astype(jnp.int32)


def _step(apply_fn, params):
  return lambda carry, x: apply_fn({"params": params}, carry, x)


def _initial(apply_fn, params, z):
  return apply_fn({"params": params}, z, method="initial")


def teacher_forced_logits(apply_fn, params, tokens, z=None):
  """Logits (B, T, V) of each token given the true previous ones (start token first)."""
  n, length = tokens.shape
  inputs = jnp.concatenate([jnp.full((n, 1), START, tokens.dtype), tokens[:, :-1]], axis=1)
  step = _step(apply_fn, params)
  _, logits = jax.lax.scan(lambda c, x: step(c, x), _initial(apply_fn, params, z if z is not None else inputs[:, 0]),
                           inputs.T)
  return jnp.swapaxes(logits, 0, 1)


def token_log_probs(logits, tokens):
  """log G(y_t | Y_1:t-1) of each given token: (B, T)."""
  return jnp.take_along_axis(jax.nn.log_softmax(logits.astype(jnp.float32)), tokens[..., None], axis=-1)[..., 0]


def nll(apply_fn, params, tokens, z=None):
  """Per-token negative log-likelihood of each sequence (B,): SeqGAN's NLL (its oracle metric)."""
  return -jnp.mean(token_log_probs(teacher_forced_logits(apply_fn, params, tokens, z), tokens), axis=-1)


def sample(apply_fn, params, key, n: int, length: int, z=None):
  """n sequences (n, length) drawn token by token from the policy, and their log-probabilities (n, length)."""
  step = _step(apply_fn, params)

  def body(carry, k):
    state, prev = carry
    state, logits = step(state, prev)
    tok = categorical(k, logits)
    return (state, tok), (tok, token_log_probs(logits, tok))

  start = jnp.full((n,), START, jnp.int32)
  _, (toks, logp) = jax.lax.scan(body, (_initial(apply_fn, params, z if z is not None else start), start),
                                 jax.random.split(key, length))
  return toks.T, logp.T


def rollout(apply_fn, params, key, tokens, t, z=None):
  """Monte Carlo continuation of each sequence's prefix Y_1:t (tokens (B, T), t traced): the first t
  tokens are kept exactly, the rest drawn from the policy (one scan over all T positions)."""
  n, length = tokens.shape
  step = _step(apply_fn, params)

  def body(carry, inp):
    state, prev = carry
    i, k, given = inp
    state, logits = step(state, prev)
    drawn = categorical(k, logits)
    tok = jnp.where(i < t, given, drawn)
    return (state, tok), tok

  start = jnp.full((n,), START, jnp.int32)
  _, toks = jax.lax.scan(body, (_initial(apply_fn, params, z if z is not None else start), start),
                         (jnp.arange(length), jax.random.split(key, length), tokens.T))
  return toks.T


def rollout_values(apply_fn, params, reward_fn, key, tokens, num_rollouts: int, z=None):
  """Q(Y_1:t-1, y_t) (B, T) of SeqGAN's Eq. 4: for t < T the mean reward of `num_rollouts` Monte
  Carlo completions of Y_1:t, for t = T the reward of Y itself. `vmap` over the rollouts, `lax.map`
  over the prefix lengths (memory stays one prefix length's rollouts)."""
  length = tokens.shape[1]

  def at(t):
    keys = jax.random.split(jax.random.fold_in(key, t), num_rollouts)
    done = jax.vmap(lambda k: rollout(apply_fn, params, k, tokens, t, z))(keys)  # (N, B, T)
    return jnp.mean(jax.vmap(reward_fn)(done), axis=0)

  partial = jax.lax.map(at, jnp.arange(1, length))  # (T-1, B)
  return jnp.concatenate([partial.T, reward_fn(tokens)[:, None]], axis=1)


def relaxed_sample(apply_fn, params, key, z, length: int, temperature, gumbel: bool = True):
  """Differentiable sequences (B, T, V): each step's y_t = softmax((logits + g) / tau) with g Gumbel
  noise (the concrete / Gumbel-softmax distribution, Jang et al. 2017, Maddison et al. 2017), or
  without noise softmax(logits / tau) (TextGAN's soft-argmax), fed back as the next input (y_t @ E)."""
  step = _step(apply_fn, params)
  n = z.shape[0]

  def body(carry, k):
    state, prev = carry
    state, logits = step(state, prev)
    logits = logits.astype(jnp.float32)
    if gumbel:
      logits = logits + jax.random.gumbel(k, logits.shape)
    y = jax.nn.softmax(logits / temperature, axis=-1)
    return (state, y), y

  first = jax.nn.one_hot(jnp.full((n,), START), params["embedding"].shape[0])
  _, ys = jax.lax.scan(body, (_initial(apply_fn, params, z), first), jax.random.split(key, length))
  return jnp.swapaxes(ys, 0, 1)

