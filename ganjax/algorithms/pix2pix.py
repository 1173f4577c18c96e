"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks").

A generator G maps an input image x (domain A, `batch["a"]`) to an output (domain B, `batch["b"]` is
the ground truth y); a conditional discriminator D sees (x, y) pairs, concatenated on channels.
Eq. 1, the conditional GAN objective, and Eq. 3 (Eq. 4's final objective):
    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_{x,z}[log(1 - D(x, G(x, z)))]
    L_L1(G)      = E_{x,y,z}[||y - G(x, z)||_1]
    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G),    lambda = 100 (`pix2pix.l1_weight`).
G is a U-Net with skips (`ganjax.networks.unet`), D a PatchGAN (`ganjax.networks.patchgan`, 70 x 70
by default) whose per-patch logits the loss averages. As in the paper (Sec. 3.3): the noise z is
dropout in G, kept on at test time, where batch norm also uses the test batch's statistics -- the
authors test with batches of one image, so `translate` normalises each image with its own statistics
(a translation never depends on the other images it is handed with); G takes the non-saturating step
(maximises log D(x, G(x, z))); D's objective is divided by 2; Adam with learning rate 2e-4 and
beta1 = 0.5. L1 is the mean absolute error per pixel (the authors' code).
The paper's ablation (Table 1) is `pix2pix.gan_weight` = 0 (L1 only, `configs/pix2pix.py:l1`) and
`pix2pix.l1_weight` = 0 (cGAN only, `:cgan`); D is trained in every variant.

Hooks: `translate(state, x, key)` maps A images to B (evaluation scores it against the ground truth:
L1, PSNR, SSIM, the B-domain classifier's accuracy and FID, `ganjax.metrics.translation`; the
periodic samples and `--mode=sample`'s translations.png show input | output | target rows).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import grad_norm, init_player
from ganjax.algorithms.method import Method, Translator
from ganjax.errors import ConfigError, DataError
from ganjax.networks.patchgan import PatchGAN
from ganjax.networks.unet import UNet

ADVERSARIAL = stabilizers.Adversarial(
    features=False, d_layers=False, penalty=False,
    why={"features": "the PatchGAN sows no features to match",
         "penalty": "its PatchGAN's batch norm mixes the samples, which a per-sample gradient penalty cannot allow",
         "d_layers": "its discriminator is the PatchGAN (ganjax.networks.patchgan), not common.discriminator_network"})


def check(config):
  p = config.pix2pix
  if p.l1_weight < 0 or p.gan_weight < 0 or not (p.l1_weight or p.gan_weight):
    raise ConfigError(f"pix2pix.l1_weight and pix2pix.gan_weight must be >= 0 and not both 0, got "
                      f"{p.l1_weight} and {p.gan_weight}")
  if p.dropout_placement not in ("paper", "released"):
    raise ConfigError(f"unknown pix2pix.dropout_placement {p.dropout_placement!r}: paper (the 3 innermost decoder "
                      f"layers, App. 6.1.1) | released (UnetGenerator's 512-channel blocks around the innermost)")


def example_batch(config, train):
  if "a" not in train.element_spec or "b" not in train.element_spec:
    raise DataError(f"pix2pix needs paired data (batches with 'a' and 'b': paired:<dir>, edges:<data>, "
                    f"mnist_edges, fashion_edges); {config.data.name!r} has {', '.join(train.element_spec)}")
  return train.get(np.arange(2))


def init(config, key, example_batch) -> state_lib.TrainState:
  a, b = example_batch["a"], example_batch["b"]
  m = config.model
  g = UNet(b.shape[-1], width=m.width, dropout_layers=config.pix2pix.dropout_layers,
           dropout_placement=config.pix2pix.dropout_placement, conv_impl=m.conv_impl)
  d = PatchGAN(width=m.width, layers=config.pix2pix.patch_layers, conv_impl=m.conv_impl)
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros_like(a)),
             "d": init_player(config, "d", d, kd, jnp.zeros((*a.shape[:-1], a.shape[-1] + b.shape[-1])))}
  fakes = lambda kk, n: (jnp.zeros((n, *a.shape[1:])), jnp.zeros((n, *b.shape[1:])))  # noqa: E731  replay rows' shapes
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 2)))


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d, p = state.g, state.d, state.config.pix2pix
  x, y = batch["a"], batch["b"]
  fake, g_ms = g.apply(g.params, x, train=True, rngs={"dropout": jax.random.fold_in(key, 0)})
  fake_x, fake_y = stab.fakes((x, jax.lax.stop_gradient(fake)), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_in = stab.d_input(jnp.concatenate([x, y], -1), jax.random.fold_in(key, 2))
    fake_in = stab.d_input(jnp.concatenate([fake_x, fake_y], -1), jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in, train=True)
    fake_out, ms = d.apply(params, fake_in, model_state=ms, train=True)
    loss, aux = stab.d_loss(real_out, fake_out)
    loss, reg = stab.d_regularize(0.5 * loss, "d", params)
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)

  def g_objective(params):
    out, ms = g.apply(params, x, model_state=g_ms, train=True, rngs={"dropout": jax.random.fold_in(key, 0)})
    pair = stab.d_input(jnp.concatenate([x, out], -1), jax.random.fold_in(key, 6))
    adversarial = stab.g_loss(lambda: d.apply(d.params, pair, train=True)[0])
    l1 = jnp.mean(jnp.abs(y - out))
    return stab.g_regularize(p.gan_weight * adversarial + p.l1_weight * l1, "g", params), (ms, adversarial, l1)

  (g_loss, (g_ms, g_adv, g_l1)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss,
             "g/adversarial": g_adv, "g/l1": g_l1, "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def translate(state, x, key):
  """G(x, z) for A images x, as the authors test (batches of one image, `model.eval()` not called):
  dropout on, and batch norm on each image's own statistics (the running averages are not touched),
  so that each translation depends on its image and its noise alone. Image i's dropout noise is
  `key` folded with i: an image first in any batch gets the same noise."""
  g = stabilizers.sampler(state)

  def one(image, i):
    return g.apply(g.params, image[None], train=True, rngs={"dropout": jax.random.fold_in(key, i)})[0][0]

  return jax.vmap(one)(x, jnp.arange(x.shape[0]))


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate), adversarial=ADVERSARIAL,
                example_batch=example_batch, check=check)
