"""Metrics of generated token sequences, chosen by the data:

  oracle[:<seed>]  sequence/nll_oracle: the oracle LSTM's per-token negative log-likelihood of the
                   generated sequences (Yu et al. 2017, "NLL_oracle"; lower is better): -(1/T) sum_t
                   log G_oracle(y_t | Y_1:t-1), per token as the released code (`target_lstm`'s loss
                   divided by the sequence length) and the paper's figures report it; the paper's
                   formula writes the per-sequence sum, T times this. The
                   generator's NLL of held-out oracle samples (NLL_test) is the method's `evaluate`
                   hook (test/nll), so that a collapsed generator cannot win on NLL_oracle alone.
  grammar          sequence/valid_fraction: the fraction of generated strings the grammar derives
                   (`ganjax.data.sequences.GRAMMAR`, nltk's chart parser), and
                   sequence/distinct_valid: the number of distinct valid strings among the first 1,000
                   (Kusner & Hernandez-Lobato 2016's two questions: valid, and not one string).
  corpus / text    sequence/bleu2 ... bleu5: each generated sentence's BLEU-n against the held-out
                   sentences as its reference set, averaged (nltk's sentence_bleu, uniform weights over
                   1..n-grams, smoothing method 1: Texygen's protocol for SeqGAN / TextGAN);
                   sequence/self_bleu2 ... 5: each generated sentence against the other generated ones
                   (Zhu et al. 2018's diversity measure: lower is more diverse). `eval.bleu_samples`
                   sentences are scored against at most `eval.bleu_references` references (BLEU's cost
                   is their product).
Every token source: sequence/distinct_fraction (distinct sequences / samples) and
sequence/mean_length (tokens before the end symbol, where the vocabulary has one).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ganjax.data import sequences as data_seq
from ganjax.networks.sequence import nll


def oracle_seed(config):
  """The seed of the oracle behind `config.data.name` (oracle[:<seed>]), or None for other data."""
  kind, _, arg = str(config.data.name).partition(":")
  return (int(arg) if arg else int(config.seed)) if kind == "oracle" else None


@functools.lru_cache(maxsize=4)
def _oracle_nll_fn(seed: int, vocab_size: int, length: int):
  module, params = data_seq.oracle_model(seed, vocab_size, length)
  return jax.jit(lambda toks: nll(module.apply, params, toks))


def oracle_nll(tokens, seed: int, vocab_size: int, batch: int = 1000) -> float:
  """The oracle's mean per-token NLL of `tokens` (N, T): NLL_oracle."""
  tokens = np.asarray(tokens, np.int32)
  fn = _oracle_nll_fn(seed, vocab_size, tokens.shape[1])
  return float(np.mean(np.concatenate([np.asarray(fn(tokens[i:i + batch])) for i in range(0, len(tokens), batch)])))


def grammar_scores(strings, first: int = 1000) -> dict:
  """Valid fraction over all strings (each a string or a list of symbols); distinct valid strings
  among the first `first`."""
  ok = [data_seq.valid(list(s)) for s in strings]
  distinct = {"".join(s) for s, v in zip(strings[:first], ok[:first]) if v}
  return {"sequence/valid_fraction": float(np.mean(ok)), "sequence/distinct_valid": len(distinct)}


def bleu(hypotheses, references, orders=(2, 3, 4, 5)) -> dict:
  """{n: mean sentence BLEU-n of each hypothesis against all references} (nltk, smoothing method 1)."""
  from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

  smooth = SmoothingFunction().method1
  out = {}
  for n in orders:
    weights = tuple([1.0 / n] * n)
    scores = [sentence_bleu(references, h, weights, smoothing_function=smooth) for h in hypotheses if h]
    out[n] = float(np.mean(scores)) if scores else 0.0
  return out


def self_bleu(hypotheses, orders=(2, 3, 4, 5), limit: int = 0) -> dict:
  """{n: mean BLEU-n of each generated sentence against the other generated sentences}."""
  from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

  hyps = [h for h in hypotheses if h]
  smooth = SmoothingFunction().method1
  out = {}
  for n in orders:
    weights = tuple([1.0 / n] * n)
    scores = [sentence_bleu(hyps[:i] + hyps[i + 1:], h, weights, smoothing_function=smooth)
              for i, h in enumerate(hyps[:limit or len(hyps)])]
    out[n] = float(np.mean(scores)) if scores else 0.0
  return out


def sequence_quality(samples, split, config) -> dict:
  """Every metric above that applies to the data of `split` (see the module docstring)."""
  samples = np.asarray(samples)
  vocabulary = split.train.vocabulary
  out = {"sequence/distinct_fraction": len({r.tobytes() for r in samples}) / max(len(samples), 1)}
  words = data_seq.decode(samples, vocabulary) if vocabulary else [list(map(str, r)) for r in samples]
  out["sequence/mean_length"] = float(np.mean([len(w) for w in words]))
  seed = oracle_seed(config)
  if seed is not None:
    out["sequence/nll_oracle"] = oracle_nll(samples, seed, int(config.data.vocab_size))
  elif tuple(vocabulary) == data_seq.GRAMMAR_SYMBOLS:
    out.update(grammar_scores(words))
  elif vocabulary:  # word or character text: BLEU against the held-out sentences, self-BLEU
    n = int(config.eval.bleu_samples)
    test = split.test.get(np.arange(min(split.test.size, int(config.eval.bleu_references))))["tokens"]
    references = [w for w in data_seq.decode(test, vocabulary) if w]
    for k, v in bleu(words[:n], references).items():
      out[f"sequence/bleu{k}"] = v
    for k, v in self_bleu(words[:n]).items():
      out[f"sequence/self_bleu{k}"] = v
  return out
