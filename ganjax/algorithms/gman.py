"""GMAN, generative multi-adversarial networks (Durugkar, Gemp & Mahadevan 2017).

N discriminators D_1..D_N, independently initialised, each trained on its own GAN loss against the
same generator: D's loss is the sum of the members' losses (each member's gradient is its own). G
minimises the soft mean of the members' generator losses V_i (Sec. 3.2, "soft-discriminator"),
    V_soft = sum_i softmax(lambda V)_i V_i,
lambda = 0 being the mean (GMAN-0) and lambda -> inf the max (the "hardest" discriminator).
The members are one player with their variables stacked on a leading axis and `apply` vmapped over
it (`EnsembleApply`), so they train, shard and checkpoint as one. Config: `gman.num_discriminators`
(N), `gman.softness` (lambda), `gan.loss` (each member's objective).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import discriminator_network, generator_network, grad_norm, init_player, sample_latent
from ganjax.algorithms.method import Method, Sampler
from ganjax.errors import ConfigError

ADVERSARIAL = stabilizers.Adversarial(features=False, penalty=False, why={
    "features": "its N discriminators have N feature layers (feature matching is not defined for the ensemble)",
    "penalty": "a penalty on the stacked ensemble is not implemented"})


@dataclasses.dataclass(frozen=True)
class EnsembleApply:
  """The `apply` of one network, vmapped over a leading axis of stacked variables: N independently
  initialised copies evaluated on the same inputs, outputs stacked as (N, ...)."""

  apply_fn: Callable

  def __call__(self, variables, *args, **kw):
    return jax.vmap(lambda v: self.apply_fn(v, *args, **kw))(variables)


def ensemble_init(module, key, n: int, *args, **kw):
  """Stacked variables of n copies of `module`, each from its own key."""
  return jax.vmap(lambda k: module.init(k, *args, **kw))(jax.random.split(key, n))


def soft_mean(values, softness: float):
  """sum_i softmax(lambda V)_i V_i over the N members' generator losses V_i."""
  return jnp.sum(jax.nn.softmax(softness * values) * values)


def init(config, key, example_batch) -> state_lib.TrainState:
  if config.gman.num_discriminators < 1:
    raise ConfigError(f"gman.num_discriminators must be >= 1, got {config.gman.num_discriminators}")
  shape = example_batch["image"].shape[1:]
  g, d = generator_network(config, shape), discriminator_network(config)
  kg, kd, kr = jax.random.split(key, 3)
  variables = ensemble_init(d, kd, config.gman.num_discriminators, jnp.zeros((2, *shape)), train=False)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim))),
             "d": state_lib.Player.create(d, state_lib.optimizer(config.optim.d, config.num_steps), variables,
                                          apply_fn=EnsembleApply(d.apply))}
  fakes = lambda k, n: players["g"](sample_latent(k, n, config.model))  # noqa: E731
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, kr))


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  real = batch["image"]
  k = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
  fake = jax.lax.stop_gradient(g.apply(g.params, sample_latent(jax.random.fold_in(k, 0), real.shape[0], cfg.model))[0])
  fake = stab.fakes(fake, jax.random.fold_in(k, 4))

  def d_objective(params):  # the sum of the members' own losses
    real_out, ms = d.apply(params, stab.d_input(real, jax.random.fold_in(k, 2)))
    fake_out, ms = d.apply(params, stab.d_input(fake, jax.random.fold_in(k, 3)), model_state=ms)  # (N, B)
    loss = jnp.sum(jax.vmap(lambda r, f: stab.d_loss(r, f)[0])(real_out, fake_out))
    aux = {**stab.d_loss(real_out, fake_out)[1], "d/adversarial": loss}
    loss, reg = stab.d_regularize(loss, "d", params)
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)
  z = sample_latent(jax.random.fold_in(key, 1), real.shape[0], cfg.model)

  def g_objective(params):  # the soft mean of the members' generator losses
    x, ms = g.apply(params, z)
    out = d.apply(d.params, stab.d_input(x, jax.random.fold_in(key, 2)))[0]
    member_losses = jax.vmap(lambda o: stab.g_loss(lambda: o))(out)
    return stab.g_regularize(soft_mean(member_losses, cfg.gman.softness), "g", params), ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, "d/grad_norm": grad_norm(d_grads), **d_aux, "g/loss": g_loss,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def generate(state, key, n: int, z=None):
  z = sample_latent(key, n, state.config.model) if z is None else z
  return stabilizers.sampler(state)(z)


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, density_decoder=True),
                adversarial=ADVERSARIAL)
