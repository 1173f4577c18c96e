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
- Minibatch discrimination (Salimans et al. 2016, Sec. 3.2) is a layer: `ganjax.networks.layers`.
- One-sided label smoothing (Salimans et al. 2016) is the `real_label` argument of the losses.
"""

from __future__ import annotations

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
