"""Energy-based GAN (Zhao, Mathieu & LeCun 2016, "Energy-based Generative Adversarial Network").

The discriminator is an autoencoder and its energy is the reconstruction error,
    D(x) = ||Dec(Enc(x)) - x||                                   (Eq. 7; here the per-pixel MSE),
trained with the margin loss of Eq. 1-2,
    L_D = D(x) + [m - D(G(z))]^+,        L_G = D(G(z)) + lambda_PT f_PT(S),
where f_PT is the pull-away term of Eq. 8 on the encoder's codes S of the generated batch: the mean
squared cosine similarity over pairs i != j (`ganjax.losses.pull_away_term`), which pushes G's
samples apart in D's representation (EBGAN-PT, lambda_PT = 0.1 in the paper). Config:
`ebgan.margin` (m), `ebgan.pt_weight` (lambda_PT, 0 turns the term off), `ebgan.code_dim`.
Alternating updates as in the GAN: D on a real batch and fresh samples, then G against the new D.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, generator_network, grad_norm, init_player, sample_latent
from ganjax.networks.autoencoder import Autoencoder


def _networks(config, sample_shape):
  m = config.model
  d = Autoencoder(tuple(sample_shape), kind=m.discriminator, code_dim=config.ebgan.code_dim, width=m.width,
                  hidden=tuple(m.d_hidden), batch_norm=m.d_batch_norm, output_activation=m.g_output,
                  conv_impl=m.conv_impl, dtype=compute_dtype(config))
  return generator_network(config, sample_shape), d


def init(config, key, example_batch) -> state_lib.TrainState:
  from ganjax.errors import ConfigError

  if config.ebgan.margin <= 0 or config.ebgan.pt_weight < 0:
    raise ConfigError(f"ebgan.margin must be > 0 and ebgan.pt_weight >= 0, got {config.ebgan.margin}, "
                      f"{config.ebgan.pt_weight}")
  shape = example_batch["image"].shape[1:]
  g, d = _networks(config, shape)
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)))}
  return state_lib.create(config, players)


def energy(d, params, x, model_state=None, train: bool = True):
  """(per-example energies, encoder codes, new model state) of samples x."""
  (recon, code), ms = d.apply(params, x, model_state=model_state, train=train)
  return losses.reconstruction_energy(recon, x), code, ms


def train_step(state, batch, key):
  cfg = state.config
  g, d = state.g, state.d
  real = batch["image"]
  n = real.shape[0]
  fake = jax.lax.stop_gradient(g.apply(g.params, sample_latent(jax.random.fold_in(key, 0), n, cfg.model))[0])

  def d_loss_fn(params):
    real_e, _, ms = energy(d, params, real)
    fake_e, _, ms = energy(d, params, fake, model_state=ms)
    loss = losses.ebgan_d_loss(real_e, fake_e, cfg.ebgan.margin)
    return loss, (ms, {"d/real_energy": jnp.mean(real_e), "d/fake_energy": jnp.mean(fake_e)})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d.params)
  d = d.update(d_grads, d_ms)

  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)

  def g_loss_fn(params):
    x, ms = g.apply(params, z, train=True)
    e, code, _ = energy(d, d.params, x)
    pt = losses.pull_away_term(code)
    return jnp.mean(e) + cfg.ebgan.pt_weight * pt, (ms, pt)

  (g_loss, (g_ms, pt)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g.params)
  g = g.update(g_grads, g_ms)
  metrics = {"d/loss": d_loss, "d/grad_norm": grad_norm(d_grads), **d_aux,
             "g/loss": g_loss, "g/pull_away": pt, "g/grad_norm": grad_norm(g_grads)}
  return state.replace(step=state.step + 1).with_players(g=g, d=d), metrics


def generate(state, key, n: int, z=None):
  z = sample_latent(key, n, state.config.model) if z is None else z
  return state.g(z)
