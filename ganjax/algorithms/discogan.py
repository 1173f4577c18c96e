"""DiscoGAN (Kim et al. 2017, "Learning to Discover Cross-Domain Relations with Generative
Adversarial Networks").

Two generators G_AB: A -> B and G_BA: B -> A (players "g", "f"; encoder-decoders,
`ganjax.networks.autoencoder`: convolutional for images, fully connected for 2-D points) and two
discriminators D_B, D_A ("d_b", "d_a"; `common.discriminator_network`), trained on unpaired data:
two streams (`data.streams.a`, `data.streams.b`). Sec. 3.2's objective:
    x_AB = G_AB(x_A),  x_ABA = G_BA(x_AB)                 (and x_BA, x_BAB the other way)
    L_CONST_A = d(x_ABA, x_A),   L_GAN_B = -E_{x_A}[log D_B(x_AB)]
    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B        (both generators, one loss)
    L_D = L_D_A + L_D_B,  L_D_B = -E_{x_B}[log D_B(x_B)] - E_{x_A}[log(1 - D_B(x_AB))]
with d the mean squared error (`discogan.distance` = "mse", the authors' code; "l1" also) and the
reconstruction terms weighted by `discogan.reconstruction_weight` (1 in the paper; 0 is the
"standard GAN" of its Sec. 4.1 toy experiment, which maps every mode of A onto few modes of B).
The step updates both discriminators on fresh translations, then both generators against them.
Unlike CycleGAN (`ganjax.algorithms.cyclegan`): the GAN's own log loss (`gan.loss`), an MSE
reconstruction with weight 1, no identity loss, no image history, no learning-rate decay.

Hooks: `translate` (A -> B) and `translate_back` (B -> A), scored in both directions; on the 2-D
mixtures (`configs/discogan.py`, ring8 -> grid25) evaluation reports the modes covered by the
mapped points and how many distinct B modes the 8 A modes are sent to (`ganjax.metrics.translation`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, discriminator_network, domain, grad_norm, init_player
from ganjax.errors import ConfigError, choose
from ganjax.networks.autoencoder import Autoencoder

CONFIG_BLOCK = "discogan"
ADVERSARIAL = stabilizers.Adversarial(generators=("g", "f"), discriminators=("d_b", "d_a"))
SHARDED_EXTRA = stabilizers.SHARDED_EXTRA
DISTANCES = {"mse": lambda x, y: jnp.mean((x - y) ** 2), "l1": lambda x, y: jnp.mean(jnp.abs(x - y))}


def check(config):
  choose("discogan.distance", config.discogan.distance, DISTANCES)
  if config.discogan.reconstruction_weight < 0:
    raise ConfigError(f"discogan.reconstruction_weight must be >= 0, got {config.discogan.reconstruction_weight}")
  if sorted(config.data.streams) != ["a", "b"]:
    raise ConfigError("discogan trains on two streams, data.streams.a (domain A) and data.streams.b (domain B); "
                      f"this config has {sorted(config.data.streams) or 'none'}")


def example_batch(config, train):
  return {"a": train["a"].get(np.arange(2)), "b": train["b"].get(np.arange(2))}


def init(config, key, example_batch) -> state_lib.TrainState:
  a, b = domain(example_batch["a"], "a"), domain(example_batch["b"], "b")
  m = config.model
  gen = lambda shape: Autoencoder(tuple(shape), kind=m.generator, code_dim=m.latent_dim, width=m.width,  # noqa: E731
                                  hidden=tuple(m.g_hidden), output_activation=m.g_output, conv_impl=m.conv_impl,
                                  dtype=compute_dtype(config))
  d = discriminator_network(config)
  k = jax.random.split(key, 5)
  players = {"g": init_player(config, "g", gen(b.shape[1:]), k[0], jnp.zeros_like(a)),
             "f": init_player(config, "f", gen(a.shape[1:]), k[1], jnp.zeros_like(b)),
             "d_b": init_player(config, "d_b", d, k[2], jnp.zeros_like(b)),
             "d_a": init_player(config, "d_a", d, k[3], jnp.zeros_like(a))}
  fakes = lambda kk, n: (jnp.zeros((n, *b.shape[1:])), jnp.zeros((n, *a.shape[1:])))  # noqa: E731  (x_AB, x_BA) rows
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, k[4]))


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, f, p = state.g, state.f, state.config.discogan
  a, b = domain(batch["a"], "a"), domain(batch["b"], "b")
  dist = DISTANCES[p.distance]

  # L_D = L_D_A + L_D_B on this step's translations, each D its own update.
  ab, g_ms = g.apply(g.params, a)
  ba, f_ms = f.apply(f.params, b)
  ab, ba = stab.fakes(jax.lax.stop_gradient((ab[0], ba[0])), jax.random.fold_in(key, 3))

  def d_objective(d, real, fake, name, salt, params):
    real, fake = stab.d_input(real, jax.random.fold_in(key, salt)), stab.d_input(fake, jax.random.fold_in(key, salt + 1))
    real_out, ms = d.apply(params, real)
    fake_out, ms = d.apply(params, fake, model_state=ms)
    loss, aux = stab.d_loss(real_out, fake_out)
    critic = lambda v: d.apply(params, v, model_state=ms)[0]  # noqa: E731
    loss, reg = stab.d_regularize(loss, name, params, critic, real, fake, jax.random.fold_in(key, salt + 2))
    return loss, (ms, {f"{name}/{k.split('/')[1]}": v for k, v in {**aux, **reg}.items()})

  metrics, ds = {}, {}
  for name, real, fake, salt in (("d_b", b, ab, 10), ("d_a", a, ba, 20)):
    d = state.players[name]
    (loss, (ms, aux)), grads = jax.value_and_grad(functools.partial(d_objective, d, real, fake, name, salt),
                                                  has_aux=True)(d.params)
    ds[name] = stab.update(name, d, grads, ms)
    metrics.update({f"{name}/loss": loss, **aux, f"{name}/grad_norm": grad_norm(grads)})

  # L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B against the updated discriminators.
  def g_objective(params):
    (ab, _), gms = g.apply(params["g"], a, model_state=g_ms)
    (ba, _), fms = f.apply(params["f"], b, model_state=f_ms)
    (aba, _), fms = f.apply(params["f"], ab, model_state=fms)
    (bab, _), gms = g.apply(params["g"], ba, model_state=gms)
    adversarial = 0.0
    for name, fake, real, salt in (("d_b", ab, b, 1), ("d_a", ba, a, 2)):
      d = ds[name]
      fake = stab.d_input(fake, jax.random.fold_in(key, salt))
      adversarial += stab.g_loss(lambda: d.apply(d.params, fake)[0],
                                 lambda: (stabilizers.features(d, d.params, real)[1], stabilizers.features(d, d.params, fake)[1]))
    const = dist(aba, a) + dist(bab, b)
    loss = adversarial + p.reconstruction_weight * const
    loss = stab.g_regularize(stab.g_regularize(loss, "g", params["g"]), "f", params["f"])
    return loss, ((gms, fms), {"g/adversarial": adversarial, "g/reconstruction": const})

  (g_loss, ((gms, fms), g_aux)), grads = jax.value_and_grad(g_objective, has_aux=True)({"g": g.params, "f": f.params})
  players = {"g": stab.update("g", g, grads["g"], gms), "f": stab.update("f", f, grads["f"], fms), **ds}
  metrics.update({"g/loss": g_loss, **g_aux, "g/grad_norm": grad_norm(grads["g"]), "f/grad_norm": grad_norm(grads["f"])})
  return stab.finish(state, players, metrics)


def translate(state, x, key):
  """x_AB = G_AB(x_A) (batch norm in inference mode)."""
  return stabilizers.sampler(state, "g")(x)[0]


def translate_back(state, y, key):
  """x_BA = G_BA(x_B)."""
  return stabilizers.sampler(state, "f")(y)[0]
