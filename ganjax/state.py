"""Training state: the step and one `Player` per adversary, as one plain pytree.

A `Player` is one network's parameters, its non-trainable model state (batch statistics), and its
own optax state; its `apply_fn` and optax transformation ride along as static fields, as in
`flax.training.train_state.TrainState`. A method with more players (an encoder, a Q head, N
discriminators) just has more entries in `players`. `extra` holds method-owned arrays that are
neither parameters nor optimizer state (a replay buffer, an EMA copy); it is checkpointed too.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax

from ganjax import base_config
from ganjax.errors import ConfigError, choose
from ganjax.networks.layers import commit_power_iteration

# Independent random streams from the one seed: init, the train steps, sampling and evaluation.
INIT_KEY, STEP_KEY, SAMPLE_KEY, EVAL_KEY = 0, 1, 2, 3


@dataclasses.dataclass(frozen=True)
class ModuleApply:
  """`module.apply`, equal to another `ModuleApply` of an equal module (flax modules compare by their
  fields). A player's static fields are part of the jitted programs' cache keys: with `module.apply`
  (a bound method, equal only to itself) two runs of one config in one process traced and compiled
  every program twice; with this, and the optimizers `optimizer` returns once per setting, they
  share them (`ganjax.run.Run`, the loop's step)."""

  module: Any

  def __call__(self, *args, **kw):
    return self.module.apply(*args, **kw)


class Same:
  """A hashable key part that is equal only to a `Same` of the very same object (which it keeps
  alive): a method's record in the caches of jitted functions."""

  __slots__ = ("value",)

  def __init__(self, value):
    self.value = value

  def __eq__(self, other):
    return isinstance(other, Same) and other.value is self.value

  def __hash__(self):
    return id(self.value)


def remember(cache: dict, key, make: Callable[[], Any], limit: int = 16):
  """`cache[key]`, made by `make()` the first time; the oldest entries go beyond `limit` (the jitted
  steps and inits a process keeps for later runs of the same config)."""
  if key not in cache:
    cache[key] = make()
    while len(cache) > limit:
      cache.pop(next(iter(cache)))
  return cache[key]


@flax.struct.dataclass
class Player:
  params: Any
  model_state: Any  # e.g. {"batch_stats": ...}; {} when the network has none
  opt_state: Any
  apply_fn: Callable = flax.struct.field(pytree_node=False)
  tx: optax.GradientTransformation = flax.struct.field(pytree_node=False)

  @classmethod
  def create(cls, module, tx, variables, apply_fn=None) -> "Player":
    """A player of `module` (or of `apply_fn`, e.g. an ensemble's vmapped apply) from its variables."""
    variables = dict(variables)
    params = variables.pop("params")
    return cls(params=params, model_state=variables, opt_state=tx.init(params),
               apply_fn=apply_fn or ModuleApply(module), tx=tx)

  def apply(self, params, *args, model_state=None, train: bool = True, **kw):
    """Runs the network; returns (output, new model_state). Batch norm uses batch statistics and
    updates its running averages when `train`, and uses the running averages otherwise."""
    model_state = self.model_state if model_state is None else model_state
    variables = {"params": params, **model_state}
    if train and model_state:
      return self.apply_fn(variables, *args, train=True, mutable=list(model_state), **kw)
    return self.apply_fn(variables, *args, train=train, **kw), model_state

  def __call__(self, *args, **kw):
    """Inference with the current parameters (batch norm in eval mode)."""
    return self.apply(self.params, *args, train=False, **kw)[0]

  def restart_optimizer(self, when) -> "Player":
    """The player with a fresh optimizer state (`tx.init(params)`: Adam's moments and step count at 0)
    where the traced boolean `when` holds, its own state otherwise. A method whose phases each have an
    optimizer of their own, as SeqGAN's released code builds one Adam for MLE pre-training and a second
    for the adversarial updates, calls it on the first step of the new phase (a condition on
    `state.step`, so a run resumed there restarts it too)."""
    fresh = self.tx.init(self.params)
    return self.replace(opt_state=jax.tree.map(lambda f, o: jnp.where(when, f, o), fresh, self.opt_state))

  def update(self, grads, model_state=None) -> "Player":
    """One optimizer step; `model_state` (from this update's training calls) replaces the old one,
    with spectral norm's power iteration committed (one per update, `layers.SpectralNorm`)."""
    updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
    model_state = self.model_state if model_state is None else model_state
    return self.replace(params=optax.apply_updates(self.params, updates), opt_state=opt_state,
                        model_state=commit_power_iteration(model_state))


@flax.struct.dataclass
class TrainState:
  step: jax.Array
  players: dict
  extra: dict
  # The frozen config the state was built from, less the loop's own fields (`frozen`): a method's
  # hyperparameters, read inside train_step.
  config: Any = flax.struct.field(pytree_node=False)

  def __getattr__(self, name):  # state.g, state.d, ... read the players by name
    players = self.__dict__.get("players")
    if players is not None and name in players:
      return players[name]
    raise AttributeError(name)

  def with_players(self, **updated) -> "TrainState":
    return self.replace(players={**self.players, **updated})


def create(config, players: dict, extra: dict | None = None) -> TrainState:
  return TrainState(step=jnp.zeros((), jnp.int32), players=players, extra=extra or {}, config=frozen(config))


def frozen(config) -> ml_collections.FrozenConfigDict:
  """`config` frozen from a private copy, without `base_config.LOOP_FIELDS`. As a static field of the
  state it is part of every jitted program's cache key: runs that differ only in what the loop,
  evaluation and sampling read (how often to log, sample, save or evaluate; how many samples) share
  their traced and compiled programs, and a method's step cannot read those fields. The copy: a
  FrozenConfigDict compares and hashes through the ConfigDict it was made from, so one made from a
  config that is changed afterwards would compare equal to the changed config's (tested)."""
  return ml_collections.FrozenConfigDict(step_config(config))


def step_config(config) -> ml_collections.ConfigDict:
  """A copy of `config` without `base_config.LOOP_FIELDS`: what a method's init and steps read."""
  config = config.copy_and_resolve_references()
  with config.unlocked():
    for field in base_config.LOOP_FIELDS:
      if field in config:
        del config[field]
  return config


_OPTIMIZERS = {}  # (the optimizer block, num_steps) -> its transformation, built once per process


def optimizer(cfg, num_steps: int = 0) -> optax.GradientTransformation:
  """`make_optimizer`'s transformation, the same object for the same settings, so that the players of
  two runs of one config compare equal and share their compiled programs (`ModuleApply`)."""
  cfg = base_config.complete_optimizer(cfg)
  key = (json.dumps(cfg.to_dict(), sort_keys=True, default=str), int(num_steps))
  if key not in _OPTIMIZERS:
    _OPTIMIZERS[key] = make_optimizer(cfg, num_steps)
  return _OPTIMIZERS[key]


def make_optimizer(cfg, num_steps: int = 0) -> optax.GradientTransformation:
  """One player's optax transformation from `config.optim.<player>`; with `lr_decay_start` = s < 1
  (and the run's `num_steps`) the learning rate is constant for the first s * num_steps updates and
  then decays linearly to 0 at num_steps (CycleGAN's schedule: s = 0.5); with `anneal_alpha` = a > 0
  it is mu_0 / (1 + a p)^b, p the fraction of num_steps done and b = `anneal_beta` (Ganin et al. 2016's
  annealing: a = 10, b = 0.75); with `lr_decay_rate` = r > 0 it is lr * r^floor(update / `lr_decay_steps`)
  (TensorFlow's staircase `exponential_decay`); `grad_clip` clips the gradient's global norm, or with
  `grad_clip_by` = "tensor" each tensor's norm on its own; with `weight_decay` = w > 0, w * theta is added to the gradient of
  every weight matrix or kernel (parameters of two or more dimensions; not biases or scales) before
  the optimizer: an L2 penalty w / 2 ||W||^2, coupled with Adam as in BiGAN's released code."""
  cfg = base_config.complete_optimizer(cfg)  # the declared default of a field the block lacks
  lr, start = cfg.lr, cfg.lr_decay_start
  if not 0.0 <= start <= 1.0:
    raise ConfigError(f"optim lr_decay_start must be a fraction of num_steps in [0, 1], got {start}")
  if start < 1.0:
    if num_steps <= 0:
      raise ConfigError("optim lr_decay_start < 1 needs the run's num_steps")
    begin = int(round(start * num_steps))
    lr = optax.linear_schedule(cfg.lr, 0.0, max(num_steps - begin, 1), transition_begin=begin)
  if cfg.lr_decay_rate:  # lr * rate^floor(update / lr_decay_steps): TF's staircase exponential_decay
    if start < 1.0 or cfg.anneal_alpha or cfg.lr_decay_steps <= 0:
      raise ConfigError("optim lr_decay_rate > 0 needs lr_decay_steps > 0 and no other schedule")
    lr = optax.exponential_decay(cfg.lr, cfg.lr_decay_steps, cfg.lr_decay_rate, staircase=True)
  if cfg.anneal_alpha:  # DANN's mu_p = mu_0 / (1 + alpha p)^beta, p = update / num_steps
    if start < 1.0 or num_steps <= 0:
      raise ConfigError("optim anneal_alpha > 0 needs the run's num_steps and no lr_decay_start")
    alpha, beta, mu0 = cfg.anneal_alpha, cfg.anneal_beta, cfg.lr
    lr = lambda count: mu0 / (1.0 + alpha * count / num_steps) ** beta  # noqa: E731

  def adam(c):
    return optax.adam(lr, b1=c.b1, b2=c.b2, eps=c.eps, eps_root=c.eps_root)  # m / (sqrt(v + eps_root) + eps), bias-corrected

  def rmsprop(c):
    return optax.rmsprop(lr, decay=c.decay, eps=c.eps)

  def sgd(c):
    return optax.sgd(lr, momentum=c.momentum or None)

  tx = choose("optimizer", cfg.name, {"adam": adam, "rmsprop": rmsprop, "sgd": sgd})(cfg)
  if cfg.weight_decay < 0:
    raise ConfigError(f"optim weight_decay must be >= 0, got {cfg.weight_decay}")
  if cfg.weight_decay:
    weights = lambda params: jax.tree.map(lambda p: p.ndim >= 2, params)  # noqa: E731
    tx = optax.chain(optax.add_decayed_weights(cfg.weight_decay, mask=weights), tx)
  if cfg.grad_clip:
    by = cfg.grad_clip_by
    clip = choose("optim grad_clip_by", by, {"global": optax.clip_by_global_norm, "tensor": _clip_each_tensor})
    tx = optax.chain(clip(cfg.grad_clip), tx)
  return tx


def _clip_each_tensor(max_norm: float) -> optax.GradientTransformation:
  """Each gradient tensor g -> g * min(1, max_norm / ||g||_2) on its own (TensorFlow's `clip_by_norm`
  per variable, as TF-Slim's `clip_gradient_norm`), where `clip_by_global_norm` scales them together."""
  def update(updates, state, params=None):
    def clip(g):
      norm = jnp.sqrt(jnp.sum(g.astype(jnp.float32)**2))
      return (g * jnp.minimum(1.0, max_norm / jnp.maximum(norm, 1e-30))).astype(g.dtype)
    return jax.tree.map(clip, updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def param_count(tree) -> int:
  return int(sum(x.size for x in jax.tree.leaves(tree)))
