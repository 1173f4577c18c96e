"""The bars a SeqGAN gain on NLL_oracle must beat: how far mere sharpening of the MLE generator goes.

  python launch/seqgan_sharpening.py WORKDIR [--step=5000] [--steps=50] [--every=5] [--reward=0.5]
      [--temperatures=1,0.95,0.9,0.8] [--samples=10000] [--json=FILE]

Restores the generator of WORKDIR (a `configs/seqgan.py` or `:mle` run on `oracle`) at --step (the
MLE checkpoint: default 5,000) and reports, each on --samples fresh sequences:

1. temperature: G sampled from softmax(logits / tau) for each tau -- NLL_oracle, the tempered model's
   held-out per-token NLL, and its per-token entropy (the mean -log p_tau of its own samples). Lower
   temperatures lower NLL_oracle by concentrating G on its likeliest sequences: a SeqGAN gain that
   this bar matches is sharpening, not learning the oracle.
2. constant reward: --steps policy-gradient updates of G with Q = --reward for every token (no
   discriminator: the gradient sum_t grad log G(y_t) of G's own samples only sharpens G), as the run's
   `seqgan.pg_reduction` loss with G's optimizer from the config, three ways: the MLE phase's Adam
   state carried; a fresh Adam (the released code's second optimizer); carried with the loss a
   per-token mean (`token_mean`: the MLE loss's scale, so the carried moments fit it). NLL_oracle,
   held-out NLL and entropy every --every updates.
Nothing in WORKDIR is changed. Prints one JSON object (and writes it to --json).
"""

import argparse
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np

from ganjax.algorithms import seqgan, sequences
from ganjax.metrics import sequences as seq_metrics
from ganjax.run import run_at_step


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("workdir")
  p.add_argument("--step", type=int, default=5000)
  p.add_argument("--steps", type=int, default=50)
  p.add_argument("--every", type=int, default=5)
  p.add_argument("--reward", type=float, default=0.5)
  p.add_argument("--temperatures", default="1,0.95,0.9,0.8")
  p.add_argument("--samples", type=int, default=10_000)
  p.add_argument("--json", default="")
  a = p.parse_args(argv)

  with run_at_step(a.workdir, a.step) as (run, _):  # the workdir untouched
    config, g = run.config, jax.device_get(run.state.g)  # on one device, as the fresh optimizer state (one program each)
    test = jnp.asarray(run.split.test.get(np.arange(run.split.test.size))["tokens"])
  seed, vocab, length = seq_metrics.oracle_seed(config), config.model.vocab_size, config.model.seq_len
  n = config.batch_size

  def tempered(tau):
    def apply(variables, *args, method=None, **kw):
      out = g.apply_fn(variables, *args, method=method, **kw)
      return out if method is not None else (out[0], out[1] / tau)
    return apply

  # one program per temperature, the weights its arguments (not constants compiled into a program per call)
  @functools.partial(jax.jit, static_argnums=2)
  def draw(params, key, tau):
    return sequences.sample(tempered(tau), params, key, 1000, length)

  @functools.partial(jax.jit, static_argnums=2)
  def held_out_nll(params, test, tau):
    return jnp.mean(sequences.nll(tempered(tau), params, test))

  def measure(params, key, tau=1.0):
    toks, logps = zip(*(draw(params, jax.random.fold_in(key, i), tau) for i in range(a.samples // 1000)))
    toks = np.concatenate([np.asarray(t) for t in toks])
    return {"nll_oracle": seq_metrics.oracle_nll(toks, seed, vocab), "nll_test": float(held_out_nll(params, test, tau)),
            "entropy": float(-np.mean(np.concatenate([np.asarray(lp) for lp in logps])))}

  out = {"workdir": a.workdir, "step": a.step, "reward": a.reward, "temperature": {}}
  for tau in (float(t) for t in a.temperatures.split(",")):
    out["temperature"][str(tau)] = measure(g.params, jax.random.key(7), tau)
    print(f"temperature {tau}: {out['temperature'][str(tau)]}", flush=True)

  @functools.partial(jax.jit, static_argnums=2)
  def update(player, key, reduction):
    tokens = sequences.sample(player.apply_fn, player.params, key, n, length)[0]
    q = jnp.full(tokens.shape, a.reward)
    loss = lambda prm: seqgan.policy_gradient_loss(  # noqa: E731
        sequences.token_log_probs(sequences.teacher_forced_logits(player.apply_fn, prm, tokens), tokens), q, reduction)
    return player.update(jax.grad(loss)(player.params))

  def pg_run(player, reduction):
    curve = [{"update": 0, **measure(player.params, jax.random.key(11))}]
    for i in range(1, a.steps + 1):
      player = update(player, jax.random.key(1000 + i), reduction)
      if i % a.every == 0:
        curve.append({"update": i, **measure(player.params, jax.random.key(11 + i))})
        print(f"  {i}: {curve[-1]}", flush=True)
    return curve

  reduction = config.seqgan.get("pg_reduction", "sum")
  variants = {"carried": (g, reduction), "fresh": (g.replace(opt_state=g.tx.init(g.params)), reduction),
              "carried_token_mean": (g, "token_mean")}
  out["constant_reward"] = {}
  for name, (player, red) in variants.items():
    print(f"constant reward, {name} ({red}):", flush=True)
    out["constant_reward"][name] = pg_run(player, red)
  print(json.dumps(out))
  if a.json:
    with open(a.json, "w") as f:
      json.dump(out, f, indent=1)


if __name__ == "__main__":
  main()
