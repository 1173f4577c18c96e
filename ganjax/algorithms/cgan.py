"""Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets").

Both players see the label y (Eq. 2):
    min_G max_D  E_{x,y}[log D(x | y)] + E_{z,y}[log(1 - D(G(z | y) | y))],
G on [z, one_hot(y)] and D on the input with the one-hot label appended (as constant feature maps
for images, `ganjax.networks.layers.LabelConditioned`). Real pairs come from the data; generated
pairs use labels drawn uniformly. The generator loss is `config.loss` (non-saturating by default)
from `ganjax.losses.GAN_LOSSES`. `--mode=sample` also writes `classes.png`: one row per class, the
same noise down each column.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import data, losses
from ganjax import state as state_lib
from ganjax.algorithms.common import (discriminator_network, generator_network, grad_norm, init_player, mean_prob,
                                      one_hot_latent, sample_latent)
from ganjax.networks.layers import LabelConditioned


def example_batch(config, train):
  data.require_labels(train, "the conditional GAN")
  return train.get(np.arange(2))


def init(config, key, example_batch) -> state_lib.TrainState:
  shape = example_batch["image"].shape[1:]
  k = config.model.num_classes
  g = generator_network(config, shape)
  d = LabelConditioned(discriminator_network(config), k)
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim + k))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)), jnp.zeros((2,), jnp.int32))}
  return state_lib.create(config, players)


def _fake(g, params, key, n, cfg, train=True):
  """(G(z | y), y, new model state) for n uniformly drawn labels y."""
  y = jax.random.randint(jax.random.fold_in(key, 1), (n,), 0, cfg.model.num_classes)
  z = sample_latent(jax.random.fold_in(key, 0), n, cfg.model)
  x, ms = g.apply(params, one_hot_latent(z, y, cfg.model.num_classes), train=train)
  return x, y, ms


def train_step(state, batch, key):
  cfg = state.config
  d_loss_fn, g_loss_fn = losses.gan_loss(cfg.loss)
  g, d = state.g, state.d
  real, real_y = batch["image"], batch["label"]
  n = real.shape[0]
  fake, fake_y, _ = _fake(g, g.params, jax.random.fold_in(key, 0), n, cfg)
  fake = jax.lax.stop_gradient(fake)

  def d_objective(params):
    real_out, ms = d.apply(params, real, real_y, train=True)
    fake_out, ms = d.apply(params, fake, fake_y, model_state=ms, train=True)
    return d_loss_fn(real_out, fake_out, cfg.real_label), (ms, real_out, fake_out)

  (d_loss, (d_ms, real_out, fake_out)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = d.update(d_grads, d_ms)

  def g_objective(params):
    x, y, ms = _fake(g, params, jax.random.fold_in(key, 1), n, cfg)
    return g_loss_fn(d.apply(d.params, x, y, train=True)[0]), ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = g.update(g_grads, g_ms)
  metrics = {"d/loss": d_loss, "d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out),
             "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads)}
  return state.replace(step=state.step + 1).with_players(g=g, d=d), metrics


def generate_labeled(state, key, n: int):
  """(n samples, the labels they were generated for), labels uniform."""
  x, y, _ = _fake(state.g, state.g.params, key, n, state.config, train=False)
  return x, y


def generate(state, key, n: int, z=None):
  """n samples for the classes 0, 1, ..., K-1, 0, ... in turn (given latents `z` too)."""
  cfg = state.config
  z = sample_latent(key, n, cfg.model) if z is None else z
  y = jnp.arange(n) % cfg.model.num_classes
  return state.g(one_hot_latent(z, y, cfg.model.num_classes))


def class_rows(state, key, columns: int = 10):
  """One row per class, the same `columns` noise vectors down every column: (K * columns, ...)."""
  cfg = state.config
  k = cfg.model.num_classes
  z = jnp.tile(sample_latent(key, columns, cfg.model), (k, 1))
  y = jnp.repeat(jnp.arange(k), columns)
  return state.g(one_hot_latent(z, y, k))


def sample_grids(state, key, test):
  return {"classes": (class_rows(state, key), 10)}
