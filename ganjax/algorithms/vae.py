"""Variational autoencoder (Kingma & Welling 2013, "Auto-Encoding Variational Bayes").

Maximises the evidence lower bound of Eq. 10 with the reparameterisation z = mu + sigma * eps
(Sec. 2.4) and the analytic Gaussian KL of Appendix B:
    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || N(0, I)),
one Monte Carlo sample per example, one optimizer over encoder and decoder. The decoder is
Bernoulli over pixels (`vae.likelihood="bernoulli"`, images in [0, 1], dynamically binarised when
`vae.binarize`) or Gaussian with a learned global sigma (`"gaussian"`). All figures are in nats per
example; `elbo` is the bound (higher is better), `loss` its negation.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax import losses, networks
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, grad_norm, sample_latent, to_unit


class VAE(nn.Module):
  encoder: nn.Module
  decoder: nn.Module
  gaussian: bool = False

  def setup(self):
    if self.gaussian:
      self.log_sigma = self.param("log_sigma", nn.initializers.zeros, ())

  def __call__(self, x, key, train: bool = True):
    mean, logvar = self.encode(x, train)
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
    return self.decode(z, train), mean, logvar

  def encode(self, x, train: bool = False):
    return self.encoder(x, train=train)

  def decode(self, z, train: bool = False):
    out = self.decoder(z, train=train)
    return (out, self.log_sigma) if self.gaussian else (out, None)


def _model(config, sample_shape):
  m = config.model
  enc_kw = {"width": m.width} if m.encoder == "dcgan" else {"hidden": tuple(m.e_hidden)}
  dec_kw = {"width": m.width, "conv_impl": m.conv_impl} if m.generator == "dcgan" else {"hidden": tuple(m.g_hidden)}
  gaussian = config.vae.likelihood == "gaussian"
  dtype = compute_dtype(config)
  return VAE(networks.encoder(m.encoder, latent_dim=m.latent_dim, dtype=dtype, **enc_kw),
             networks.generator(m.generator, out_shape=tuple(sample_shape), output_activation="none",
                                dtype=dtype, **dec_kw), gaussian)


def init(config, key, example_batch) -> state_lib.TrainState:
  from ganjax.errors import choose

  choose("vae.likelihood", config.vae.likelihood, {"bernoulli": 0, "gaussian": 1})
  shape = example_batch["image"].shape[1:]
  model = _model(config, shape)
  variables = model.init(key, jnp.zeros((2, *shape)), jax.random.key(0), train=False)
  return state_lib.create(config, {"vae": state_lib.Player.create(model, state_lib.optimizer(config.optim.vae), variables)})


def targets(config, images, key):
  """Images in [-1, 1] -> what the likelihood scores: [0, 1] pixels, binarised if configured."""
  x = to_unit(images)
  if config.vae.likelihood == "bernoulli" and config.vae.binarize:
    x = jax.random.bernoulli(key, x).astype(x.dtype)
  return x


def elbo_terms(player, params, model_state, x, key, train: bool):
  """Per-example (log p(x|z), KL) for one reparameterised sample; returns them and new model state."""
  (out, mean, logvar), ms = player.apply(params, x * 2.0 - 1.0, key, model_state=model_state, train=train)
  dec, log_sigma = out
  if log_sigma is None:
    rec = losses.bernoulli_log_likelihood(dec, x)
  else:
    rec = losses.gaussian_log_likelihood(jax.nn.sigmoid(dec), log_sigma, x)
  return rec, losses.gaussian_kl(mean, logvar), ms


def train_step(state, batch, key):
  cfg = state.config
  vae = state.vae
  x = targets(cfg, batch["image"], jax.random.fold_in(key, 0))

  def loss_fn(params):
    rec, kl, ms = elbo_terms(vae, params, vae.model_state, x, jax.random.fold_in(key, 1), train=True)
    elbo = rec - cfg.vae.beta * kl
    return -jnp.mean(elbo), (ms, jnp.mean(rec), jnp.mean(kl))

  (loss, (ms, rec, kl)), grads = jax.value_and_grad(loss_fn, has_aux=True)(vae.params)
  metrics = {"vae/loss": loss, "vae/elbo": rec - kl, "vae/reconstruction": rec, "vae/kl": kl,
             "vae/grad_norm": grad_norm(grads)}
  return state.replace(step=state.step + 1).with_players(vae=vae.update(grads, ms)), metrics


def _decode_mean(state, z):
  (dec, log_sigma) = state.vae(z, method=VAE.decode)
  return jax.nn.sigmoid(dec) * 2.0 - 1.0  # the mean image (Bernoulli means / Gaussian means) in [-1, 1]


def generate(state, key, n: int, z=None):
  z = sample_latent(key, n, state.config.model) if z is None else z
  return _decode_mean(state, z)


def encode(state, images):
  """Posterior means of q(z|x) for images in [-1, 1]."""
  return state.vae(images, method=VAE.encode)[0]


def reconstruct(state, images):
  return _decode_mean(state, encode(state, images))


def evaluate(state, images, key) -> dict:
  """Test ELBO (nats per example) of `images` with one fixed binarisation and one z sample each."""
  x = targets(state.config, images, jax.random.fold_in(key, 0))
  rec, kl, _ = elbo_terms(state.vae, state.vae.params, state.vae.model_state, x,
                          jax.random.fold_in(key, 1), train=False)
  return {"elbo": rec - kl, "reconstruction": rec, "kl": kl}
