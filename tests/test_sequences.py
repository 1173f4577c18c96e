"""Discrete sequences: each method's defining property against its paper's formula,
the rollouts, the relaxations, the token sources and their metrics, and bad input."""

import itertools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tiny import ROOT
from ganjax import losses
from ganjax.algorithms import bgan, bgan_tokens, seqgan, sequences, textgan
from ganjax.data import sequences as data_seq
from ganjax.errors import ConfigError, DataError
from ganjax.metrics import sequences as seq_metrics
from ganjax.networks.sequence import LSTMGenerator

V, T = 3, 3  # a vocabulary and length small enough to enumerate every sequence (27)


def _policy(latent_dim=0, key=0):
  g = LSTMGenerator(vocab_size=V, embed_dim=4, hidden=5, latent_dim=latent_dim, init_std=0.8)
  z = jnp.zeros((2, latent_dim)) if latent_dim else jnp.zeros((2,), jnp.int32)
  params = g.init(jax.random.key(key), z, jnp.zeros((2,), jnp.int32), method="init_all")["params"]
  return g, params


def _step_probs(g, params, prefix, z=None):
  """p(y_t | prefix) by stepping the cell in Python, one token at a time (independent of the scans)."""
  carry = g.apply({"params": params}, z if z is not None else jnp.zeros((1,), jnp.int32), method="initial")
  x = jnp.zeros((1,), jnp.int32)
  for tok in prefix:
    carry, _ = g.apply({"params": params}, carry, x)
    x = jnp.array([tok], jnp.int32)
  _, logits = g.apply({"params": params}, carry, x)
  return np.asarray(jax.nn.softmax(logits[0]), np.float64)


ALL = np.array(list(itertools.product(range(V), repeat=T)), np.int32)
REWARD = jnp.asarray(np.random.default_rng(0).uniform(0.05, 0.95, len(ALL)), jnp.float32)


def _reward(tokens):  # a fixed reward of each whole sequence (stands in for D(Y))
  return REWARD[tokens[:, 0] * V * V + tokens[:, 1] * V + tokens[:, 2]]


def test_seqgan_policy_gradient_equals_the_exact_gradient_of_the_expected_reward():
  """Eq. 6-7 with Eq. 4's action values: E_Y sum_t grad log G(y_t | Y_1:t-1) Q(Y_1:t-1, y_t) is the
  gradient of J = sum_Y G(Y) R(Y), enumerated over all V^T sequences; and `rollout_values`' Monte
  Carlo Q matches Q computed by enumerating every completion."""
  g, params = _policy()

  def seq_prob(p):  # G(Y) for every Y, by the teacher-forced scan
    return jnp.exp(jnp.sum(sequences.token_log_probs(sequences.teacher_forced_logits(g.apply, p, ALL), ALL), -1))

  exact_grad = jax.grad(lambda p: jnp.sum(seq_prob(p) * _reward(ALL)))(params)
  probs = np.asarray(seq_prob(params), np.float64)
  np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
  # Q(Y_1:t-1, y_t) exactly: the expected final reward over every completion of Y_1:t under G
  q_exact = np.zeros((len(ALL), T))
  for i, y in enumerate(ALL):
    for t in range(1, T + 1):
      same = np.all(ALL[:, :t] == y[:t], axis=1)
      q_exact[i, t - 1] = np.sum(probs[same] * np.asarray(REWARD)[same]) / np.sum(probs[same])
  np.testing.assert_allclose(q_exact[:, -1], np.asarray(REWARD), rtol=1e-6)  # the last token's reward is R(Y)

  def estimator(p):  # sum_Y G(Y) * (-seqgan.policy_gradient_loss of row Y), G(Y) held fixed
    logp = sequences.token_log_probs(sequences.teacher_forced_logits(g.apply, p, ALL), ALL)
    rows = jax.vmap(lambda lp, q: -seqgan.policy_gradient_loss(lp[None], q[None]))(logp, jnp.asarray(q_exact))
    return jnp.sum(jnp.asarray(probs) * rows)

  for a, b in zip(jax.tree.leaves(jax.grad(estimator)(params)), jax.tree.leaves(exact_grad)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=1e-6)

  q_mc = np.asarray(sequences.rollout_values(g.apply, params, _reward, jax.random.key(1), jnp.asarray(ALL), 4000))
  assert q_mc.shape == (len(ALL), T)
  np.testing.assert_allclose(q_mc[:, -1], np.asarray(REWARD), rtol=1e-6)  # t = T: D(Y) itself
  np.testing.assert_allclose(q_mc[:, :-1], q_exact[:, :-1], atol=0.03)  # 4,000 rollouts: sd <= 0.0075


def test_categorical_draws_follow_the_softmax():
  """The two-level inverse-CDF draw is the categorical distribution softmax(logits) (V not a square,
  a token of probability 0 never drawn)."""
  for v in (7, 50):
    logits = jax.random.normal(jax.random.key(v), (v,)).at[3].set(-jnp.inf)
    toks = np.asarray(jax.jit(sequences.categorical)(jax.random.key(1), jnp.tile(logits, (100_000, 1))))
    assert toks.max() < v and not np.any(toks == 3)
    np.testing.assert_allclose(np.bincount(toks, minlength=v) / len(toks), np.asarray(jax.nn.softmax(logits)), atol=0.006)


def test_seqgan_discriminator_loss_is_the_released_codes():
  """Mean cross-entropy over the mixed batch of data (label 1) and samples (0), plus 0.2 * tf.nn.l2_loss
  (sum of squares / 2) of the output layer, written out in numpy from D's logits."""
  from ganjax.networks.sequence import SequenceCNN

  d = SequenceCNN(vocab_size=V, embed_dim=4, filter_scale=0.02, dropout=0.0)
  real, fake = jnp.asarray(ALL[:4]), jnp.asarray(ALL[5:9])  # equal numbers, as every step draws
  params = d.init(jax.random.key(0), real)["params"]
  loss, (ro, fo) = seqgan.d_loss(type("P", (), {"apply": staticmethod(lambda p, x, **kw: (d.apply({"params": p}, x), None))}),
                                 params, real, fake, jax.random.key(1), 0.2)
  ro, fo = np.asarray(ro, np.float64), np.asarray(fo, np.float64)
  ce = np.concatenate([-np.log(1 / (1 + np.exp(-ro))), -np.log(1 - 1 / (1 + np.exp(-fo)))]).mean()
  w = params["logit"]
  l2 = (np.sum(np.asarray(w["kernel"])**2) + np.sum(np.asarray(w["bias"])**2)) / 2
  np.testing.assert_allclose(float(loss), ce + 0.2 * l2, rtol=1e-5)


def test_rollout_keeps_the_prefix_and_draws_the_rest_from_the_policy():
  g, params = _policy()
  tokens = jnp.asarray(np.random.default_rng(1).integers(0, V, (500, 6)), jnp.int32)
  fn = jax.jit(lambda t, k: sequences.rollout(g.apply, params, k, tokens, t))
  for t in (0, 2, 5):
    out = np.asarray(fn(t, jax.random.key(t)))
    np.testing.assert_array_equal(out[:, :t], np.asarray(tokens)[:, :t])
    assert out.shape == tokens.shape
  # the token after a prefix follows G(. | prefix): frequencies against the stepped cell's softmax
  prefix = np.array([1, 2], np.int32)
  rows = jnp.asarray(np.tile(np.concatenate([prefix, [0, 0, 0, 0]]), (4000, 1)), jnp.int32)
  drawn = np.asarray(sequences.rollout(g.apply, params, jax.random.key(9), rows, 2))[:, 2]
  np.testing.assert_allclose(np.bincount(drawn, minlength=V) / 4000, _step_probs(g, params, prefix), atol=0.03)


def test_sampled_log_probs_and_nll_equal_the_stepped_cell():
  g, params = _policy()
  toks, logp = sequences.sample(g.apply, params, jax.random.key(3), 4, T)
  for row, lp in zip(np.asarray(toks), np.asarray(logp)):
    expected = [np.log(_step_probs(g, params, row[:t])[row[t]]) for t in range(T)]
    np.testing.assert_allclose(lp, expected, rtol=1e-4)
  nll = np.asarray(sequences.nll(g.apply, params, toks))
  np.testing.assert_allclose(nll, -np.asarray(logp).mean(1), rtol=1e-5)


def test_gumbel_softmax_rows_are_relaxed_one_hots_that_carry_gradients():
  """Jang et al. Eq. 1: rows on the simplex; as tau -> 0 one-hot; arg max distributed as softmax(logits)
  (the Gumbel-max property); and d(sample)/d(theta) is non-zero (gradients reach G)."""
  g, params = _policy(latent_dim=2)
  z = jnp.zeros((4000, 2))
  for tau, sharp in ((1.0, False), (0.02, True)):
    y = np.asarray(sequences.relaxed_sample(g.apply, params, jax.random.key(0), z, T, tau))
    assert y.shape == (4000, T, V) and (y >= 0).all()
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)
    assert (y.max(-1).mean() > 0.98) == sharp
  first = np.bincount(y[:, 0].argmax(-1), minlength=V) / len(y)
  np.testing.assert_allclose(first, _step_probs(g, params, [], z[:1]), atol=0.03)
  zr = jax.random.normal(jax.random.key(1), (8, 2))
  grads = jax.grad(lambda p: jnp.sum(sequences.relaxed_sample(g.apply, p, jax.random.key(0), zr, T, 0.5)[..., 1]))(params)
  norms = [float(jnp.abs(x).sum()) for x in jax.tree.leaves(grads)]
  assert all(np.isfinite(norms)) and min(norms) > 0
  soft = np.asarray(sequences.relaxed_sample(g.apply, params, jax.random.key(0), z[:4], T, 0.01, gumbel=False))
  np.testing.assert_array_equal(soft[:, 0].argmax(-1), np.full(4, _step_probs(g, params, [], z[:1]).argmax()))


def test_textgan_mmd_and_discriminator_objective_are_the_papers():
  """L_MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y) with the Gaussian kernel (Gretton et al.),
  by a double loop; L_D = L_GAN - lambda_r L_recon + lambda_m L_MMD^2 (Zhang et al. 2017, Eq. 2)."""
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)) + 0.5
  sigmas = (1.0, 3.0)
  k = lambda a, b: sum(np.exp(-np.sum((a - b)**2) / (2 * s * s)) for s in sigmas)  # noqa: E731
  mean_k = lambda A, B: np.mean([[k(a, b) for b in B] for a in A])  # noqa: E731
  mmd = mean_k(x, x) + mean_k(y, y) - 2 * mean_k(x, y)
  np.testing.assert_allclose(float(losses.mmd2_gaussian(jnp.asarray(x), jnp.asarray(y), sigmas)), mmd, rtol=1e-5)
  assert float(losses.mmd2_gaussian(jnp.asarray(x), jnp.asarray(x), sigmas)) == pytest.approx(0.0, abs=1e-5)

  class P:
    lambda_r, lambda_m = 0.7, 2.0

  ro, fo = rng.normal(size=5), rng.normal(size=4)
  z, z_hat = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
  sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
  l_gan = np.mean(np.log(sig(ro))) + np.mean(np.log(1 - sig(fo)))
  l_recon = np.mean(np.sum((z_hat - z)**2, -1))
  objective, _ = textgan.d_objective(jnp.asarray(ro), jnp.asarray(fo), jnp.asarray(z_hat), jnp.asarray(z),
                                     jnp.asarray(x), jnp.asarray(y), type("p", (), {**vars(P), "sigmas": sigmas}))
  np.testing.assert_allclose(float(objective), l_gan - 0.7 * l_recon + 2.0 * mmd, rtol=1e-5)


def test_bgan_tokens_loss_is_eq10_with_sequence_log_probabilities():
  """L_G = -E_z sum_m w~_m log g(x_m | z), w~_m = (D/(1-D))(x_m) / sum_m' (D/(1-D))(x_m') (Hjelm et al. Eq. 10),
  log g(x | z) the sum of the stepped cell's token log-probabilities."""
  g, params = _policy(latent_dim=2)
  rng = np.random.default_rng(0)
  m, n = 3, 2
  z = jnp.asarray(rng.normal(size=(n, 2)), jnp.float32)
  zm = jnp.tile(z, (m, 1))
  x = jnp.asarray(rng.integers(0, V, (m * n, T)), jnp.int32)
  logp = np.asarray(bgan_tokens.sequence_log_prob(g.apply, params, x, zm))
  for i in range(m * n):
    expected = sum(np.log(_step_probs(g, params, np.asarray(x[i, :t]), zm[i:i + 1])[int(x[i, t])]) for t in range(T))
    np.testing.assert_allclose(logp[i], expected, rtol=1e-4)
  d_logits = rng.normal(size=(m, n))
  d = 1 / (1 + np.exp(-d_logits))
  w = (d / (1 - d)) / np.sum(d / (1 - d), axis=0)
  np.testing.assert_allclose(np.asarray(bgan.importance_weights(jnp.asarray(d_logits))), w, rtol=1e-5)
  loss = -np.mean(np.sum(w * logp.reshape(m, n), axis=0))
  ours = -jnp.mean(jnp.sum(jnp.asarray(w) * bgan_tokens.sequence_log_prob(g.apply, params, x, zm).reshape((m, n)), 0))
  np.testing.assert_allclose(float(ours), loss, rtol=1e-5)


def test_samples_are_written_with_their_sources_separator(tmp_path):
  """Characters (`text:`) and grammar symbols are joined as they are, words (`corpus:`) with spaces."""
  import types

  from ganjax import sampling
  from ganjax.data import readers

  path = tmp_path / "t.txt"
  path.write_text("the cat sat on the mat. " * 8, encoding="utf-8")
  src = readers.text_windows(path, window=8, stride=4)
  lines = sampling.sequences_text(types.SimpleNamespace(split=types.SimpleNamespace(train=src)),
                                  src.get(np.arange(2))["tokens"]).splitlines()
  assert lines == ["the cat ", "cat sat "]  # the file's own characters, not "t h e   c a t"
  corpus = data_seq.corpus(str(ROOT / "tests" / "data" / "corpus.txt"), length=12)
  words = data_seq.decode(corpus.get(np.arange(1))["tokens"], corpus.vocabulary)[0]
  text = sampling.sequences_text(types.SimpleNamespace(split=types.SimpleNamespace(train=corpus)),
                                 corpus.get(np.arange(1))["tokens"])
  assert text == " ".join(words) + "\n" and data_seq.grammar(0, 13, 5).separator == ""


def test_grammar_data_is_valid_and_the_parser_rejects_invalid_strings():
  src = data_seq.grammar(0, 13, 300)
  strings = data_seq.to_text(src.get(np.arange(300))["tokens"], src.vocabulary, src.separator)
  assert all(1 <= len(s) <= 12 for s in strings)
  scores = seq_metrics.grammar_scores(strings)
  assert scores["sequence/valid_fraction"] == 1.0 and scores["sequence/distinct_valid"] == len(set(strings))
  for bad in ("x+", "(x", "xx", ")x(", "+x", "x*/x", ""):
    assert not data_seq.valid(list(bad)), bad
  for good in ("x", "(x)", "x-(x/x)*x", "((x))+x"):
    assert data_seq.valid(list(good)), good
  np.testing.assert_array_equal(data_seq.grammar(0, 13, 50).get(np.arange(50))["tokens"], src.get(np.arange(50))["tokens"])


def test_oracle_is_seeded_and_scores_its_own_samples_above_random_ones():
  a, b = data_seq.oracle(3, 40, 8, 100), data_seq.oracle(3, 40, 8, 100)
  toks = a.get(np.arange(a.size))["tokens"]
  assert toks.shape == (120, 8) and toks.max() < 40
  np.testing.assert_array_equal(toks, b.get(np.arange(b.size))["tokens"])
  assert not np.array_equal(toks, data_seq.oracle(4, 40, 8, 100).get(np.arange(120))["tokens"])
  own = seq_metrics.oracle_nll(toks, 3, 40)
  uniform = seq_metrics.oracle_nll(np.random.default_rng(0).integers(0, 40, (120, 8)), 3, 40)
  assert own < uniform  # the oracle prefers what it draws (NLL_oracle: lower is better)


def test_bleu_and_self_bleu_use_nltk_and_separate_copies_from_novel_text():
  refs = [s.split() for s in ("the cat sat on the mat", "a dog ran to the tree", "the bird sang in the tree")]
  copies = seq_metrics.bleu([refs[0], refs[1]], refs)
  assert copies[2] == pytest.approx(1.0) and copies[5] == pytest.approx(1.0)
  novel = seq_metrics.bleu([["tree", "mat", "ran", "sang", "bird"]], refs)
  assert novel[2] < 0.3 and novel[5] < novel[2]
  same = seq_metrics.self_bleu([refs[0]] * 4)
  assert same[4] == pytest.approx(1.0)
  assert seq_metrics.self_bleu(refs)[4] < 0.5  # different sentences: low self-BLEU (diverse)


def test_bad_sequence_input_is_one_line(tmp_path, config_of):
  empty = tmp_path / "empty.txt"
  empty.write_text("")
  with pytest.raises(DataError, match="no sentence"):
    data_seq.corpus(str(empty))
  with pytest.raises(DataError, match="does not exist"):
    data_seq.corpus(str(tmp_path / "missing.txt"))
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("the\ncat\nsat\non\nmat\n.\n")
  with pytest.raises(DataError, match="'dog' .* is not in the vocabulary"):
    data_seq.corpus(str(ROOT / "tests" / "data" / "corpus.txt"), 100, 12, str(vocab))
  from ganjax.run import Run

  c = config_of("textgan.py")
  c.model.seq_len = 5  # shorter than the data's sequences
  with pytest.raises(DataError, match="longer than model.seq_len=5"):
    Run(c, tmp_path / "run")
  c = config_of("seqgan.py")
  c.data.name = "digits"
  with pytest.raises(DataError, match="trains on token sequences"):
    Run(c, tmp_path / "run2")
  c.data.name = "oracle:x"
  with pytest.raises(DataError, match="integer seed"):
    Run(c, tmp_path / "run3")


def test_discriminator_diagnostic_reports_held_out_accuracy(tmp_path, config_of, capsys):
  """launch/seqgan_discriminator.py on a trained oracle run: a fresh D's held-out table, the run untouched."""
  import importlib.util

  from ganjax import train

  c = config_of("seqgan.py", steps=2)
  c.seqgan.pretrain_g_steps = 2  # one phase, one program: only G matters here
  train.train(c, tmp_path / "run")
  before = sorted(os.listdir(tmp_path / "run" / "checkpoints"))
  spec = importlib.util.spec_from_file_location("diag", ROOT / "launch" / "seqgan_discriminator.py")
  diag = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(diag)
  diag.main([str(tmp_path / "run"), "--steps=4", "--every=2"])
  rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 2 |") or line.startswith("| 4 |")]
  assert len(rows) == 2
  accuracy = float(rows[1].split("|")[4])
  assert 0.0 <= accuracy <= 1.0
  assert sorted(os.listdir(tmp_path / "run" / "checkpoints")) == before
  # launch/seqgan_sharpening.py on the same run: the temperature bar and the constant-reward updates
  spec = importlib.util.spec_from_file_location("sharp", ROOT / "launch" / "seqgan_sharpening.py")
  sharp = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(sharp)
  sharp.main([str(tmp_path / "run"), "--step=2", "--steps=2", "--every=1", "--samples=1000", "--temperatures=1,0.5",
              f"--json={tmp_path / 'sharp.json'}"])
  out = __import__("json").loads((tmp_path / "sharp.json").read_text())
  temp = out["temperature"]
  assert sorted(temp) == ["0.5", "1.0"]
  curves = out["constant_reward"]
  assert sorted(curves) == ["carried", "carried_token_mean", "fresh"]
  assert [r["update"] for r in curves["fresh"]] == [0, 1, 2]
  assert curves["fresh"][0] == curves["carried"][0] == curves["carried_token_mean"][0]  # one starting G
  np.testing.assert_allclose(curves["fresh"][0]["entropy"], temp["1.0"]["entropy"], rtol=0.05)
  assert curves["fresh"][0]["nll_test"] == temp["1.0"]["nll_test"]  # tau = 1 is the generator itself
  assert sorted(os.listdir(tmp_path / "run" / "checkpoints")) == before


def test_seqgan_phases_compile_once_each_and_resume_bitwise_across_them(tmp_path, config_of, monkeypatch):
  """Algorithm 1's three phases by step (MLE, D, adversarial), one program each; a run stopped in the
  D phase resumes into the adversarial one bitwise equal to a straight run."""
  import dataclasses

  import jax

  from ganjax import algorithms, train

  assert [seqgan.phase(config_of("seqgan.py"), s) for s in range(4)] == ["pretrain_g", "pretrain_d", "adversarial", "adversarial"]
  traced = []
  step = seqgan.train_step  # the loop reads the record: the traced step goes into a copy of it
  monkeypatch.setitem(algorithms.ALGORITHMS, "seqgan",
                      dataclasses.replace(seqgan.METHOD, train_step=lambda *a: traced.append(a[3]) or step(*a)))
  c = config_of("seqgan.py", steps=4)
  c.checkpoint_every = 100
  straight = train.train(c, tmp_path / "straight")
  assert traced == ["pretrain_g", "pretrain_d", "adversarial"]  # traced once per phase
  # each phase reports its own metrics; a logged row averages each over the steps that report it
  every = c.copy_and_resolve_references()
  every.log_every = 1  # a loop field: the same programs
  train.train(every, tmp_path / "every")
  read = lambda w: {r["step"]: r for r in map(json.loads, open(tmp_path / w / "metrics.jsonl"))}  # noqa: E731
  per_step, rows = read("every"), read("straight")
  mle, d, adversarial = ({"g/loss", "g/nll", "g/grad_norm"}, {"g/nll", "d/loss", "d/p_real", "d/p_fake"},
                         {"g/loss", "g/nll", "g/reward", "g/grad_norm", "d/loss", "d/p_real", "d/p_fake"})
  assert [set(per_step[s]) - {"step", "steps_per_sec"} for s in range(1, 5)] == [mle, d, adversarial, adversarial]
  for end in (2, 4):
    assert set(rows[end]) - {"step", "steps_per_sec"} == set().union(*(per_step[s] for s in (end - 1, end))) - {"step", "steps_per_sec"}
    for k in set(rows[end]) - {"step", "steps_per_sec"}:
      assert rows[end][k] == pytest.approx(np.mean([per_step[s][k] for s in (end - 1, end) if k in per_step[s]]), rel=1e-6)
  stop = lambda s, state: s == 2 and os.kill(os.getpid(), __import__("signal").SIGTERM)  # noqa: E731
  assert int(train.train(c, tmp_path / "resumed", hooks=[stop]).step) == 2
  resumed = train.train(c, tmp_path / "resumed")
  for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed), strict=True):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_gsgan_trains_with_the_cnn_discriminator_too(tmp_path, config_of):
  """model.discriminator = cnn (SeqGAN's, with dropout) in place of Kusner's LSTM."""
  from ganjax import train

  c = config_of("gsgan.py", steps=2)
  c.model.discriminator = "cnn"
  state = train.train(c, tmp_path)
  assert "conv1" in state.d.params and int(state.step) == 2


def _seqgan_state(config_of, **fields):
  c = config_of("seqgan.py")
  for k, v in fields.items():
    c.seqgan[k] = v
  c.model.vocab_size, c.model.seq_len = 7, 5
  rows = seqgan.rows_per_step(c)
  tokens = jax.random.randint(jax.random.key(5), (rows, 5), 0, 7)
  return c, seqgan.init(c, jax.random.key(0), {"tokens": tokens[:2]}), {"tokens": tokens}


def _run(state, batch, steps):
  for s in range(steps):
    state, _ = jax.jit(seqgan.train_step, static_argnums=3)(state, batch, jax.random.key(100 + s),
                                                          seqgan.phase(state.config, s))
  return state


@pytest.mark.parametrize("how", ["fresh", "carried"])
def test_seqgan_policy_gradient_has_its_own_adam_as_the_released_code(config_of, how):
  """The released code's second Adam (`g_opt`) for the policy gradient: at the first adversarial step
  G's update is a first Adam step from zero moments, each weight moving by lr * |g| / (|g| + eps),
  i.e. by lr = 0.01 wherever its (clipped) gradient is not tiny; with the MLE Adam's state carried
  (the other option), the moments of the MLE steps set a different step for each weight."""
  c, state, batch = _seqgan_state(config_of, adversarial_optimizer=how)
  start = c.seqgan.pretrain_g_steps + c.seqgan.pretrain_d_steps
  before = _run(state, batch, start)  # MLE and D pre-training
  after = jax.jit(seqgan.train_step, static_argnums=3)(before, batch, jax.random.key(100 + start), "adversarial")[0]
  moved = np.concatenate([np.abs(np.asarray(a) - np.asarray(b)).ravel()
                          for a, b in zip(jax.tree.leaves(after.g.params), jax.tree.leaves(before.g.params))])
  lr = c.optim.g.lr
  counts = [int(x) for x in jax.tree.leaves(after.g.opt_state) if getattr(x, "ndim", 1) == 0 and x.dtype == jnp.int32]
  if how == "fresh":
    assert moved.max() <= lr * (1 + 1e-5)
    assert np.mean(np.isclose(moved, lr, rtol=1e-3)) > 0.9
    assert counts and set(counts) == {1}  # Adam's step count restarted
  else:
    assert np.mean(np.isclose(moved, lr, rtol=1e-3)) < 0.5
    assert counts and set(counts) == {start - c.seqgan.pretrain_d_steps + 1}  # MLE's updates counted on


def test_seqgan_policy_gradient_loss_reductions_are_the_released_codes_and_the_means():
  """The released `g_loss`: -sum over every token of the batch of log G(y_t) Q_t; `sequence_mean`
  divides by the batch, `token_mean` by the batch and T (written out in numpy)."""
  rng = np.random.default_rng(0)
  lp, q = -rng.uniform(0.1, 3.0, (4, 6)), rng.uniform(0, 1, (4, 6))
  total = -sum(lp[b, t] * q[b, t] for b in range(4) for t in range(6))
  for how, expected in [("sum", total), ("sequence_mean", total / 4), ("token_mean", total / 24)]:
    np.testing.assert_allclose(float(seqgan.policy_gradient_loss(jnp.asarray(lp), jnp.asarray(q), how)), expected,
                               rtol=1e-5)


def test_seqgan_two_class_discriminator_is_the_released_softmax():
  """`model.d_classes=2`: D's reward is the released `ypred_for_auc[:, 1]` = softmax(f W + b)[:, 1] of
  the output layer's two logits, and D's loss the mean softmax cross-entropy of the mixed batch plus
  0.2 * (||W||^2 + ||b||^2) / 2, both written out in numpy from D's features and output layer."""
  from ganjax.networks.sequence import SequenceCNN

  d = SequenceCNN(vocab_size=V, embed_dim=4, filter_scale=0.02, dropout=0.0, classes=2)
  real, fake = jnp.asarray(ALL[:4]), jnp.asarray(ALL[5:9])
  params = d.init(jax.random.key(0), real)["params"]
  w, b = np.asarray(params["logit"]["kernel"], np.float64), np.asarray(params["logit"]["bias"], np.float64)
  assert w.shape[1] == 2 and b.shape == (2,)

  def softmax_rows(x):
    f = np.asarray(d.apply({"params": params}, x)[1], np.float64)
    e = np.exp(f @ w + b)
    return e / e.sum(1, keepdims=True)

  reward = seqgan.reward(type("P", (), {"apply": staticmethod(lambda p, x, **kw: (d.apply({"params": p}, x), None))}),
                         params, real)
  np.testing.assert_allclose(np.asarray(reward), softmax_rows(real)[:, 1], rtol=1e-5)
  loss, _ = seqgan.d_loss(type("P", (), {"apply": staticmethod(lambda p, x, **kw: (d.apply({"params": p}, x), None))}),
                          params, real, fake, jax.random.key(1), 0.2)
  ce = np.concatenate([-np.log(softmax_rows(real)[:, 1]), -np.log(softmax_rows(fake)[:, 0])]).mean()
  np.testing.assert_allclose(float(loss), ce + 0.2 * (np.sum(w**2) + np.sum(b**2)) / 2, rtol=1e-5)


def test_seqgan_highway_is_initialised_as_the_released_code():
  """The released highway (`highway(..., 1, 0)`): gate bias offset 0 and TensorFlow's glorot_uniform
  on every weight and bias -- kernels within sqrt(6 / (2d)), biases within sqrt(3 / d), spread over it."""
  from ganjax.networks.sequence import Highway

  dim = 400
  p = Highway().init(jax.random.key(0), jnp.zeros((1, dim)))["params"]
  for name in ("transform", "hidden"):
    k, bias = np.asarray(p[name]["kernel"]), np.asarray(p[name]["bias"])
    assert np.abs(k).max() <= np.sqrt(6 / (2 * dim)) and np.abs(k).max() > 0.9 * np.sqrt(6 / (2 * dim))
    assert np.abs(bias).max() <= np.sqrt(3 / dim) and abs(bias.mean()) < 0.01 and bias.std() > 0.5 * np.sqrt(1 / dim)
  x = jnp.ones((1, dim))
  t = jax.nn.sigmoid(x @ p["transform"]["kernel"] + p["transform"]["bias"])
  y = t * jax.nn.relu(x @ p["hidden"]["kernel"] + p["hidden"]["bias"]) + (1 - t) * x
  np.testing.assert_allclose(np.asarray(Highway().apply({"params": p}, x)), np.asarray(y), rtol=1e-5, atol=1e-6)


def test_seqgan_discriminator_updates_each_read_their_own_data(config_of):
  """Each of the adversarial step's `d_steps` D updates trains on its own minibatch of data (the
  released code's D epochs never reuse a minibatch within a pass): the step reads d_steps * batch rows,
  and changing only the last minibatch changes D's update."""
  c, state, batch = _seqgan_state(config_of, d_steps=2)
  assert batch["tokens"].shape[0] == 2 * c.batch_size
  start = c.seqgan.pretrain_g_steps + c.seqgan.pretrain_d_steps
  state = state.replace(step=jnp.asarray(start, jnp.int32))
  step = jax.jit(seqgan.train_step, static_argnums=3)
  a = step(state, batch, jax.random.key(3), "adversarial")[0]
  other = batch["tokens"].at[c.batch_size:].set((batch["tokens"][c.batch_size:] + 1) % 7)
  b = step(state, {"tokens": other}, jax.random.key(3), "adversarial")[0]
  assert any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a.d.params), jax.tree.leaves(b.d.params)))
  np.testing.assert_array_equal(np.asarray(jax.tree.leaves(a.g.params)[0]), np.asarray(jax.tree.leaves(b.g.params)[0]))


def test_phased_methods_take_the_released_codes_fresh_optimizer(config_of):
  """Every method with an MLE phase offers `<block>.adversarial_optimizer` (fresh, the default, or
  carried), and refuses anything else with a one-line error."""
  from ganjax.algorithms import gsgan

  for module, file, arg, block in [(seqgan, "seqgan.py", None, "seqgan"), (gsgan, "gsgan.py", None, "gsgan"),
                                   (textgan, "textgan.py", None, "textgan"), (bgan_tokens, "bgan.py", "tokens", "bgan")]:
    c = config_of(file, arg)
    c[block].adversarial_optimizer = "adamw"
    with pytest.raises(ConfigError, match="adversarial_optimizer"):
      module.check(c)


@pytest.mark.parametrize("name,arg,block", [("seqgan.py", None, "seqgan"), ("gsgan.py", None, "gsgan"),
                                            ("textgan.py", None, "textgan"), ("bgan.py", "tokens", "bgan")])
def test_every_phased_sequence_config_declares_its_adversarial_optimizer(name, arg, block):
  """The phase switch reads `<block>.adversarial_optimizer`; the field must be in the config so that
  `--config.<block>.adversarial_optimizer=carried` can be given at all (an undeclared field is refused
  by the command line), and its default is the released code's fresh Adam."""
  from tiny import load_config

  c = load_config(name, arg)
  assert c[block].adversarial_optimizer == "fresh"
  c[block].adversarial_optimizer = "carried"  # an override, as the command line applies it
  sequences.check_phase_optimizer(block, c[block])
  c[block].adversarial_optimizer = "kept"
  with pytest.raises(ConfigError, match=f"{block}.adversarial_optimizer"):
    sequences.check_phase_optimizer(block, c[block])
