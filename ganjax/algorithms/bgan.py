"""Boundary-seeking GAN (Hjelm, Jacob, Che, Trischler, Cho & Bengio 2018, "Boundary-Seeking
Generative Adversarial Networks").

With the optimal discriminator D*, p_data(x) = p_g(x) D*(x) / (1 - D*(x)) (Eq. 3), so
w(x) = D(x) / (1 - D(x)) = exp(logit D(x)) are importance weights from G's samples towards the data.

- Continuous data (`configs/bgan.py`): G minimises 1/2 (log D(G(z)) - log(1 - D(G(z))))^2 (Eq. 8),
  pushing its samples to the decision boundary D = 1/2. That is only a generator loss, so it is the
  GAN step of `ganjax.algorithms.gan` with `loss="boundary_seeking"` (`ganjax.losses`).
- Discrete data (this module, `configs/bgan.py:discrete`): G outputs Bernoulli logits for every pixel
  of a binarised image; for each z it draws M samples x_m ~ g(x | z) and minimises the
  policy-gradient objective of Eq. 10 / Algorithm 1,
      L_G = - E_z sum_m w~_m log g(x_m | z),   w~_m = w(x_m) / sum_m' w(x_m')   (the normalised
  importance weights over the M samples of each z, held constant), while D is the usual GAN
  discriminator between (dynamically binarised) data and all the generated samples. Config:
  `bgan.num_samples` (M).
  Instance noise, replay memory (of D's binary samples), the generator EMA, historical averaging,
  weight clipping, gradient penalties and the D layers of `ganjax.stabilizers` compose with the
  step; the losses are the paper's, and G's samples are discrete, so `gan.loss` and feature
  matching do not apply.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import discriminator_network, generator_network, grad_norm, init_player, mean_prob, sample_latent, to_unit
from ganjax.algorithms.method import Method, Sampler
from ganjax.errors import ConfigError

ADVERSARIAL = stabilizers.Adversarial(objective=False, features=False, why={
    "objective": "its generator loss is the importance-weighted policy gradient of Eq. 10",
    "features": "G's samples are discrete: no gradient reaches G through them"})


def _networks(config, sample_shape):
  return generator_network(config, sample_shape, output_activation="none"), discriminator_network(config)  # G: Bernoulli logits


def init(config, key, example_batch) -> state_lib.TrainState:
  if config.bgan.num_samples < 2:
    raise ConfigError(f"bgan.num_samples must be >= 2 (the weights are normalised over them), got {config.bgan.num_samples}")
  shape = example_batch["image"].shape[1:]
  g, d = _networks(config, shape)
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)))}
  fakes = lambda k, n: draw(players["g"](sample_latent(k, n, config.model)), jax.random.fold_in(k, 1), 1)[0] * 2.0 - 1.0  # noqa: E731
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 2)))


def binarize(images, key):
  """Images in [-1, 1] -> Bernoulli(pixel intensity) samples in {-1, 1} (dynamic binarisation)."""
  return jax.random.bernoulli(key, to_unit(images)).astype(images.dtype) * 2.0 - 1.0


def draw(logits, key, m: int):
  """M Bernoulli samples per row of pixel logits: (M, B, ...) in {0, 1}."""
  return jax.random.bernoulli(key, jax.nn.sigmoid(logits), (m, *logits.shape)).astype(logits.dtype)


def log_prob(logits, bits):
  """log g(x | z) summed over pixels: (..., B)."""
  return -jnp.sum(jax.nn.softplus(jnp.where(bits > 0, -logits, logits)).reshape((*bits.shape[:-3], -1)), axis=-1)


def importance_weights(d_logits):
  """(M, B) discriminator logits of the M samples of each z -> w~ = w / sum_m w with
  w = D / (1 - D) = exp(logit): a softmax over the M axis."""
  return jax.nn.softmax(d_logits, axis=0)


def generator_loss(logits, bits, d_logits):
  """-E_z sum_m w~_m log g(x_m | z) with the weights held constant (Eq. 10)."""
  w = jax.lax.stop_gradient(importance_weights(d_logits))
  return -jnp.mean(jnp.sum(w * log_prob(logits, bits), axis=0))


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  m = cfg.bgan.num_samples
  real = binarize(batch["image"], jax.random.fold_in(key, 0))
  n = real.shape[0]
  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)
  logits, g_ms = g.apply(g.params, z, train=True)
  bits = jax.lax.stop_gradient(draw(logits, jax.random.fold_in(key, 2), m))  # (M, B, H, W, C)
  fake = (bits * 2.0 - 1.0).reshape((m * n, *real.shape[1:]))
  d_fake = stab.fakes(fake, jax.random.fold_in(key, 4))

  def d_loss_fn(params):
    real_in, fake_in = stab.d_input(real, jax.random.fold_in(key, 5)), stab.d_input(d_fake, jax.random.fold_in(key, 6))
    real_out, ms = d.apply(params, real_in, train=True)
    fake_out, ms = d.apply(params, fake_in, model_state=ms, train=True)
    critic = lambda x: d.apply(params, x, model_state=ms, train=True)[0]  # noqa: E731
    loss, reg = stab.d_regularize(losses.d_loss_bce(real_out, fake_out), "d", params, critic, real_in, fake_in[:n],
                                  jax.random.fold_in(key, 7))
    return loss, (ms, real_out, fake_out, reg)

  (d_loss, (d_ms, real_out, fake_out, d_reg)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)
  d_logits = d.apply(d.params, fake, train=True)[0].reshape((m, n))  # the updated D weighs the samples

  def g_loss_fn(params):
    logits, ms = g.apply(params, z, train=True)
    return stab.g_regularize(generator_loss(logits, bits, d_logits), "g", params), ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  w = importance_weights(d_logits)
  metrics = {"d/loss": d_loss, "d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out), **d_reg,
             "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads),
             # effective sample size of the normalised weights, in [1, M]: M when D cannot tell the samples apart
             "g/weights_ess": jnp.mean(1.0 / jnp.sum(w**2, axis=0))}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def generate(state, key, n: int, z=None):
  """Binary samples in {-1, 1}: one Bernoulli draw of every pixel."""
  k1, k2 = jax.random.split(key) if key is not None else (None, jax.random.key(0))
  z = sample_latent(k1, n, state.config.model) if z is None else z
  return draw(stabilizers.sampler(state)(z), k2, 1)[0] * 2.0 - 1.0


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate), adversarial=ADVERSARIAL)
