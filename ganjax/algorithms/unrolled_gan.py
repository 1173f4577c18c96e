"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2017, "Unrolled Generative Adversarial Networks").

With the GAN value function f(theta_G, theta_D) = E_x[log D(x)] + E_z[log(1 - D(G(z)))], the
discriminator is unrolled K steps (Eq. 5),
    theta_D^0 = theta_D,   theta_D^{k+1} = theta_D^k + eta^k df(theta_G, theta_D^k) / dtheta_D^k,
(here: K steps of D's own optimizer on its own loss, on the batch of its update), and the
surrogate objective is the value at the unrolled discriminator (Eq. 4),
    f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)).
G descends df_K / dtheta_G (Eq. 6), the total derivative: through its own samples *and* through
theta_D^K, so the data term E_x[log D^K(x)] contributes too (it depends on theta_G via the
unrolling). D ascends df / dtheta_D: its update is exactly the first unrolled step (Eq. 7).
With `gan.loss` other than "minimax", G's fake-sample term is that loss's generator side at
theta_D^K (non-saturating by default); the data term is always D's real-sample term at theta_D^K
(`generator_objective`). Config: `unrolled.steps` (K). Every stabilizer but `gan.d_steps`
composes (the unrolled steps follow D's one update per G update).
"""

from __future__ import annotations

import jax

from ganjax import losses, stabilizers
from ganjax.algorithms import gan
from ganjax.algorithms.common import grad_norm, sample_latent
from ganjax.algorithms.method import Method, Sampler
from ganjax.errors import ConfigError

ADVERSARIAL = stabilizers.Adversarial(why={"d_steps": "theta_D^K unrolls D's single update per G update (Eq. 5-7)"})
init, generate = gan.init, gan.generate


def check(config):
  if config.gan.replay_size and config.gan.replay_rows != "fixed":
    raise ConfigError("the unrolled GAN keeps the replay memory's rows where gan.replay_rows=fixed puts them "
                      "(the first round(fraction * batch)); random rows are not supported")


def unroll(player, loss_fn, k: int, update):
  """`player` after k steps of `update(player, grads, model_state)` on `loss_fn(params, model_state)
  -> (loss, model_state)`, differentiable in whatever `loss_fn` closes over: theta_D^K."""
  for _ in range(k):
    grads, model_state = jax.grad(loss_fn, has_aux=True)(player.params, player.model_state)
    player = update(player, grads, model_state)
  return player


def generator_objective(stab, g, d, g_params, real, z_d, d_fakes, z, key, k_d):
  """f_K for G: D is unrolled K steps on (real, d_fakes) -- the batch, noise and keys of its own
  update, so the first unrolled step is that update -- with the fresh rows of `d_fakes` (those not
  from the replay memory) G(z_d) as a function of G's parameters. The objective is the value at
  theta_D^K: minus D's real-sample term (G ascends D's loss on the data) plus G's `gan.loss` term
  on G(z). Returns (loss, G's model state)."""
  cfg = stab.config
  fresh = g.apply(g_params, z_d, train=True)[0]
  n_old = stabilizers.replay_count(cfg.gan.replay_fraction, real.shape[0]) if cfg.gan.replay_size else 0
  is_fresh = (jax.numpy.arange(real.shape[0]) >= n_old).reshape((-1,) + (1,) * (real.ndim - 1))
  fake_d = d_fakes + jax.numpy.where(is_fresh, fresh - jax.lax.stop_gradient(fresh), 0.0)  # = d_fakes, in value

  def d_loss(params, model_state):
    loss, (ms, _) = gan.d_objective(stab, d.replace(model_state=model_state), params, real, fake_d, k_d)
    return loss, ms

  d_k = unroll(d, d_loss, cfg.unrolled.steps, lambda p, gr, ms: stab.update("d", p, gr, ms))
  fake, ms = g.apply(g_params, z, train=True)
  fake = stab.d_input(fake, jax.random.fold_in(key, 2))
  real_in = stab.d_input(real, jax.random.fold_in(k_d, 2))  # the noised data of D's update
  data_term = losses.d_real_term(cfg.gan.loss, d_k.apply(d_k.params, real_in, train=True)[0], cfg.gan.real_label)
  loss = stab.g_loss(lambda: d_k.apply(d_k.params, fake, train=True)[0],
                     lambda: (stabilizers.features(d_k, d_k.params, real)[1],
                              stabilizers.features(d_k, d_k.params, fake)[1]))
  return stab.g_regularize(loss - data_term, "g", g_params), ms


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  real = batch["image"]
  k_d = jax.random.split(jax.random.fold_in(key, 0), 1)[0]  # the key of gan.py's (first) D update
  z_d = sample_latent(jax.random.fold_in(k_d, 0), real.shape[0], cfg.model)
  fake = stab.fakes(jax.lax.stop_gradient(g.apply(g.params, z_d, train=True)[0]), jax.random.fold_in(k_d, 4))
  (d_loss, (ms, d_aux)), d_grads = jax.value_and_grad(gan.d_objective, argnums=2, has_aux=True)(
      stab, d, d.params, real, fake, k_d)
  d_new = stab.update("d", d, d_grads, ms)
  z = sample_latent(jax.random.fold_in(key, 1), real.shape[0], cfg.model)
  (g_loss, g_ms), g_grads = jax.value_and_grad(generator_objective, argnums=3, has_aux=True)(
      stab, g, d, g.params, real, z_d, fake, z, key, k_d)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, "d/grad_norm": grad_norm(d_grads), **d_aux, "g/loss": g_loss,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d_new}, metrics)


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, density_decoder=True),
                adversarial=ADVERSARIAL, check=check, config_block="unrolled")
