"""SRGAN and SRResNet (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network"), with EnhanceNet's texture loss (Sajjadi et al. 2017).

G (the SRResNet, `ganjax.networks.srresnet`) maps a low-resolution image I_LR (`batch["a"]`, 4x
bicubic down-sampled: `downsampled:<data>`) to I_SR; the ground truth I_HR is `batch["b"]`.
The perceptual loss, Eq. 3:
    l_SR = l_X + 10^-3 * l_Gen,    l_Gen = sum_n -log D(G(I_LR))          (Eq. 6, non-saturating)
    l_X  = l_VGG/i,j = 1/(W H) sum (phi_ij(I_HR) - phi_ij(G(I_LR)))^2       (Eq. 5, a feature MSE)
         or the pixel MSE 1/(r^2 W H) sum (I_HR - G(I_LR))^2                (Eq. 4: SRResNet-MSE)
and D is trained on -log D(I_HR) - log(1 - D(G(I_LR))) (Eq. 2). `srgan.content` = "features" |
"pixels", `srgan.adversarial_weight` = 1e-3 (0: SRResNet, `configs/srgan.py:srresnet`, whose D
still trains but never reaches G). phi is a fixed feature network (`ganjax.perceptual`): VGG-19's
relu5_4 from user-supplied weights as in the paper, or offline ganjax's own classifier / SimCLR
encoder at `srgan.content_layers`. `srgan.texture_weight` > 0 adds EnhanceNet's texture loss
(Eq. 4 there: Gram matrices of phi on `srgan.texture_patch` windows at `srgan.texture_layers`),
`configs/srgan.py:texture`. As the paper does for SRGAN, `srgan.pretrain_steps` first train G on
the pixel MSE alone (the SRResNet initialisation), then on l_SR.

Hooks: `translate` (I_LR -> I_SR; evaluation scores PSNR / SSIM against I_HR and the classifier's
accuracy and FID of I_SR, `ganjax.metrics.translation`), and --mode=translate upscales files.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import perceptual, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player
from ganjax.errors import ConfigError, DataError, choose
from ganjax.networks.srresnet import Discriminator, SRResNet

CONFIG_BLOCK = "srgan"
ADVERSARIAL = stabilizers.Adversarial(
    features=False, d_layers=False, penalty=False,
    why={"features": "the SRGAN discriminator sows no features to match",
         "d_layers": "its discriminator is SRGAN's own (ganjax.networks.srresnet)",
         "penalty": "its discriminator's batch norm mixes the samples"})
SHARDED_EXTRA = stabilizers.SHARDED_EXTRA


def check(config):
  s = config.srgan
  choose("srgan.content", s.content, {"features": 0, "pixels": 1})
  if min(s.adversarial_weight, s.texture_weight, s.pretrain_steps) < 0:
    raise ConfigError("srgan.adversarial_weight, texture_weight and pretrain_steps must be >= 0")
  if s.content == "features" or s.texture_weight:
    perceptual.check(config.perceptual, tuple(s.content_layers) + tuple(s.texture_layers))


def uses_features(config) -> bool:
  return config.srgan.content == "features" or config.srgan.texture_weight > 0


def example_batch(config, train):
  """Two rows, and phi's parameters fitted on the training HR images (cached): init keeps them."""
  if "a" not in train.element_spec or "b" not in train.element_spec:
    raise DataError(f"srgan needs (low-, high-resolution) pairs, rows with 'a' and 'b' (downsampled:<data>); "
                    f"{config.data.name!r} has {', '.join(train.element_spec)}")
  rows = train.get(np.arange(2))
  if not uses_features(config):
    return rows
  hr = train.get(np.arange(min(train.size, 20_000)))
  phi = perceptual.prepare(config.perceptual, hr["b"], hr.get("label"), train.num_classes, config.eval.cache_dir)
  return {**rows, "phi": phi}


def init(config, key, example_batch) -> state_lib.TrainState:
  a, b = example_batch["a"], example_batch["b"]
  factor = b.shape[1] // a.shape[1]
  g = SRResNet(b.shape[-1], factor=factor, width=config.model.width, blocks=config.srgan.blocks,
               dtype=compute_dtype(config))
  d = Discriminator(width=config.model.width, dtype=compute_dtype(config))
  kg, kd, kr = jax.random.split(key, 3)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros_like(a)), "d": init_player(config, "d", d, kd, jnp.zeros_like(b))}
  extra = stabilizers.init_extra(config, players, ADVERSARIAL, lambda k, n: jnp.zeros((n, *b.shape[1:])), kr)
  if "phi" in example_batch:
    extra["phi"] = example_batch["phi"]
  return state_lib.create(config, players, extra)


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d, s = state.g, state.d, state.config.srgan
  net = state.config.perceptual.network
  lr, hr = batch["a"], batch["b"]
  sr, g_ms = g.apply(g.params, lr)
  fake = stab.fakes(jax.lax.stop_gradient(sr), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_in, fake_in = stab.d_input(hr, jax.random.fold_in(key, 2)), stab.d_input(fake, jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in)
    fake_out, ms = d.apply(params, fake_in, model_state=ms)
    loss, aux = stab.d_loss(real_out, fake_out)
    loss, reg = stab.d_regularize(loss, "d", params)
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)
  pretraining = state.step < s.pretrain_steps  # the SRResNet-MSE initialisation

  def g_objective(params):
    out, ms = g.apply(params, lr, model_state=g_ms)
    mse = jnp.mean((out - hr) ** 2)
    terms = {"g/mse": mse}
    if s.content == "features":
      layers = tuple(s.content_layers)
      content = perceptual.content_loss(perceptual.activations(net, state.extra["phi"], out, layers),
                                        jax.lax.stop_gradient(perceptual.activations(net, state.extra["phi"], hr, layers)))
      terms["g/content"] = content
    else:
      content = mse
    loss = content
    if s.texture_weight:
      layers = tuple(s.texture_layers)
      texture = perceptual.texture_loss(perceptual.activations(net, state.extra["phi"], out, layers),
                                        jax.lax.stop_gradient(perceptual.activations(net, state.extra["phi"], hr, layers)),
                                        s.texture_patch)
      terms["g/texture"] = texture
      loss = loss + s.texture_weight * texture
    adversarial = stab.g_loss(lambda: d.apply(d.params, stab.d_input(out, jax.random.fold_in(key, 6)))[0])
    loss = jnp.where(pretraining, mse, loss + s.adversarial_weight * adversarial)
    return stab.g_regularize(loss, "g", params), (ms, {**terms, "g/adversarial": adversarial})

  (g_loss, (g_ms, g_aux)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, **g_aux,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def translate(state, x, key):
  """G(I_LR) = I_SR (batch norm in inference mode)."""
  return stabilizers.sampler(state)(x)
