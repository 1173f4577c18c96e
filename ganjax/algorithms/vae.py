"""Variational autoencoder (Kingma & Welling 2013, "Auto-Encoding Variational Bayes").

Maximises the evidence lower bound of Eq. 10 with the reparameterisation z = mu + sigma * eps
(Sec. 2.4) and the analytic Gaussian KL of Appendix B:
    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || N(0, I)),
one Monte Carlo sample per example, one optimizer over encoder and decoder. The decoder is
Bernoulli over pixels (`vae.likelihood="bernoulli"`, images in [0, 1], dynamically binarised when
`vae.binarize`) or Gaussian with a learned global sigma (`"gaussian"`). All figures are in nats per
example; `elbo` is the bound (higher is better), `loss` its negation.

Variants (configs/vae.py:<arg>): `vae.posterior="fixed_sigma"` is the seeds' "practical" VAE, with
q(z|x) = N(mu(x), I) so that the KL reduces to ||mu||^2 / 2; convolutional encoder/decoder
(`model.encoder/generator="dcgan"`); `vae.beta` weights the KL (beta-VAE; 1 is the ELBO).
Evaluation can add the importance-weighted bound of Burda et al. (2016, Eq. 8),
    L_k(x) = E[log (1/k) sum_i p(x, z_i) / q(z_i | x)],  z_i ~ q(z | x),
with k = `vae.iwae_samples` (0: off), a tighter lower bound on log p(x) than the ELBO (L_1).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax import losses, networks
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, grad_norm, sample_latent, to_unit
from ganjax.algorithms.method import Encoder, Likelihood, Method, Sampler
from ganjax.errors import choose


class VAE(nn.Module):
  encoder: nn.Module
  decoder: nn.Module
  gaussian: bool = False
  fixed_sigma: bool = False  # q(z|x) = N(mu, I): the "practical" VAE

  def setup(self):
    if self.gaussian:
      self.log_sigma = self.param("log_sigma", nn.initializers.zeros, ())

  def __call__(self, x, key, train: bool = True):
    mean, logvar = self.encode(x, train)
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
    return self.decode(z, train), mean, logvar

  def encode(self, x, train: bool = False):
    mean, logvar = self.encoder(x, train=train)
    return (mean, jnp.zeros_like(logvar)) if self.fixed_sigma else (mean, logvar)

  def decode(self, z, train: bool = False):
    out = self.decoder(z, train=train)
    return (out, self.log_sigma) if self.gaussian else (out, None)


def _model(config, sample_shape):
  m = config.model
  enc_kw = {"width": m.width, "conv_impl": m.conv_impl} if m.encoder == "dcgan" else {"hidden": tuple(m.e_hidden)}
  dec_kw = {"width": m.width, "conv_impl": m.conv_impl} if m.generator == "dcgan" else {"hidden": tuple(m.g_hidden)}
  gaussian = config.vae.likelihood == "gaussian"
  dtype = compute_dtype(config)
  return VAE(networks.encoder(m.encoder, latent_dim=m.latent_dim, dtype=dtype, **enc_kw),
             networks.generator(m.generator, out_shape=tuple(sample_shape), output_activation="none",
                                dtype=dtype, **dec_kw), gaussian, config.vae.posterior == "fixed_sigma")


def init(config, key, example_batch) -> state_lib.TrainState:
  choose("vae.likelihood", config.vae.likelihood, {"bernoulli": 0, "gaussian": 1})
  choose("vae.posterior", config.vae.posterior, {"gaussian": 0, "fixed_sigma": 1})
  shape = example_batch["image"].shape[1:]
  model = _model(config, shape)
  variables = model.init(key, jnp.zeros((2, *shape)), jax.random.key(0), train=False)
  return state_lib.create(config, {"vae": state_lib.Player.create(model, state_lib.optimizer(config.optim.vae, config.num_steps), variables)})


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


def log_likelihood_terms(vae, x, z):
  """log p(x | z) per row of z (S, B, D) for targets x (B, ...): (S, B)."""
  s, b = z.shape[:2]
  dec, log_sigma = vae(z.reshape((s * b, -1)), method=VAE.decode)
  xs = jnp.broadcast_to(x[None], (s, *x.shape)).reshape((s * b, *x.shape[1:]))
  if log_sigma is None:
    ll = losses.bernoulli_log_likelihood(dec, xs)
  else:
    ll = losses.gaussian_log_likelihood(jax.nn.sigmoid(dec), log_sigma, xs)
  return ll.reshape((s, b))


def decoder_log_likelihood(state, z, x):
  """log p(x | z) for latents z (S, B, D) and targets x: the observation model AIS integrates."""
  return log_likelihood_terms(state.vae, x, z)


def ais_targets(config, images, key):
  """What AIS scores: the same targets as the ELBO (dynamically binarised pixels)."""
  return targets(config, images, key)


def iwae_bound(state, x, key, k: int, chunk: int = 100):
  """The importance-weighted bound L_k(x) per example (nats), with k samples of q(z|x) taken
  `chunk` at a time (a running log-sum-exp), for targets x as `targets` returns them."""
  vae = state.vae
  mean, logvar = vae(x * 2.0 - 1.0, method=VAE.encode)
  std = jnp.exp(0.5 * logvar)
  chunk = min(chunk, k)
  if k % chunk:
    raise ValueError(f"vae.iwae_samples={k} must be a multiple of {chunk}")

  def body(lse, i):
    eps = jax.random.normal(jax.random.fold_in(key, i), (chunk, *mean.shape))
    z = mean + std * eps
    log_q = jnp.sum(-0.5 * eps**2 - 0.5 * logvar - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
    log_w = log_likelihood_terms(vae, x, z) + losses.standard_normal_log_density(z) - log_q
    return jnp.logaddexp(lse, jax.nn.logsumexp(log_w, axis=0)), None

  lse, _ = jax.lax.scan(body, jnp.full(mean.shape[:1], -jnp.inf), jnp.arange(k // chunk))
  return lse - jnp.log(float(k))


def evaluate(state, images, key) -> dict:
  """Test ELBO (nats per example) of `images` with one fixed binarisation and one z sample each,
  and the IWAE bound with `vae.iwae_samples` samples (same binarisation) when that is > 0."""
  cfg = state.config
  x = targets(cfg, images, jax.random.fold_in(key, 0))
  rec, kl, _ = elbo_terms(state.vae, state.vae.params, state.vae.model_state, x,
                          jax.random.fold_in(key, 1), train=False)
  out = {"elbo": rec - kl, "reconstruction": rec, "kl": kl}
  if cfg.vae.iwae_samples:
    out["iwae"] = iwae_bound(state, x, jax.random.fold_in(key, 2), cfg.vae.iwae_samples)
  return out


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, density_decoder=True),
                encoder=Encoder(encode, reconstruct), evaluate=evaluate,
                likelihood=Likelihood(decoder_log_likelihood, ais_targets, iwae_bound))
