"""Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets").

Both players see the label y (Eq. 2):
    min_G max_D  E_{x,y}[log D(x | y)] + E_{z,y}[log(1 - D(G(z | y) | y))],
G on [z, one_hot(y)] and D on the input with the one-hot label appended (as constant feature maps
for images, `ganjax.networks.layers.LabelConditioned`). Real pairs come from the data; generated
pairs use labels drawn uniformly. The objective is `gan.loss` (non-saturating G by default), and
every stabilizer of `ganjax.stabilizers` composes: replay memory keeps (image, label) pairs, a
gradient penalty interpolates the images and scores them at the real labels. `--mode=sample` also writes `classes.png`: one row per class, the
same noise down each column.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import data, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import discriminator_network, generator_network, grad_norm, init_player, one_hot_latent, sample_latent
from ganjax.algorithms.method import Method, Sampler
from ganjax.networks.layers import LabelConditioned

ADVERSARIAL = stabilizers.Adversarial()


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
  fakes = lambda kk, n: _fake(players["g"], players["g"].params, kk, n, config, train=False)[:2]  # noqa: E731
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 2)))


def _fake(g, params, key, n, cfg, train=True):
  """(G(z | y), y, new model state) for n uniformly drawn labels y."""
  y = jax.random.randint(jax.random.fold_in(key, 1), (n,), 0, cfg.model.num_classes)
  z = sample_latent(jax.random.fold_in(key, 0), n, cfg.model)
  x, ms = g.apply(params, one_hot_latent(z, y, cfg.model.num_classes), train=train)
  return x, y, ms


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  real, real_y = batch["image"], batch["label"]
  n = real.shape[0]
  fake, fake_y, _ = _fake(g, g.params, jax.random.fold_in(key, 0), n, cfg)
  fake, fake_y = stab.fakes((jax.lax.stop_gradient(fake), fake_y), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_in, fake_in = stab.d_input(real, jax.random.fold_in(key, 2)), stab.d_input(fake, jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in, real_y, train=True)
    fake_out, ms = d.apply(params, fake_in, fake_y, model_state=ms, train=True)
    loss, aux = stab.d_loss(real_out, fake_out)
    critic = lambda x: d.apply(params, x, real_y, model_state=ms, train=True)[0]  # noqa: E731  at the real labels
    loss, reg = stab.d_regularize(loss, "d", params, critic, real_in, fake_in, jax.random.fold_in(key, 5))
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)

  def g_objective(params):
    x, y, ms = _fake(g, params, jax.random.fold_in(key, 1), n, cfg)
    x = stab.d_input(x, jax.random.fold_in(key, 6))
    loss = stab.g_loss(lambda: d.apply(d.params, x, y, train=True)[0],
                       lambda: (stabilizers.features(d, d.params, real, real_y)[1],
                                stabilizers.features(d, d.params, x, y)[1]))
    return stab.g_regularize(loss, "g", params), ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def generate_labeled(state, key, n: int):
  """(n samples, the labels they were generated for), labels uniform."""
  g = stabilizers.sampler(state)
  x, y, _ = _fake(g, g.params, key, n, state.config, train=False)
  return x, y


def generate(state, key, n: int, z=None):
  """n samples for the classes 0, 1, ..., K-1, 0, ... in turn (given latents `z` too)."""
  cfg = state.config
  z = sample_latent(key, n, cfg.model) if z is None else z
  y = jnp.arange(n) % cfg.model.num_classes
  return stabilizers.sampler(state)(one_hot_latent(z, y, cfg.model.num_classes))


def class_rows(state, key, columns: int = 10):
  """One row per class, the same `columns` noise vectors down every column: (K * columns, ...)."""
  cfg = state.config
  k = cfg.model.num_classes
  z = jnp.tile(sample_latent(key, columns, cfg.model), (k, 1))
  y = jnp.repeat(jnp.arange(k), columns)
  return stabilizers.sampler(state)(one_hot_latent(z, y, k))


def sample_grids(state, key, test):
  return {"classes": (class_rows(state, key), 10)}


METHOD = Method(init=init, train_step=train_step,
                sampler=Sampler(generate, generate_labeled=generate_labeled, grids=sample_grids),
                adversarial=ADVERSARIAL, example_batch=example_batch, config_block=None)
