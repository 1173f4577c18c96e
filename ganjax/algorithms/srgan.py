"""SRGAN and SRResNet (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network"), with EnhanceNet's texture loss (Sajjadi et al. 2017).

G (the SRResNet, `ganjax.networks.srresnet`) maps a low-resolution image I_LR (`batch["a"]`, 4x
bicubic down-sampled: `downsampled:<data>`) to I_SR; the ground truth I_HR is `batch["b"]`.
The perceptual loss, Eq. 3:
    l_SR = l_X + 10^-3 * l_Gen,    l_Gen = sum_n -log D(G(I_LR))          (Eq. 6, non-saturating)
    l_X  = l_VGG/i,j = 1/(W H) sum (s phi_ij(I_HR) - s phi_ij(G(I_LR)))^2   (Eq. 5, a feature MSE)
         or the pixel MSE 1/(r^2 W H) sum (I_HR - G(I_LR))^2                (Eq. 4: SRResNet-MSE)
and D is trained on -log D(I_HR) - log(1 - D(G(I_LR))) (Eq. 2). `srgan.content` = "features" |
"pixels", `srgan.adversarial_weight` = 1e-3 (0: SRResNet, `configs/srgan.py:srresnet`, whose D
still trains but never reaches G). phi is a fixed feature network (`ganjax.perceptual`): VGG-19's
relu5_4 from user-supplied weights as in the paper, or offline ganjax's own classifier / SimCLR
encoder at `srgan.content_layers`. s = `srgan.feature_scale`: Sec. 3.2 rescales the VGG feature maps
by 1/12.75 "to obtain VGG losses of a scale that is comparable to the MSE loss" (Eq. 5 times
~0.006); 0 (the default) is that factor for VGG-19 and 1 for ganjax's own networks, whose maps have
a scale of their own that the paper's factor was not chosen for. `srgan.texture_weight` > 0 adds
EnhanceNet's texture loss (Eq. 4 there: Gram matrices of the unscaled phi on `srgan.texture_patch`
windows at `srgan.texture_layers`), `configs/srgan.py:texture`.

Schedule (Sec. 3.2): SRGAN starts from a trained SRResNet with a new D. The first
`srgan.pretrain_steps` steps (phase "mse", a program of its own) train G on the pixel MSE alone and
leave D untouched -- its weights, batch statistics, optimizer state and replay memory stay as
initialised, so D starts the adversarial phase fresh. The paper's 10^5 updates at 1e-4 then 10^5 at
1e-5 are, scaled to the run, a staircase: after `srgan.lr_drop` (1/2) of the adversarial phase both
learning rates are multiplied by `srgan.lr_drop_factor` (0.1); `srgan.lr_drop` = 1: no drop (the
SRResNet's own 10^6 updates at 1e-4). Departure: G's Adam state carries over from the MSE phase (the
paper trains SRGAN as a new run initialised with the SRResNet's weights).

Hooks: `translate` (I_LR -> I_SR; evaluation scores PSNR / SSIM against I_HR and the classifier's
accuracy and FID of I_SR, `ganjax.metrics.translation`), and --mode=translate upscales files.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import perceptual, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player
from ganjax.algorithms.method import Bench, Method, Translator
from ganjax.errors import ConfigError, DataError, choose
from ganjax.networks.srresnet import Discriminator, SRResNet

ADVERSARIAL = stabilizers.Adversarial(
    features=False, d_layers=False, penalty=False,
    why={"features": "the SRGAN discriminator sows no features to match",
         "d_layers": "its discriminator is SRGAN's own (ganjax.networks.srresnet)",
         "penalty": "its discriminator's batch norm mixes the samples"})
MSE_PHASE, ADVERSARIAL_PHASE = "mse", "adversarial"
VGG_FEATURE_SCALE = 1 / 12.75  # Sec. 3.2's rescaling of the VGG feature maps


def check(config):
  s = config.srgan
  choose("srgan.content", s.content, {"features": 0, "pixels": 1})
  if min(s.adversarial_weight, s.texture_weight, s.pretrain_steps, s.get("feature_scale", 0.0)) < 0:  # .get: see lr_drop
    raise ConfigError("srgan.adversarial_weight, texture_weight, pretrain_steps and feature_scale must be >= 0")
  drop, factor = lr_drop(config)
  if not 0 < drop <= 1 or not 0 < factor <= 1:
    raise ConfigError(f"srgan.lr_drop (a fraction of the adversarial phase) and srgan.lr_drop_factor must be in "
                      f"(0, 1], got {drop} and {factor}")
  layers = tuple(s.content_layers) if s.content == "features" else ()
  layers += tuple(s.texture_layers) if s.texture_weight else ()
  if layers:
    perceptual.check(config.perceptual, layers)


def uses_features(config) -> bool:
  return config.srgan.content == "features" or config.srgan.texture_weight > 0


def feature_scale(config) -> float:
  """s of Eq. 5: `srgan.feature_scale`, or with 0 the paper's 1/12.75 for VGG-19 and 1 for the own networks."""
  if config.srgan.get("feature_scale", 0.0):  # .get: a config written before it (see lr_drop)
    return config.srgan.feature_scale
  return VGG_FEATURE_SCALE if config.perceptual.network == "vgg19" else 1.0


def phase(config, step: int) -> str:
  """"mse" for the first `srgan.pretrain_steps` steps (the SRResNet initialisation), then "adversarial"."""
  return MSE_PHASE if step < config.srgan.pretrain_steps else ADVERSARIAL_PHASE


def bench_config(config):
  """What `python -m ganjax.bench` times: the adversarial step (the MSE phase skipped)."""
  config = config.copy_and_resolve_references()
  config.srgan.pretrain_steps = 0
  return config


def example_batch(config, train):
  """Two rows, and phi's parameters fitted on the training HR images (cached): init keeps them."""
  if "a" not in train.element_spec or "b" not in train.element_spec:
    raise DataError(f"srgan needs (low-, high-resolution) pairs, rows with 'a' and 'b' (downsampled:<data>); "
                    f"{config.data.name!r} has {', '.join(train.element_spec)}")
  rows = train.get(np.arange(2))
  if not uses_features(config):
    return rows
  hr = train.get(np.arange(min(train.size, 20_000)))
  phi = perceptual.prepare(config.perceptual, hr["b"], hr.get("label"), train.num_classes, config.eval.cache_dir,
                           config.progress)
  return {**rows, "phi": phi}


def lr_drop(config) -> tuple:
  """(`srgan.lr_drop`, `srgan.lr_drop_factor`); a config written before they existed: no drop."""
  return config.srgan.get("lr_drop", 1.0), config.srgan.get("lr_drop_factor", 0.1)


def lr_drop_updates(config) -> dict:
  """{player: its own update count from which its learning rate is dropped}: G updates from step 0,
  D from the first adversarial step; both drop at the same step of the run."""
  s = config.srgan
  adversarial = max(config.num_steps - s.pretrain_steps, 0)
  after = int(round(lr_drop(config)[0] * adversarial))
  return {"g": s.pretrain_steps + after, "d": after}


def with_lr_drop(player, at: int, factor: float):
  """The player's optimizer followed by a staircase: its updates times `factor` from its `at`-th on
  (Adam's step -lr m/(sqrt(v) + eps) times factor: the learning rate lr * factor)."""
  if factor == 1.0:
    return player
  tx = optax.chain(player.tx, optax.scale_by_schedule(lambda count: jnp.where(count < at, 1.0, factor)))
  return player.replace(tx=tx, opt_state=tx.init(player.params))


def init(config, key, example_batch) -> state_lib.TrainState:
  a, b = example_batch["a"], example_batch["b"]
  factor = b.shape[1] // a.shape[1]
  g = SRResNet(b.shape[-1], factor=factor, width=config.model.width, blocks=config.srgan.blocks,
               dtype=compute_dtype(config))
  d = Discriminator(width=config.model.width, dtype=compute_dtype(config))
  kg, kd, kr = jax.random.split(key, 3)
  drop = lr_drop_updates(config) if lr_drop(config)[0] < 1 else {}
  players = {"g": init_player(config, "g", g, kg, jnp.zeros_like(a)),
             "d": init_player(config, "d", d, kd, jnp.zeros_like(b))}
  players = {k: with_lr_drop(p, drop[k], lr_drop(config)[1]) if drop else p for k, p in players.items()}
  rows = lambda k, n: jnp.zeros((n, *b.shape[1:]))  # noqa: E731  the replay rows' structure
  extra = stabilizers.init_extra(config, players, ADVERSARIAL, rows, kr)
  if "phi" in example_batch:
    extra["phi"] = example_batch["phi"]
  return state_lib.create(config, players, extra)


def g_objective(state, stab, params, g_ms, d, lr, hr, key, adversarial_phase: bool):
  """(G's loss, (its model state, the loss terms)): the pixel MSE in the MSE phase, l_SR (+ the texture loss) after."""
  g, s, net = state.g, state.config.srgan, state.config.perceptual.network
  out, ms = g.apply(params, lr, model_state=g_ms)
  mse = jnp.mean((out - hr) ** 2)
  terms = {"g/mse": mse}
  if not adversarial_phase:
    return stab.g_regularize(mse, "g", params), (ms, terms)
  phi = lambda x, layers: perceptual.activations(net, state.extra["phi"], x, tuple(layers))  # noqa: E731
  content = mse
  if s.content == "features":
    scale = feature_scale(state.config)
    fake = [scale * f for f in phi(out, s.content_layers)]
    real = [scale * f for f in phi(hr, s.content_layers)]
    content = terms["g/content"] = perceptual.content_loss(fake, jax.lax.stop_gradient(real))
  loss = content
  if s.texture_weight:
    texture = perceptual.texture_loss(phi(out, s.texture_layers), jax.lax.stop_gradient(phi(hr, s.texture_layers)),
                                      s.texture_patch)
    terms["g/texture"] = texture
    loss = loss + s.texture_weight * texture
  adversarial = terms["g/adversarial"] = stab.g_loss(
      lambda: d.apply(d.params, stab.d_input(out, jax.random.fold_in(key, 6)))[0])
  return stab.g_regularize(loss + s.adversarial_weight * adversarial, "g", params), (ms, terms)


def d_update(stab, d, hr, sr, key):
  """D's step on -log D(I_HR) - log(1 - D(I_SR)) (Eq. 2): (D, its metrics)."""
  fake = stab.fakes(jax.lax.stop_gradient(sr), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_in, fake_in = stab.d_input(hr, jax.random.fold_in(key, 2)), stab.d_input(fake, jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in)
    fake_out, ms = d.apply(params, fake_in, model_state=ms)
    loss, aux = stab.d_loss(real_out, fake_out)
    loss, reg = stab.d_regularize(loss, "d", params)
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  return stab.update("d", d, d_grads, d_ms), {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads)}


def train_step(state, batch, key, phase: str = ADVERSARIAL_PHASE):
  """One step of `phase`: "mse" trains G on the pixel MSE and leaves D (and D's stabilizers: the
  replay memory, instance noise, clipping) untouched; "adversarial" updates D, then G on l_SR."""
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  lr, hr = batch["a"], batch["b"]
  sr, g_ms = g.apply(g.params, lr)
  adversarial_phase = phase == ADVERSARIAL_PHASE
  if adversarial_phase:
    d, metrics = d_update(stab, d, hr, sr, key)
  else:  # D waits for the adversarial phase, its stabilizers with it: G's MSE metrics alone
    stab.waits("d")
    metrics = {}
  (g_loss, (g_ms, g_aux)), g_grads = jax.value_and_grad(
      lambda p: g_objective(state, stab, p, g_ms, d, lr, hr, key, adversarial_phase), has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics.update({"g/loss": g_loss, **g_aux, "g/grad_norm": grad_norm(g_grads)})
  return stab.finish(state, {"g": g, "d": d}, metrics)


def translate(state, x, key):
  """G(I_LR) = I_SR (batch norm in inference mode)."""
  return stabilizers.sampler(state)(x)


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate), adversarial=ADVERSARIAL,
                phase=phase, example_batch=example_batch, check=check, bench=Bench(config=bench_config))
