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
Instance noise, replay memory, the generator EMA, historical averaging and weight clipping of
`ganjax.stabilizers` compose with the step; the objective is the paper's margin loss, and D is an
autoencoder, so `gan.loss`, feature matching, penalties and the D layers do not apply.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, generator_network, grad_norm, init_player, sample_latent
from ganjax.algorithms.method import Method, Sampler
from ganjax.errors import ConfigError
from ganjax.networks.autoencoder import Autoencoder

_ENERGY = "D is an autoencoder whose output is an energy (Eq. 1-2, 7)"
ADVERSARIAL = stabilizers.Adversarial(objective=False, features=False, penalty=False, d_layers=False, why={
    "objective": f"its loss is EBGAN's margin loss; {_ENERGY}", "features": _ENERGY, "penalty": _ENERGY,
    "d_layers": "its discriminator is the autoencoder of `ganjax.networks.autoencoder`"})


def _networks(config, sample_shape):
  m = config.model
  d = Autoencoder(tuple(sample_shape), kind=m.discriminator, code_dim=config.ebgan.code_dim, width=m.width,
                  hidden=tuple(m.d_hidden), batch_norm=m.d_batch_norm, output_activation=m.g_output,
                  conv_impl=m.conv_impl, dtype=compute_dtype(config))
  return generator_network(config, sample_shape), d


def init(config, key, example_batch) -> state_lib.TrainState:
  if config.ebgan.margin <= 0 or config.ebgan.pt_weight < 0:
    raise ConfigError(f"ebgan.margin must be > 0 and ebgan.pt_weight >= 0, got {config.ebgan.margin}, "
                      f"{config.ebgan.pt_weight}")
  shape = example_batch["image"].shape[1:]
  g, d = _networks(config, shape)
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)))}
  fakes = lambda k, n: players["g"](sample_latent(k, n, config.model))  # noqa: E731
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 2)))


def energy(d, params, x, model_state=None, train: bool = True):
  """(per-example energies, encoder codes, new model state) of samples x."""
  (recon, code), ms = d.apply(params, x, model_state=model_state, train=train)
  return losses.reconstruction_energy(recon, x), code, ms


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  real = batch["image"]
  n = real.shape[0]
  fake = jax.lax.stop_gradient(g.apply(g.params, sample_latent(jax.random.fold_in(key, 0), n, cfg.model))[0])
  fake = stab.fakes(fake, jax.random.fold_in(key, 4))

  def d_loss_fn(params):
    real_e, _, ms = energy(d, params, stab.d_input(real, jax.random.fold_in(key, 2)))
    fake_e, _, ms = energy(d, params, stab.d_input(fake, jax.random.fold_in(key, 3)), model_state=ms)
    loss, reg = stab.d_regularize(losses.ebgan_d_loss(real_e, fake_e, cfg.ebgan.margin), "d", params)
    return loss, (ms, {"d/real_energy": jnp.mean(real_e), "d/fake_energy": jnp.mean(fake_e), **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)

  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)

  def g_loss_fn(params):
    x, ms = g.apply(params, z, train=True)
    e, code, _ = energy(d, d.params, stab.d_input(x, jax.random.fold_in(key, 5)))
    pt = losses.pull_away_term(code)
    return stab.g_regularize(jnp.mean(e) + cfg.ebgan.pt_weight * pt, "g", params), (ms, pt)

  (g_loss, (g_ms, pt)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, "d/grad_norm": grad_norm(d_grads), **d_aux,
             "g/loss": g_loss, "g/pull_away": pt, "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def generate(state, key, n: int, z=None):
  z = sample_latent(key, n, state.config.model) if z is None else z
  return stabilizers.sampler(state)(z)


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, density_decoder=True),
                adversarial=ADVERSARIAL)
