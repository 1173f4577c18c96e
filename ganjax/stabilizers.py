"""Stabilizers any adversarial method switches on from config, implemented once.

- Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): Gaussian noise on every input of
  the discriminator, real and generated alike, with a standard deviation annealed linearly from
  `instance_noise` to 0 over `instance_noise_steps` steps (0: over the whole run).
- An exponential moving average of the generator's parameters (Yazıcı et al. 2019), kept in
  `state.extra["g_ema"]` (so it is checkpointed) when `ema_decay` > 0 and used for sampling and
  evaluation.
- Feature matching (Salimans et al. 2016, Sec. 3.1): the generator minimises
  ||E_x f(x) - E_z f(G(z))||_2^2 with f the discriminator's last hidden features
  (`g_objective="feature_matching"`) instead of its adversarial loss.
- Historical averaging (Salimans et al. 2016, Sec. 3.3): each player's loss gains
  lambda * ||theta - mean of its past theta||^2 (`historical_averaging` = lambda); the running means
  live in `state.extra["hist_<player>"]`, so they are checkpointed.
- Replay memory (Shrivastava et al. 2017, Sec. 2.3): a buffer of `replay_size` past generated
  samples in `state.extra["replay"]` (sharded over devices, checkpointed); a fraction
  `replay_fraction` of every discriminator batch of fakes comes from it, and as many fresh samples
  replace random entries after each discriminator update.
- Unrolled GAN (Metz et al. 2017, Eq. 4-6): the generator's loss is taken against the discriminator
  after k of its own optimizer steps, differentiating through them (`unroll`).
- Discriminator ensembles (Durugkar et al. 2017, GMAN, Sec. 3): N discriminators as one stacked
  player (`EnsembleApply`), the generator's loss their softmax-weighted mean (`soft_mean`).
- Minibatch discrimination (Salimans et al. 2016, Sec. 3.2) and virtual batch norm (Sec. 3.4) are
  layers: `ganjax.networks.layers`.
- One-sided label smoothing (Salimans et al. 2016) is the `real_label` argument of the losses.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp


def instance_noise_std(config, step):
  """The noise level at `step`: linear from config.instance_noise down to 0."""
  if not config.instance_noise:
    return 0.0
  horizon = config.instance_noise_steps or config.num_steps
  return config.instance_noise * jnp.maximum(0.0, 1.0 - step / horizon)


def add_instance_noise(x, std, key):
  return x if isinstance(std, float) and std == 0.0 else x + std * jax.random.normal(key, x.shape, x.dtype)


def ema_update(ema, params, decay: float):
  """ema <- decay * ema + (1 - decay) * params."""
  return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


def features(player, params, x, model_state=None, train: bool = True):
  """(the discriminator's output, its sown last hidden features, its new model state) for x."""
  model_state = player.model_state if model_state is None else model_state
  variables = {"params": params, **model_state}
  mutable = ["intermediates", *(model_state if train else ())]
  out, new = player.apply_fn(variables, x, train=train, mutable=mutable)
  new = dict(new)
  feats = new.pop("intermediates")["features"][0]
  return out, feats, (new if train and model_state else model_state)


def feature_matching_loss(real_features, fake_features):
  """||mean real features - mean generated features||^2 over the feature axis."""
  real = jnp.mean(real_features.reshape((real_features.shape[0], -1)), axis=0)
  fake = jnp.mean(fake_features.reshape((fake_features.shape[0], -1)), axis=0)
  return jnp.sum((jax.lax.stop_gradient(real) - fake)**2)


def historical_penalty(params, mean):
  """||theta - mean past theta||^2 over all of a player's parameters."""
  return sum(jnp.sum((p - jax.lax.stop_gradient(m))**2) for p, m in zip(jax.tree.leaves(params), jax.tree.leaves(mean)))


def running_mean_update(mean, params, count):
  """The mean of `count` past values -> the mean of those and `params`."""
  return jax.tree.map(lambda m, p: m + (p - m) / (count + 1.0), mean, params)


# ---------------------------------------------------------------- replay memory (Shrivastava et al. 2017)

def replay_count(fraction: float, n: int) -> int:
  """Rows of an n-row discriminator batch of fakes that come from the buffer."""
  return int(round(fraction * n))


def replay_mix(buffer, fresh, fraction: float, key):
  """(the discriminator's fakes, the updated buffer). The first k = round(fraction * n) rows of the
  n fresh samples are swapped for k entries drawn uniformly from the buffer, and those k fresh rows
  are written over k uniformly chosen entries of the buffer (in the buffer's dtype)."""
  k = replay_count(fraction, fresh.shape[0])
  if k == 0:
    return fresh, buffer
  read_key, write_key = jax.random.split(key)
  size = buffer.shape[0]
  old = jnp.take(buffer, jax.random.randint(read_key, (k,), 0, size), axis=0)
  mixed = jnp.concatenate([old.astype(fresh.dtype), fresh[k:]])
  slots = jax.random.choice(write_key, size, (k,), replace=False)  # distinct slots: no write races
  return mixed, buffer.at[slots].set(jax.lax.stop_gradient(fresh[:k]).astype(buffer.dtype))


# ---------------------------------------------------------------- unrolled GAN (Metz et al. 2017)

def unroll(player, loss_fn: Callable, k: int, clip: float = 0.0):
  """`player` after k optimizer steps on `loss_fn(params, model_state) -> (loss, model_state)`,
  differentiable with respect to whatever `loss_fn` closes over (the generator's parameters): the
  unrolled discriminator theta_D^k of Metz et al.'s Eq. 5. `clip` > 0 clips weights after each step
  (WGAN), as the real updates do."""
  for _ in range(k):
    grads, model_state = jax.grad(loss_fn, has_aux=True)(player.params, player.model_state)
    player = player.update(grads, model_state)
    if clip:
      player = player.replace(params=jax.tree.map(lambda p: jnp.clip(p, -clip, clip), player.params))
  return player


# ---------------------------------------------------------------- discriminator ensembles (Durugkar et al. 2017)

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
  """GMAN's soft discriminator (Durugkar et al. 2017, Sec. 3.2): sum_i softmax(lambda V)_i V_i over
  the N discriminators' generator losses V_i; lambda = 0 is their mean, lambda -> inf their max."""
  return jnp.sum(jax.nn.softmax(softness * values) * values)
