"""Autoencoder and denoising autoencoder: the data as its own label, x ~ g(f(x)).

The autoencoder (the seeds' stacked autoencoder, trained end to end) minimises the reconstruction
loss of g(f(x)) against x; the denoising autoencoder (Vincent et al. 2008) encodes a corrupted
x~ ~ C(x~ | x) and reconstructs the clean x. Corruptions (`ae.noise`, level `ae.noise_level` = p or
sigma), in [0, 1] pixel space:
    gaussian      x + sigma * N(0, 1)
    masking       each pixel set to 0 with probability p
    salt_pepper   each pixel set to 0 or 1 (equally likely) with probability p
    uniform_mix   0.5 x + 0.5 U(0, 1)            (the seeds' corruption; the level is unused)
The loss (`ae.loss`) is the Bernoulli cross-entropy of the decoder's logits against the [0, 1]
pixels ("bce", summed over pixels) or the squared error in [-1, 1] ("mse", mean over pixels). The
networks are `ganjax.networks.autoencoder.Autoencoder` with a `model.latent_dim` code.

Not a generative model by itself: `generate` decodes codes drawn from a diagonal Gaussian fitted to
the codes of the training batches (running moments kept in the state), for the sample grids and
the evaluation suite. Its sampler is no density decoder: training puts no prior on the codes, so the
N(0, I) codes AIS (`ganjax.metrics.ais`) integrates over are not what the decoder was trained to
decode, and a "log p(x)" of them would be the likelihood of no model; AIS refuses the autoencoder.
`--mode=sample` also writes `reconstructions.png`: rows of corrupted input, reconstruction, clean input.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, grad_norm, to_unit
from ganjax.algorithms.method import Encoder, Method, Sampler
from ganjax.errors import choose
from ganjax.networks.autoencoder import Autoencoder


NOISES = ("none", "gaussian", "masking", "salt_pepper", "uniform_mix")


def corrupt(x01, noise: str, level: float, key):
  """A corrupted copy of [0, 1] images (see the module docstring)."""
  kind = choose("ae.noise", noise, {n: n for n in NOISES})
  if kind == "none":
    return x01
  if kind == "gaussian":
    return x01 + level * jax.random.normal(key, x01.shape, x01.dtype)
  if kind == "masking":
    return jnp.where(jax.random.bernoulli(key, level, x01.shape), 0.0, x01)
  if kind == "salt_pepper":
    k1, k2 = jax.random.split(key)
    hit = jax.random.bernoulli(k1, level, x01.shape)
    return jnp.where(hit, jax.random.bernoulli(k2, 0.5, x01.shape).astype(x01.dtype), x01)
  return 0.5 * x01 + 0.5 * jax.random.uniform(key, x01.shape, x01.dtype)


def _network(config, shape):
  m = config.model
  return Autoencoder(tuple(shape), kind=m.encoder, code_dim=m.latent_dim, width=m.width, hidden=tuple(m.e_hidden),
                     batch_norm=False, output_activation="none" if config.ae.loss == "bce" else "tanh",
                     conv_impl=m.conv_impl, dtype=compute_dtype(config))


def init(config, key, example_batch) -> state_lib.TrainState:
  choose("ae.loss", config.ae.loss, {"bce": 0, "mse": 1})
  choose("ae.noise", config.ae.noise, {n: n for n in NOISES})
  shape = example_batch["image"].shape[1:]
  net = _network(config, shape)
  player = state_lib.Player.create(net, state_lib.optimizer(config.optim.ae, config.num_steps), net.init(key, jnp.zeros((2, *shape)), train=False))
  d = config.model.latent_dim
  return state_lib.create(config, {"ae": player}, {"code_mean": jnp.zeros(d), "code_var": jnp.ones(d)})


def reconstruction_loss(cfg, out, x):
  """Per-example loss of the decoder output `out` against clean images x in [-1, 1]."""
  if cfg.ae.loss == "bce":
    ce = optax.sigmoid_binary_cross_entropy(out, to_unit(x))
    return jnp.sum(ce.reshape((x.shape[0], -1)), axis=-1)
  return jnp.mean(((out - x)**2).reshape((x.shape[0], -1)), axis=-1)


def train_step(state, batch, key):
  cfg = state.config
  ae = state.ae
  x = batch["image"]
  noisy = corrupt(to_unit(x), cfg.ae.noise, cfg.ae.noise_level, key) * 2.0 - 1.0

  def loss_fn(params):
    (out, code), ms = ae.apply(params, noisy)
    return jnp.mean(reconstruction_loss(cfg, out, x)), (ms, code)

  (loss, (ms, code)), grads = jax.value_and_grad(loss_fn, has_aux=True)(ae.params)
  ae = ae.update(grads, ms)
  rate = 0.01  # running moments of the codes, for `generate`
  extra = {"code_mean": (1 - rate) * state.extra["code_mean"] + rate * jnp.mean(code, 0),
           "code_var": (1 - rate) * state.extra["code_var"] + rate * jnp.var(code, 0)}
  metrics = {"ae/loss": loss, "ae/grad_norm": grad_norm(grads)}
  return state.replace(step=state.step + 1, extra=extra).with_players(ae=ae), metrics


def _decode(state, out):
  return jax.nn.sigmoid(out) * 2.0 - 1.0 if state.config.ae.loss == "bce" else out


def encode(state, images):
  return state.ae(images)[1]


def reconstruct(state, images):
  return _decode(state, state.ae(images)[0])


def generate(state, key, n: int, z=None):
  """Decodes codes from the Gaussian fitted to the training codes (or given codes `z`)."""
  if z is None:
    d = state.config.model.latent_dim
    z = state.extra["code_mean"] + jnp.sqrt(state.extra["code_var"]) * jax.random.normal(key, (n, d))
  return _decode(state, state.ae(z, decode_only=True))


def evaluate(state, images, key) -> dict:
  """Per-example reconstruction loss of held-out images from their (corrupted, for a DAE) input."""
  cfg = state.config
  noisy = corrupt(to_unit(images), cfg.ae.noise, cfg.ae.noise_level, key) * 2.0 - 1.0
  return {f"reconstruction_{cfg.ae.loss}": reconstruction_loss(cfg, state.ae(noisy)[0], images)}


def sample_grids(state, key, test):
  cfg = state.config
  x = jnp.asarray(test.get(np.arange(min(10, test.size)))["image"])
  noisy = corrupt(to_unit(x), cfg.ae.noise, cfg.ae.noise_level, key) * 2.0 - 1.0
  rec = _decode(state, state.ae(noisy)[0])
  return {"reconstructions": (jnp.concatenate([jnp.clip(noisy, -1, 1), rec, x]), len(x))}


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, grids=sample_grids),
                encoder=Encoder(encode, reconstruct), evaluate=evaluate)
