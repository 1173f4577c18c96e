"""Token-sequence sources, rows {"tokens": int32 (T,)}, each with its `vocabulary`.

  oracle[:<seed>]   SeqGAN's synthetic oracle (Yu et al. 2017, Sec. 5): a randomly initialised LSTM,
                    every parameter ~ N(0, 1), vocabulary data.vocab_size (5,000), embedding and hidden
                    size 32, sequences of data.seq_len (20) tokens sampled from it; data.num_sequences
                    (10,000) to train and a fifth of that more held out. The oracle is drawn from
                    <seed> (default: config.seed), so "3 oracle seeds" are 3 runs. `oracle_model` gives
                    its network and parameters back to the metrics (NLL_oracle).
  grammar           Kusner & Hernandez-Lobato's (2016) arithmetic expressions over x + - * / ( ),
                    drawn from the stated unambiguous grammar `GRAMMAR` (the same language as their
                    S -> S+S | S-S | S*S | S/S | (S) | x), at most data.seq_len - 1 symbols, padded
                    with the end symbol <e> (id 0); data.num_sequences strings, deterministic from the seed.
  corpus:<path>     word-level sentences of a text file (or every file of a folder: fortunes' or the
                    KJV Bible's): lower-cased, split into words and punctuation, sentences of 3 to
                    data.seq_len - 1 words kept when all their words are among the data.vocab_size - 1
                    most frequent (or in the file data.vocabulary names: one token per line, where a
                    word outside it stops with one line), end-padded; the last fifth held out.

Id 0 is the start input of every generator and, for grammar and corpus, the end / padding symbol
(decoding stops there); the oracle's id 0 is an ordinary token, as in SeqGAN's code.
"""

from __future__ import annotations

import functools
import os
import pathlib
import re

import jax
import numpy as np

from ganjax.data.base import Source, from_arrays
from ganjax.errors import DataError
from ganjax.networks.sequence import LSTMGenerator, sample

END = "<e>"

# Kusner et al.'s language, written without ambiguity (precedence and left association) so that a
# chart parser accepts each string once; `valid` parses with it (nltk).
GRAMMAR = """
S -> S '+' T | S '-' T | T
T -> T '*' F | T '/' F | F
F -> 'x' | '(' S ')'
"""
GRAMMAR_SYMBOLS = (END, "x", "+", "-", "*", "/", "(", ")")


@functools.lru_cache(maxsize=4)
def oracle_model(seed: int, vocab_size: int, length: int, embed_dim: int = 32, hidden: int = 32):
  """(module, params) of the oracle drawn from `seed`."""
  module = LSTMGenerator(vocab_size=vocab_size, embed_dim=embed_dim, hidden=hidden, init_std=1.0)
  z = jax.numpy.zeros((1,), jax.numpy.int32)
  params = jax.jit(lambda k: module.init(k, z, z, method="init_all"))(jax.random.key(seed))["params"]
  return module, params


def oracle(seed: int, vocab_size: int = 5000, length: int = 20, num: int = 10_000) -> Source:
  if vocab_size < 2 or length < 2 or num < 5:
    raise DataError(f"oracle needs data.vocab_size >= 2, data.seq_len >= 2 and data.num_sequences >= 5; got "
                    f"{vocab_size}, {length}, {num}")
  module, params = oracle_model(seed, vocab_size, length)
  total = num + num // 5
  draw = jax.jit(lambda p, k: sample(module.apply, p, k, 1000, length)[0])
  key = jax.random.fold_in(jax.random.key(seed), 1)
  toks = np.concatenate([np.asarray(draw(params, jax.random.fold_in(key, i))) for i in range(-(-total // 1000))])[:total]
  return from_arrays(f"oracle:{seed}", {"tokens": toks.astype(np.int32)}, official_test=num // 5,
                     vocabulary=tuple(str(i) for i in range(vocab_size)), kind="tokens")


def _expression(rng, depth: int = 0) -> str:
  """One random derivation of S (the recursion's odds shrink with depth, so strings stay short)."""
  def s(d):
    out = t(d)
    while rng.random() < 0.35 / (1 + d):
      out += rng.choice(["+", "-"]) + t(d + 1)
    return out

  def t(d):
    out = f(d)
    while rng.random() < 0.35 / (1 + d):
      out += rng.choice(["*", "/"]) + f(d + 1)
    return out

  def f(d):
    return "(" + s(d + 1) + ")" if rng.random() < 0.25 / (1 + d) else "x"

  return s(depth)


def grammar(seed: int, length: int = 15, num: int = 10_000) -> Source:
  if length < 2:
    raise DataError(f"grammar needs data.seq_len >= 2, got {length}")
  rng = np.random.default_rng([seed, 31])
  index = {ch: i for i, ch in enumerate(GRAMMAR_SYMBOLS)}
  rows = np.zeros((num, length), np.int32)
  i = 0
  while i < num:
    e = _expression(rng)
    if len(e) <= length - 1:
      rows[i, :len(e)] = [index[ch] for ch in e]
      i += 1
  return from_arrays("grammar", {"tokens": rows}, vocabulary=GRAMMAR_SYMBOLS, separator="", kind="tokens")


@functools.lru_cache(maxsize=1)
def _parser():
  import nltk

  return nltk.ChartParser(nltk.CFG.fromstring(GRAMMAR))


def valid(symbols) -> bool:
  """Whether the grammar derives the symbol string (a list of symbols, the end symbol excluded)."""
  if not symbols:
    return False
  try:
    return next(iter(_parser().parse(list(symbols))), None) is not None
  except ValueError:  # a symbol the grammar does not cover
    return False


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[.,!?;:]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n%\n")


def _read_text(path: pathlib.Path) -> str:
  files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix not in (".dat", ".u8", ".gz")) \
      if path.is_dir() else [path]
  if not files:
    raise DataError(f"corpus: {path} holds no text files")
  parts = []
  for p in files:
    try:
      parts.append(p.read_bytes().decode("utf-8", errors="replace"))
    except OSError as e:
      raise DataError(f"corpus: cannot read {p} ({e})") from None
  return "\n\n".join(parts)


def corpus(path: str, vocab_size: int = 5000, length: int = 20, vocabulary_file: str = "") -> Source:
  p = pathlib.Path(os.path.expanduser(path))
  if not p.exists():
    raise DataError(f"corpus: {p} does not exist")
  sentences = [_WORD.findall(s.lower()) for s in _SENTENCE.split(_read_text(p))]
  sentences = [s for s in sentences if 3 <= len(s) <= length - 1]
  if not sentences:
    raise DataError(f"corpus: {p} has no sentence of 3 to {length - 1} words (data.seq_len={length})")
  if vocabulary_file:
    try:
      words = [w.strip() for w in open(os.path.expanduser(vocabulary_file), encoding="utf-8") if w.strip()]
    except OSError as e:
      raise DataError(f"data.vocabulary: cannot read {vocabulary_file} ({e})") from None
    known = set(words)
    for s in sentences:
      unknown = [w for w in s if w not in known]
      if unknown:
        raise DataError(f"corpus: the word {unknown[0]!r} (in {' '.join(s)!r}) is not in the vocabulary {vocabulary_file}")
    vocabulary = (END, *[w for w in words if w != END])
  else:
    counts = {}
    for s in sentences:
      for w in s:
        counts[w] = counts.get(w, 0) + 1
    keep = sorted(counts, key=lambda w: (-counts[w], w))[:vocab_size - 1]
    vocabulary = (END, *sorted(keep))
    allowed = set(keep)
    sentences = [s for s in sentences if all(w in allowed for w in s)]
  index = {w: i for i, w in enumerate(vocabulary)}
  if len(sentences) < 5:
    raise DataError(f"corpus: {p} leaves {len(sentences)} sentences within data.vocab_size={vocab_size} words")
  rows = np.zeros((len(sentences), length), np.int32)
  for i, s in enumerate(sentences):
    rows[i, :len(s)] = [index[w] for w in s]
  return from_arrays(f"corpus:{p.name}", {"tokens": rows}, vocabulary=vocabulary, kind="tokens")


def decode(tokens, vocabulary, stop_at_end: bool = True) -> list:
  """Token rows -> lists of symbols (up to the first end symbol where the vocabulary has one)."""
  out = []
  ends = stop_at_end and vocabulary and vocabulary[0] == END
  for row in np.asarray(tokens):
    words = []
    for t in row:
      if ends and t == 0:
        break
      words.append(vocabulary[t] if 0 <= t < len(vocabulary) else f"<{t}>")
    out.append(words)
  return out


def to_text(tokens, vocabulary, separator: str = " ") -> list:
  """Decoded rows as strings, their symbols joined by `separator` (a source's own: "" for characters
  and grammar symbols, a space for words and the oracle's ids)."""
  return [separator.join(w) for w in decode(tokens, vocabulary)]
