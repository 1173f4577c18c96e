"""Can a discriminator tell the oracle's sequences from a trained generator's on held-out data?

  python launch/seqgan_discriminator.py WORKDIR [--step=4000] [--lr=1e-3] [--steps=2000] [--every=250]

Restores WORKDIR's generator (a seqgan / MLE run on `oracle`, at --step: default the latest
checkpoint), trains a fresh SeqGAN discriminator (the run's config: CNN, dropout, l2 on the output
layer) on the run's training sequences against fresh samples of that generator with Adam(--lr), and
prints every --every steps its training loss and, on the held-out oracle sequences against as many
fresh samples, its accuracy and mean D(x) for each side: the diagnostic of SeqGAN's reward (a D
that only memorises the training set scores held-out oracle sequences like generated ones).
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax.algorithms import sequences
from ganjax.run import run_at_step


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("workdir")
  p.add_argument("--step", type=int, default=0)
  p.add_argument("--lr", type=float, default=1e-3)
  p.add_argument("--steps", type=int, default=2000)
  p.add_argument("--every", type=int, default=250)
  a = p.parse_args(argv)

  with run_at_step(a.workdir, a.step) as (run, step):  # the workdir untouched
    g = jax.device_get(run.state.g)  # on one device, as D's parameters (one program each)
    train_tok = run.split.train.get(np.arange(run.split.train.size))["tokens"]
    test_tok = jnp.asarray(run.split.test.get(np.arange(run.split.test.size))["tokens"])
  d = sequences.discriminator(run.config)
  params = jax.jit(d.init)(jax.random.key(1), jnp.asarray(train_tok[:2]))
  opt = optax.adam(a.lr)
  opt_state = opt.init(params)
  l2 = run.config.seqgan.d_l2

  def loss_fn(params, real, fake, key):
    ro = d.apply(params, real, train=True, rngs={"dropout": jax.random.fold_in(key, 0)})[0]
    fo = d.apply(params, fake, train=True, rngs={"dropout": jax.random.fold_in(key, 1)})[0]
    w = params["params"]["logit"]
    return (0.5 * (jnp.mean(jax.nn.softplus(-ro)) + jnp.mean(jax.nn.softplus(fo)))
            + l2 * 0.5 * (jnp.sum(w["kernel"]**2) + jnp.sum(w["bias"]**2)))

  # G's weights and the held-out sequences are arguments of the programs, not constants compiled into them
  @jax.jit
  def update(params, opt_state, g_params, real, key):
    fake = sequences.sample(g.apply_fn, g_params, key, real.shape[0], real.shape[1])[0]
    loss, grads = jax.value_and_grad(loss_fn)(params, real, fake, key)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  @jax.jit
  def held_out(params, g_params, test_tok, key):
    fake = sequences.sample(g.apply_fn, g_params, key, test_tok.shape[0], test_tok.shape[1])[0]
    ro, fo = d.apply(params, test_tok)[0], d.apply(params, fake)[0]
    return (jnp.mean(ro > 0) + jnp.mean(fo < 0)) / 2, jnp.mean(jax.nn.sigmoid(ro)), jnp.mean(jax.nn.sigmoid(fo))

  print(f"generator of {a.workdir} at step {step}; D lr {a.lr}, batch {run.config.batch_size}")
  print("| D step | seconds | training loss | held-out accuracy | D(held-out oracle) | D(generated) |")
  print("| --- | --- | --- | --- | --- | --- |")
  rng, t0 = np.random.default_rng(0), time.perf_counter()
  for i in range(1, a.steps + 1):
    real = jnp.asarray(train_tok[rng.integers(0, len(train_tok), run.config.batch_size)])
    params, opt_state, loss = update(params, opt_state, g.params, real, jax.random.key(i))
    if i % a.every == 0:
      acc, pr, pf = held_out(params, g.params, test_tok, jax.random.key(10**6 + i))
      print(f"| {i} | {time.perf_counter() - t0:.0f} | {float(loss):.3f} | {float(acc):.3f} | {float(pr):.3f} | {float(pf):.3f} |",
            flush=True)


if __name__ == "__main__":
  main()
