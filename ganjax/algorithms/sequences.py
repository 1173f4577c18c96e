"""What the sequence methods share (seqgan, gsgan, textgan, bgan_tokens; never a step): the networks
of `config.model` for token data, and the unrolls of `networks.sequence.LSTMGenerator` -- teacher
forcing, sampling, Monte Carlo rollouts, relaxed (Gumbel-softmax / soft-argmax) sampling -- each one
`lax.scan` over time (no Python loop per token), with rollouts `vmap`ped.

Data: batches {"tokens": int32 (B, T)} (`ganjax.data`: `oracle`, `grammar`, `corpus:`, `text:`). The
vocabulary size and T come from the data (`example_batch`: the source's vocabulary), never from a
guess. Token 0 is the start input and, for text and grammar data, the end / padding symbol.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax.errors import ConfigError, DataError

START = 0


def example_batch(config, train):
  """Two rows of token data; fixes model.vocab_size / model.seq_len from the source (so a
  checkpoint's shapes follow the data) and refuses image data with one line."""
  from ganjax.data import Source

  src = train if isinstance(train, Source) else None
  if src is None or "tokens" not in src.element_spec:
    what = src.name if src is not None else ", ".join(train)
    raise DataError(f"algorithm {config.algorithm!r} trains on token sequences (rows with 'tokens'); {what} has none "
                    f"(use data.name=oracle, grammar, corpus:<file> or text:<file>)")
  length = src.element_spec["tokens"][0][0]
  if config.model.seq_len and length > config.model.seq_len:
    raise DataError(f"{src.name} has sequences of length {length}, longer than model.seq_len={config.model.seq_len}")
  size = len(src.vocabulary) if src.vocabulary else int(src.get(jax.numpy.arange(src.size))["tokens"].max()) + 1
  with config.unlocked():
    config.model.vocab_size = size
    config.model.seq_len = length
  return src.get([0, 1])


def generator(config, latent: bool, init_std: float = 0.0):
  from ganjax.networks.sequence import LSTMGenerator

  m = config.model
  return LSTMGenerator(vocab_size=m.vocab_size, embed_dim=m.embed_dim, hidden=m.hidden,
                       latent_dim=m.latent_dim if latent else 0, init_std=init_std)


def discriminator(config, extra_outputs: int = 0):
  """`model.discriminator`: "cnn" (SeqGAN's, TextGAN's) or "lstm" (Kusner et al.'s)."""
  from ganjax.networks.sequence import SequenceCNN, SequenceLSTM

  m = config.model
  kind = m.get("discriminator", "cnn")
  if kind == "lstm" and not extra_outputs:
    return SequenceLSTM(vocab_size=m.vocab_size, embed_dim=m.d_embed_dim, hidden=m.d_hidden_lstm)
  if kind not in ("cnn", "lstm"):
    raise ConfigError(f"model.discriminator={kind!r}: sequence methods take 'cnn' or 'lstm'")
  return SequenceCNN(vocab_size=m.vocab_size, embed_dim=m.d_embed_dim, filter_scale=m.d_filter_scale,
                     dropout=m.d_dropout, extra_outputs=extra_outputs, classes=m.get("d_classes", 1))


def one_hot(tokens, vocab_size: int):
  """Token ids (B, T) -> one-hot rows (B, T, V): data as the relaxed samples' discriminator sees it."""
  return jax.nn.one_hot(tokens, vocab_size, dtype=jnp.float32)


def mle_loss(apply_fn, params, tokens, z=None):
  """Mean per-token cross-entropy of the data under teacher forcing (MLE pre-training)."""
  return jnp.mean(nll(apply_fn, params, tokens, z))


MLE_PHASE, ADVERSARIAL_PHASE = "mle", "adversarial"


def pretraining_phase(steps: int, step: int) -> str:
  """The phase of a method whose first `steps` steps pre-train G by MLE."""
  return MLE_PHASE if step < steps else ADVERSARIAL_PHASE


PHASE_OPTIMIZERS = ("fresh", "carried")


def check_phase_optimizer(block: str, p):
  """`<block>.adversarial_optimizer`: "fresh" or "carried" (`phase_optimizer`)."""
  if p.get("adversarial_optimizer", "fresh") not in PHASE_OPTIMIZERS:
    raise ConfigError(f"{block}.adversarial_optimizer must be one of {', '.join(PHASE_OPTIMIZERS)}, "
                      f"got {p.adversarial_optimizer!r}")


def phase_optimizer(g, step, first_adversarial_step: int, how: str):
  """G for an adversarial step. "fresh": G's optimizer state is new at the first adversarial step, as
  SeqGAN's released code builds a second Adam (`g_opt`) for the policy-gradient updates beside the MLE
  one (`pretrain_opt`), so the MLE phase's moments and step count are never carried into the
  adversarial phase; "carried": one optimizer state across both phases."""
  return g.restart_optimizer(step == first_adversarial_step) if how == "fresh" else g


def mle_or_adversarial(phase: str, g, d, mle_loss_fn, adversarial):
  """One step of a method with MLE pre-training of G (`phase` a Python value: one compiled program
  per phase): an MLE update of G with D untouched, or `adversarial(None)` -> (g, d, metrics). The MLE
  step reports the adversarial step's metrics as zeros, but g/nll."""
  if phase == ADVERSARIAL_PHASE:
    return adversarial(None)
  nll_value, grads = jax.value_and_grad(mle_loss_fn)(g.params)
  shapes = jax.eval_shape(adversarial, None)[2]
  metrics = {k: jnp.zeros(v.shape, v.dtype) for k, v in shapes.items()}
  metrics["g/nll"] = nll_value
  return g.update(grads), d, metrics


def init_players(config, key, d_module, d_example, latent: bool = True):
  """The TrainState of a sequence method: player "g" (the LSTM generator, from z when `latent`) and
  player "d" (`d_module`, initialised on `d_example`), each with its optimizer."""
  from ganjax import state as state_lib
  from ganjax.algorithms.common import init_player

  kg, kd = jax.random.split(key)
  g = generator(config, latent=latent)
  pg = state_lib.Player.create(g, state_lib.optimizer(config.optim.g, config.num_steps),
                               init_generator(g, kg, config.model.latent_dim if latent else 0))
  return state_lib.create(config, {"g": pg, "d": init_player(config, "d", d_module, kd, d_example)})


def require_latent(config):
  if config.model.latent_dim <= 0:
    raise ConfigError(f"{config.algorithm} draws G(z): model.latent_dim must be > 0")


def init_generator(module, key, latent_dim: int):
  z = jnp.zeros((2, latent_dim)) if latent_dim else jnp.zeros((2,), jnp.int32)
  return module.init(key, z, jnp.zeros((2,), jnp.int32), method="init_all")


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

