"""What the sequence methods share (seqgan, gsgan, textgan, bgan_tokens; never a step): the networks
of `config.model` for token data, MLE pre-training and its phases, and the players' initialisation.
The unrolls of `networks.sequence.LSTMGenerator` -- teacher forcing, sampling, Monte Carlo rollouts,
relaxed (Gumbel-softmax / soft-argmax) sampling, each one `lax.scan` over time -- are defined beside
the network (the oracle data and its metric step it too) and the methods call them from here,
under the same names (`sequences.sample`, `sequences.rollout_values`, ...).

Data: batches {"tokens": int32 (B, T)} (`ganjax.data`: `oracle`, `grammar`, `corpus:`, `text:`). The
vocabulary size and T come from the data (`example_batch`: the source's vocabulary), never from a
guess. Token 0 is the start input and, for text and grammar data, the end / padding symbol.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import state as state_lib
from ganjax.algorithms.common import init_player
from ganjax.data import Source
from ganjax.errors import ConfigError, DataError
from ganjax.networks.sequence import (LSTMGenerator, SequenceCNN, SequenceLSTM, categorical, nll,  # noqa: F401
                                      relaxed_sample, rollout, rollout_values, sample, teacher_forced_logits,
                                      token_log_probs)


def example_batch(config, train):
  """Two rows of token data; fixes model.vocab_size / model.seq_len from the source (so a
  checkpoint's shapes follow the data) and refuses image data with one line."""
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
  m = config.model
  return LSTMGenerator(vocab_size=m.vocab_size, embed_dim=m.embed_dim, hidden=m.hidden,
                       latent_dim=m.latent_dim if latent else 0, init_std=init_std)


def discriminator(config, extra_outputs: int = 0):
  """`model.discriminator`: "cnn" (SeqGAN's, TextGAN's) or "lstm" (Kusner et al.'s)."""
  m = config.model
  kind = m.discriminator
  if kind == "lstm" and not extra_outputs:
    return SequenceLSTM(vocab_size=m.vocab_size, embed_dim=m.d_embed_dim, hidden=m.d_hidden_lstm)
  if kind not in ("cnn", "lstm"):
    raise ConfigError(f"model.discriminator={kind!r}: sequence methods take 'cnn' or 'lstm'")
  return SequenceCNN(vocab_size=m.vocab_size, embed_dim=m.d_embed_dim, filter_scale=m.d_filter_scale,
                     dropout=m.d_dropout, extra_outputs=extra_outputs, classes=m.d_classes)


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
  if p.adversarial_optimizer not in PHASE_OPTIMIZERS:
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
  per phase): an MLE update of G with D untouched, reporting g/nll alone, or `adversarial(None)` ->
  (g, d, metrics)."""
  if phase == ADVERSARIAL_PHASE:
    return adversarial(None)
  nll_value, grads = jax.value_and_grad(mle_loss_fn)(g.params)
  return g.update(grads), d, {"g/nll": nll_value}


def init_players(config, key, d_module, d_example, latent: bool = True):
  """The TrainState of a sequence method: player "g" (the LSTM generator, from z when `latent`) and
  player "d" (`d_module`, initialised on `d_example`), each with its optimizer."""
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
