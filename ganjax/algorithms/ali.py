"""ALI / BiGAN (Dumoulin et al. 2016, "Adversarially Learned Inference"; Donahue, Krähenbühl &
Darrell 2016, "Adversarial Feature Learning").

An encoder E maps x to z, a generator G maps z to x, and D tells the joint pairs apart:
    min_{G, E} max_D  E_x[log D(x, E(x))] + E_z[log(1 - D(G(z), z))]          (ALI Eq. 1-2)
The encoder is Gaussian, E(x) = mu(x) + sigma(x) * eps, reparameterised (ALI, Sec. 2.2;
`ali.stochastic_encoder=True`), or deterministic, E(x) = mu(x) (BiGAN). G and E take one joint step
on the non-saturating form of their side of the game (each with the labels swapped:
-log D(G(z), z) - log(1 - D(x, E(x)))), after D's step. D sees (x, z) pairs
(`ganjax.networks.layers.JointDiscriminator`). The stabilizers of `ganjax.stabilizers` compose
with the step: instance noise on the images of both pairs, replay memory of (G(z), z) pairs, the
generator EMA (G's), historical averaging of all three players, weight clipping, and spectral norm
or minibatch discrimination in D. `gan.loss`, feature matching and gradient penalties do not apply
(the loss is the paper's; D scores pairs).

Evaluation adds `test/reconstruction_mse` (||G(E(x)) - x||^2 per pixel on held-out images) and, since the
module has `encode`, the linear-probe accuracies on E(x) and on raw pixels (`ganjax.metrics`).
`--mode=sample` also writes `reconstructions.png`: held-out images (odd rows) above G(E(x)) (even rows).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import losses, networks, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import (compute_dtype, discriminator_network, generator_network, grad_norm, init_player,
                                      mean_prob, sample_latent)
from ganjax.algorithms.method import Encoder, Method, Sampler
from ganjax.networks.layers import JointDiscriminator

ADVERSARIAL = stabilizers.Adversarial(generators=("g", "e"), objective=False, features=False, penalty=False, why={
    "objective": "its loss is ALI's own (Eq. 1-2, G and E on the swapped labels)",
    "features": "D scores (x, z) pairs, and G and E train jointly on them",
    "penalty": "D scores (x, z) pairs; a penalty on pairs is not implemented"})


def _networks(config, shape):
  m = config.model
  enc_kw = {"width": m.width, "conv_impl": m.conv_impl} if m.encoder == "dcgan" else {"hidden": tuple(m.e_hidden)}
  e = networks.encoder(m.encoder, latent_dim=m.latent_dim, dtype=compute_dtype(config), **enc_kw)
  d = JointDiscriminator(discriminator_network(config, num_outputs=config.ali.joint_hidden),
                         hidden=config.ali.joint_hidden, spectral_norm=config.gan.spectral_norm, dtype=compute_dtype(config))
  return generator_network(config, shape), e, d


def init(config, key, example_batch) -> state_lib.TrainState:
  shape = example_batch["image"].shape[1:]
  g, e, d = _networks(config, shape)
  kg, ke, kd = jax.random.split(key, 3)
  x, z = jnp.zeros((2, *shape)), jnp.zeros((2, config.model.latent_dim))
  players = {"g": init_player(config, "g", g, kg, z), "e": init_player(config, "e", e, ke, x),
             "d": init_player(config, "d", d, kd, x, z)}

  def fakes(k, n):
    zz = sample_latent(k, n, config.model)
    return players["g"](zz), zz

  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 3)))


def _encode(e, params, x, key, stochastic: bool, train=True):
  (mean, logvar), ms = e.apply(params, x, train=train)
  if stochastic:
    mean = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
  return mean, ms


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, e, d = state.g, state.e, state.d
  x = batch["image"]
  n = x.shape[0]
  stochastic = cfg.ali.stochastic_encoder
  z = sample_latent(jax.random.fold_in(key, 0), n, cfg.model)

  def pairs(g_params, e_params):
    x_fake, g_ms = g.apply(g_params, z)
    z_real, e_ms = _encode(e, e_params, x, jax.random.fold_in(key, 1), stochastic)
    return (x, z_real), (x_fake, z), g_ms, e_ms

  real_pair, fake_pair, _, _ = pairs(g.params, e.params)
  (rx, rz), (fx, fz) = jax.lax.stop_gradient((real_pair, fake_pair))
  fx, fz = stab.fakes((fx, fz), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_out, ms = d.apply(params, stab.d_input(rx, jax.random.fold_in(key, 2)), rz, train=True)
    fake_out, ms = d.apply(params, stab.d_input(fx, jax.random.fold_in(key, 3)), fz, model_state=ms, train=True)
    loss, reg = stab.d_regularize(losses.d_loss_bce(real_out, fake_out), "d", params)
    return loss, (ms, real_out, fake_out, reg)

  (d_loss, (d_ms, real_out, fake_out, d_reg)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)

  def ge_objective(params):  # G and E against the updated D, labels swapped (non-saturating)
    (rx, rz), (fx, fz), g_ms, e_ms = pairs(params["g"], params["e"])
    real_out = d.apply(d.params, stab.d_input(rx, jax.random.fold_in(key, 5)), rz, train=True)[0]
    fake_out = d.apply(d.params, stab.d_input(fx, jax.random.fold_in(key, 6)), fz, train=True)[0]
    loss = jnp.mean(jax.nn.softplus(real_out)) + jnp.mean(jax.nn.softplus(-fake_out))
    return stab.g_regularize(stab.g_regularize(loss, "g", params["g"]), "e", params["e"]), (g_ms, e_ms)

  (ge_loss, (g_ms, e_ms)), grads = jax.value_and_grad(ge_objective, has_aux=True)({"g": g.params, "e": e.params})
  g, e = stab.update("g", g, grads["g"], g_ms), stab.update("e", e, grads["e"], e_ms)
  metrics = {"d/loss": d_loss, "d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out), **d_reg,
             "d/grad_norm": grad_norm(d_grads), "g/loss": ge_loss, "g/grad_norm": grad_norm(grads["g"]),
             "e/grad_norm": grad_norm(grads["e"])}
  return stab.finish(state, {"g": g, "e": e, "d": d}, metrics)


def generate(state, key, n: int, z=None):
  z = sample_latent(key, n, state.config.model) if z is None else z
  return stabilizers.sampler(state)(z)


def encode(state, images):
  """E's mean code of images in [-1, 1]."""
  return state.e(images)[0]


def reconstruct(state, images):
  return stabilizers.sampler(state)(encode(state, images))


def evaluate(state, images, key) -> dict:
  rec = reconstruct(state, images)
  return {"reconstruction_mse": jnp.mean(((rec - images)**2).reshape((images.shape[0], -1)), axis=-1)}


def sample_grids(state, key, test):
  x = jnp.asarray(test.get(np.arange(min(40, test.size)))["image"])
  rec = reconstruct(state, x)
  rows = [t for i in range(0, len(x), 10) for t in (x[i:i + 10], rec[i:i + 10])]
  return {"reconstructions": (jnp.concatenate(rows), 10)}


METHOD = Method(init=init, train_step=train_step,
                sampler=Sampler(generate, grids=sample_grids, density_decoder=True),
                encoder=Encoder(encode, reconstruct), evaluate=evaluate, adversarial=ADVERSARIAL)
