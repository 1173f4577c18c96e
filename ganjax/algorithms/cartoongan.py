"""CartoonGAN (Chen et al. 2018, "CartoonGAN: Generative Adversarial Networks for Photo
Cartoonization").

G maps photos p (stream a's "a" images) to cartoons; D tells real cartoons c (stream b's "b") from
both G's outputs and the *edge-smoothed* cartoons e (stream b's "b_smooth": the same cartoons with
their clear edges blurred away), so that clear edges are what makes a cartoon. Eq. 1-3:
    L(G, D) = L_adv(G, D) + omega * L_con(G, D),   omega = 10 (`cartoongan.content_weight`)
    L_adv = E_c[log D(c)] + E_e[log(1 - D(e))] + E_p[log(1 - D(G(p)))]      (the edge-promoting loss)
    L_con = E_p[|| VGG_l(G(p)) - VGG_l(p) ||_1]                             (a feature L1, conv4_4)
D maximises L_adv; G minimises omega * L_con and, non-saturating, -log D(G(p)). With another
`gan.loss` (e.g. least squares) the e term is that loss's fake side (`losses.d_fake_term`). The
initialization phase (Sec. 3.3): for the first `cartoongan.init_steps` steps G is trained on L_con
alone and D is not updated. `cartoongan.edge_weight` = 0 drops the e term (the paper's ablation,
`configs/cartoongan.py:no_edge`). The feature network is `ganjax.perceptual` (VGG-19 conv4_4 from
user weights; offline ganjax's own SimCLR encoder trained on the photos). Networks: ganjax's
ResNet-block generator with batch norm and 8 blocks (`ganjax.networks.resnet_generator`; the
paper's adds a 3x3 stride-1 convolution after each down- and up-convolution) and a 2-layer
PatchGAN (`ganjax.networks.patchgan`, 4x4 kernels where the paper's D has 3x3).

Hooks: `translate` (photo -> cartoon); evaluation scores it against the cartoon filter's output on
the held-out photo (`cartoon` data: L1, PSNR, SSIM, FID in self-supervised features).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import losses, perceptual, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, domain, grad_norm, init_player
from ganjax.algorithms.method import Method, Translator
from ganjax.errors import ConfigError, DataError
from ganjax.networks.patchgan import PatchGAN
from ganjax.networks.resnet_generator import ResnetGenerator

ADVERSARIAL = stabilizers.Adversarial(
    features=False, d_layers=False, penalty=False,
    why={"features": "the PatchGAN sows no features to match",
         "d_layers": "its discriminator is a PatchGAN (ganjax.networks.patchgan)",
         "penalty": "its PatchGAN's batch norm mixes the samples"})


def check(config):
  p = config.cartoongan
  if min(p.content_weight, p.edge_weight, p.init_steps) < 0:
    raise ConfigError("cartoongan.content_weight, edge_weight and init_steps must be >= 0")
  if sorted(config.data.streams) != ["a", "b"]:
    raise ConfigError("cartoongan trains on two streams: data.streams.a (photos) and data.streams.b (cartoons)")
  perceptual.check(config.perceptual, tuple(p.content_layers))


def example_batch(config, train):
  """Two rows of each stream, and the content network's parameters (fitted on the photos, cached)."""
  b = train["b"]
  if "b" not in b.element_spec or (config.cartoongan.edge_weight and "b_smooth" not in b.element_spec):
    raise DataError(f"cartoongan reads cartoons 'b' and their edge-smoothed versions 'b_smooth' from "
                    f"data.streams.b ({config.data.streams.b!r} has {', '.join(b.element_spec)}): e.g. cartoon")
  rows = {"a": train["a"].get(np.arange(2)), "b": b.get(np.arange(2))}
  photos = domain(train["a"].get(np.arange(min(train["a"].size, 20_000))), "a")
  return {**rows, "phi": perceptual.prepare(config.perceptual, photos, None, 0, config.eval.cache_dir, config.progress)}


def init(config, key, example_batch) -> state_lib.TrainState:
  p = domain(example_batch["a"], "a")
  c = example_batch["b"]["b"]
  g = ResnetGenerator(c.shape[-1], width=config.model.width, blocks=config.cartoongan.blocks, norm="batch",
                      dtype=compute_dtype(config))
  d = PatchGAN(width=config.model.width, layers=config.cartoongan.patch_layers, conv_impl=config.model.conv_impl,
               dtype=compute_dtype(config))
  kg, kd, kr = jax.random.split(key, 3)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros_like(p)), "d": init_player(config, "d", d, kd, jnp.zeros_like(c))}
  extra = stabilizers.init_extra(config, players, ADVERSARIAL, lambda k, n: jnp.zeros((n, *c.shape[1:])), kr)
  return state_lib.create(config, players, {**extra, "phi": example_batch["phi"]})


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d, p = state.g, state.d, state.config.cartoongan
  net, layers = state.config.perceptual.network, tuple(p.content_layers)
  photo, cartoon = domain(batch["a"], "a"), batch["b"]["b"]
  phi = lambda x: perceptual.activations(net, state.extra["phi"], x, layers)  # noqa: E731
  initializing = state.step < p.init_steps  # Sec. 3.3: G on the content loss alone, D waits
  out, g_ms = g.apply(g.params, photo)
  fake = stab.fakes(jax.lax.stop_gradient(out), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_out, ms = d.apply(params, stab.d_input(cartoon, jax.random.fold_in(key, 1)))
    fake_out, ms = d.apply(params, stab.d_input(fake, jax.random.fold_in(key, 2)), model_state=ms)
    loss, aux = stab.d_loss(real_out, fake_out)  # -log D(c) - log(1 - D(G(p)))
    if p.edge_weight:
      edge_out, ms = d.apply(params, stab.d_input(batch["b"]["b_smooth"], jax.random.fold_in(key, 3)), model_state=ms)
      edge = losses.d_fake_term(state.config.gan.loss, edge_out)  # -log(1 - D(e)): smoothed cartoons are fake
      loss, aux = loss + p.edge_weight * edge, {**aux, "d/edge": edge, "d/edge_out": jnp.mean(edge_out)}
      if "d/p_fake" in aux:  # a probability-valued D
        aux["d/p_edge"] = jnp.mean(jax.nn.sigmoid(edge_out))
    loss, reg = stab.d_regularize(loss, "d", params)
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  updated = stab.update("d", d, d_grads, d_ms)
  d = jax.tree.map(lambda old, new: jnp.where(initializing, old, new), d, updated)

  def g_objective(params):
    out, ms = g.apply(params, photo, model_state=g_ms)
    content = perceptual.content_loss(phi(out), jax.lax.stop_gradient(phi(photo)), norm="l1")
    adversarial = stab.g_loss(lambda: d.apply(d.params, stab.d_input(out, jax.random.fold_in(key, 5)))[0])
    loss = p.content_weight * content + jnp.where(initializing, 0.0, adversarial)
    return stab.g_regularize(loss, "g", params), (ms, {"g/content": content, "g/adversarial": adversarial})

  (g_loss, (g_ms, g_aux)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, **g_aux,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def translate(state, x, key):
  """G(p): photos -> cartoons (batch norm in inference mode)."""
  return stabilizers.sampler(state)(x)


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate), adversarial=ADVERSARIAL,
                example_batch=example_batch, check=check)
