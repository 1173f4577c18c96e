"""How far does the unrolled GAN's look-ahead see? For a trained unrolled-GAN workdir (its latest
checkpoint), on one batch of its training data: for K = 0, 1, 5, 10, 50 unrolled steps of D's own
optimizer, at the run's D learning rate and at `--scale` times it,

- how far theta_D^K is from theta_D (relative L2 norm, largest single weight),
- D's mean probability on G's samples before and after the K steps (does the look-ahead D punish
  what G makes?),
- G's gradient of f_K against its gradient of f = f_0 (cosine, norm ratio): the whole effect
  unrolling has on G's update (Metz et al. 2017, Eq. 4-6).

  python launch/unrolled_lookahead.py WORKDIR [--scale=10] [--batch=512]
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ganjax import stabilizers
from ganjax.algorithms import gan, unrolled_gan
from ganjax.algorithms.common import sample_latent
from ganjax.run import Run
from ganjax.workdir import config_of_workdir


def lookahead(workdir: str, lr_scale: float = 1.0, batch: int = 512, ks=(0, 1, 5, 10, 50)) -> list[dict]:
  cfg = config_of_workdir(workdir)
  with cfg.unlocked():
    cfg.optim.d.lr = cfg.optim.d.lr * lr_scale  # the unrolled steps are D's optimizer's (the checkpoint's moments)
  run = Run(cfg, workdir, need_data_iterator=False)
  state = run.state
  rows = np.random.default_rng(0).choice(run.split.train.size, batch, replace=False)
  real = jnp.asarray(run.split.train.get(np.sort(rows))["image"])
  key, k_d = jax.random.key(1), jax.random.key(2)
  flat = lambda tree: np.concatenate([np.ravel(x) for x in jax.tree.leaves(tree)])  # noqa: E731
  out, g0 = [], None
  for k in ks:
    c = ml_collections.ConfigDict(cfg.to_dict())
    c.unrolled.steps = k
    st = state.replace(config=ml_collections.FrozenConfigDict(c))
    z_d = sample_latent(jax.random.fold_in(k_d, 0), batch, c.model)
    z = sample_latent(jax.random.fold_in(key, 1), batch, c.model)

    def measure(st, real, z_d, z):  # the state an argument: its weights are not baked into the program
      stab = stabilizers.Stabilizers(st, key, unrolled_gan.ADVERSARIAL)
      fake = st.g.apply(st.g.params, z_d, train=True)[0]
      grad = jax.grad(lambda p: unrolled_gan.generator_objective(stab, st.g, st.d, p, real, z_d, fake, z, key, k_d)[0])

      def d_loss(params, model_state):
        loss, (ms, _) = gan.d_objective(stab, st.d.replace(model_state=model_state), params, real, fake, k_d)
        return loss, ms

      d_k = unrolled_gan.unroll(st.d, d_loss, stab.config.unrolled.steps, lambda p, gr, ms: stab.update("d", p, gr, ms))
      p_fake = lambda d: jnp.mean(jax.nn.sigmoid(d.apply(d.params, fake, train=True)[0]))  # noqa: E731
      return grad(st.g.params), d_k.params, p_fake(st.d), p_fake(d_k)

    # up to 10 unrolled steps one compiled program; more run op by op (XLA takes minutes to compile 50)
    grads, d_k_params, p_d, p_d_k = (jax.jit(measure) if k <= 10 else measure)(st, real, z_d, z)
    grad = flat(grads)
    g0 = grad if g0 is None else g0
    before, after = flat(st.d.params), flat(d_k_params)
    out.append({"unroll_lr": cfg.optim.d.lr, "K": k,
                "d_change_rel": float(np.linalg.norm(after - before) / np.linalg.norm(before)),
                "d_change_max": float(np.abs(after - before).max()),
                "d_p_fake": float(p_d), "d_k_p_fake": float(p_d_k),
                "g_grad_cos": float(grad @ g0 / (np.linalg.norm(grad) * np.linalg.norm(g0))),
                "g_grad_norm_ratio": float(np.linalg.norm(grad) / np.linalg.norm(g0))})
  run.checkpoints.close()
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("workdir")
  parser.add_argument("--scale", type=float, default=10.0, help="the second unroll rate, times D's own")
  parser.add_argument("--batch", type=int, default=512)
  args = parser.parse_args()
  print("| unroll lr | K | |θ_D^K − θ_D| / |θ_D| | largest weight change | D(G(z)) → D^K(G(z)) | cos(∇f_K, ∇f) | |∇f_K| / |∇f| |")
  print("| --- | --- | --- | --- | --- | --- | --- |")
  for scale in (1.0, args.scale):
    for r in lookahead(args.workdir, scale, args.batch):
      print(f"| {r['unroll_lr']:g} | {r['K']} | {r['d_change_rel']:.2e} | {r['d_change_max']:.2e} | "
            f"{r['d_p_fake']:.3f} → {r['d_k_p_fake']:.3f} | {r['g_grad_cos']:.3f} | {r['g_grad_norm_ratio']:.2f} |")


if __name__ == "__main__":
  main()
