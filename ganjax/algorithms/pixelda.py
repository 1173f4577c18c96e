"""PixelDA (Bousmalis et al. 2017, "Unsupervised Pixel-Level Domain Adaptation with Generative
Adversarial Networks").

A generator G(x^s, z) (player "g", `networks.adaptation.NoiseConditioned`: a stride-1 ResNet on the
source image and a noise channel from z ~ U[-1, 1]^10) maps labelled source images to target-looking
ones; a discriminator D (player "d", `ConvDiscriminator` with Gaussian noise and dropout) tells them
from real target images; a task classifier T (player "t", `networks.adaptation.Classifier`) is
trained on generated and source images with the source labels. Eq. 1-4:
    min_{G,T} max_D  alpha L_d(D, G) + beta L_t(G, T) + gamma L_c(G)
    L_d = E_{x^t}[log D(x^t)] + E_{x^s,z}[log(1 - D(G(x^s, z)))]                    (Eq. 2)
    L_t = E_{x^s,y^s,z}[-y^s . log T(G(x^s, z)) - y^s . log T(x^s)]                  (Eq. 3)
    L_c = E_{x^s,z}[ 1/k ||(x^s - G(x^s, z)) o m||^2 - 1/k^2 ((x^s - G(x^s, z))^T m)^2 ]   (Eq. 4)
with m the foreground mask and k its pixel count: the masked pairwise MSE, which penalises the
differences between pairs of foreground pixels and not their absolute values (`masked_pmse`; here m
is the source digit's stroke, x^s > 0, `pixelda.content_weight` = gamma, 0 for MNIST -> MNIST-M as
the paper, which uses it where its renderer gives a mask). The weights are the authors' released
MNIST -> MNIST-M ones: D's loss times 0.13, G's adversarial term times 0.011, the task loss times
0.01 (`pixelda.d_weight`, `g_weight`, `task_weight`); Adam(1e-3, beta1 0.5). D's loss is
`gan.loss` (non-saturating by default, G maximising log D(G(x^s, z)) as usual); D updates first,
then G and T jointly. The step never reads the target's labels (tested).

Hooks: `translate` (x^s -> G(x^s, z): --mode=sample's source | adapted rows, --mode=translate,
evaluation's FID of the adapted images and, with target labels, DTN's transfer metric), and
`predict_class` (T: `target/test_accuracy`, the paper's Table 1 figure).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms import adaptation
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player
from ganjax.errors import ConfigError
from ganjax.networks.adaptation import ConvDiscriminator, NoiseConditioned

CONFIG_BLOCK = "pixelda"
CLASS_MATCHING = "identity"
ADVERSARIAL = stabilizers.Adversarial(
    features=False, penalty=False, d_layers=False,
    why={"features": "its discriminator sows no features to match",
         "penalty": "its discriminator's batch norm mixes the samples",
         "d_layers": "its discriminator is PixelDA's own (ganjax.networks.adaptation)"})
SHARDED_EXTRA = stabilizers.SHARDED_EXTRA


def check(config):
  adaptation.check_streams(config)
  p = config.pixelda
  if min(p.d_weight, p.g_weight, p.task_weight, p.content_weight) < 0 or p.noise_dim < 1:
    raise ConfigError("pixelda's loss weights must be >= 0 and pixelda.noise_dim >= 1")


def example_batch(config, train):
  return adaptation.example_batch(config, train, "pixelda")


def init(config, key, example_batch) -> state_lib.TrainState:
  x = adaptation.images(example_batch["source"], "source")
  m, p = config.model, config.pixelda
  g = NoiseConditioned(x.shape[-1], width=m.width, blocks=p.blocks, dtype=compute_dtype(config))
  d = ConvDiscriminator(1, width=p.d_width, noise=p.d_noise, dropout=p.d_dropout, dtype=compute_dtype(config))
  k = jax.random.split(key, 4)
  players = {"g": init_player(config, "g", g, k[0], jnp.zeros_like(x), jnp.zeros((len(x), p.noise_dim))),
             "d": init_player(config, "d", d, k[1], jnp.zeros_like(x)),
             "t": init_player(config, "t", adaptation.task_network(config), k[2], jnp.zeros_like(x))}
  fakes = lambda kk, n: jnp.zeros((n, *x.shape[1:]))  # noqa: E731  replay rows of generated images
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, k[3]))


def noise(key, n: int, dim: int):
  return jax.random.uniform(key, (n, dim), minval=-1.0, maxval=1.0)


def masked_pmse(x, generated, mask):
  """Eq. 4 per image, averaged: 1/k ||(x - G) o m||^2 - 1/k^2 ((x - G)^T m)^2, k = sum(m) over
  every pixel and channel (at least 1)."""
  axes = tuple(range(1, x.ndim))
  diff = (x - generated) * mask
  k = jnp.maximum(jnp.sum(mask, axis=axes), 1.0)
  return jnp.mean(jnp.sum(diff**2, axis=axes) / k - jnp.sum(diff, axis=axes) ** 2 / k**2)


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  p = state.config.pixelda
  g, d, t = state.g, state.d, state.t
  x, y = adaptation.source(batch)
  real = adaptation.target(batch)
  z = noise(jax.random.fold_in(key, 0), len(x), p.noise_dim)
  fake, g_ms = g.apply(g.params, x, z)
  fake = stab.fakes(jax.lax.stop_gradient(fake), jax.random.fold_in(key, 1))
  d_rngs = lambda salt: {"noise": jax.random.fold_in(key, salt), "dropout": jax.random.fold_in(key, salt + 1)}  # noqa: E731

  def d_objective(params):
    real_out, ms = d.apply(params, stab.d_input(real, jax.random.fold_in(key, 2)), rngs=d_rngs(10))
    fake_out, ms = d.apply(params, stab.d_input(fake, jax.random.fold_in(key, 3)), model_state=ms, rngs=d_rngs(20))
    loss, aux = stab.d_loss(real_out, fake_out)
    loss, reg = stab.d_regularize(p.d_weight * loss, "d", params)
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)
  mask = (x > 0).astype(x.dtype)  # the source digit's stroke

  def gt_objective(params):
    generated, ms = g.apply(params["g"], x, z, model_state=g_ms)
    out = lambda: d.apply(d.params, stab.d_input(generated, jax.random.fold_in(key, 4)), rngs=d_rngs(30))[0]  # noqa: E731
    adversarial = stab.g_loss(out)
    logits_g, t_ms = t.apply(params["t"], generated)
    logits_s, t_ms = t.apply(params["t"], x, model_state=t_ms)
    task = adaptation.task_loss(logits_g, y) + adaptation.task_loss(logits_s, y)
    content = masked_pmse(x, generated, mask) if p.content_weight else 0.0
    loss = p.g_weight * adversarial + p.task_weight * task + p.content_weight * content
    aux = {"g/adversarial": adversarial, "t/task": task, "g/content": content,
           "t/accuracy_generated": adaptation.accuracy(logits_g, y)}
    return stab.g_regularize(loss, "g", params["g"]), (ms, aux)

  (g_loss, (g_ms, g_aux)), grads = jax.value_and_grad(gt_objective, has_aux=True)({"g": g.params, "t": t.params})
  g, t = stab.update("g", g, grads["g"], g_ms), t.update(grads["t"])
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, **g_aux,
             "g/grad_norm": grad_norm(grads["g"])}
  return stab.finish(state, {"g": g, "d": d, "t": t}, metrics)


def translate(state, x, key):
  """G(x^s, z), z ~ U[-1, 1]: source images -> target-looking ones."""
  g = stabilizers.sampler(state)
  return g(x, noise(key, len(x), state.config.pixelda.noise_dim))


def predict_class(state, x):
  return jnp.argmax(state.t(x), -1)
