"""PixelDA (Bousmalis et al. 2017, "Unsupervised Pixel-Level Domain Adaptation with Generative
Adversarial Networks"), after the authors' released code (tensorflow/models,
research/domain_adaptation/pixel_domain_adaptation) and its MNIST -> MNIST-M hparams.

A generator G(x^s, z) (player "g", `networks.adaptation.NoiseConditioned`: z ~ U[-1, 1]^10 projected
to one extra image channel, a stride-1 ResNet, tanh) maps labelled source images to target-looking
ones; a discriminator D (player "d", `ConvDiscriminator`: dropout and Gaussian noise after every
layer) tells them from real target images; a task classifier T (player "t", `TaskTower`) learns
the source labels on source and adapted images. Eq. 1-4:
    min_{G,T} max_D  alpha L_d(D, G) + beta L_t(G, T) + gamma L_c(G)                            (Eq. 1)
    L_d = E_{x^t}[log D(x^t)] + E_{x^s,z}[log(1 - D(G(x^s, z)))]                                (Eq. 2)
    L_t = E_{x^s,y^s,z}[-y^s . log T(G(x^s, z)) - y^s . log T(x^s)]                              (Eq. 3)
    L_c = E_{x^s,z}[ 1/k ||(x^s - G(x^s, z)) o m||^2 - 1/k^2 ((x^s - G(x^s, z))^T m)^2 ]        (Eq. 4)
with m a foreground mask and k its pixel count (`masked_pmse`; m here the source digit's stroke,
x^s > 0). Sec. 3.1 alternates two steps, as the released `d_step_loss` / `g_step_loss` do:
  D's step (theta_D, theta_T):  d_weight * [BCE(D(x^t), 1) + BCE(D(G(x^s, z)), 0)]
                                + t_weight * [CE(T_s(x^s), y^s) + CE(T_t(G(x^s, z)), y^s)]
  G's step (theta_G):           g_weight * BCE(D(G(x^s, z)), 1)
                                + task_weight * [CE(T_s(x^s), y^s) + CE(T_t(G(x^s, z)), y^s)]
                                + content_weight * L_c
(BCE the sigmoid cross-entropy, D's real label 1 and fake label 0; G's term the non-saturating
-log D(G), `gan.loss`, as the released code; `gan.loss=minimax` is Eq. 2's log(1 - D(G)) as written).
D and T update on the same batch and G(x^s, z), then G against the updated D and T.

Follows the released code: the weights of its MNIST -> MNIST-M hparams (`d_weight` = 0.1356 =
domain_loss_weight, `g_weight` = 0.01132 = style_transfer_loss_weight, `task_weight` = 0.01010 =
task_loss_in_g_weight, `t_weight` = 1 = source/transferred_task_loss_weight); T updated in D's
step; T's private first layer per domain (`TaskTower`: T_s for source images, T_t for adapted and
target images, the released `source_task_classifier` / `transferred_task_classifier` scopes, T_t
scoring the target at evaluation); D without noise on its input image (discriminator_image_noise
False), 3x3 strided convolutions, TF-Slim's batch norm, N(0, 0.02) weights; G's noise path (fully
connected, batch norm, ReLU, one channel), first layer (conv, ReLU, no batch norm), residual blocks
and 1x1 tanh output layer; Adam(1e-3, beta1 0.5), batch 32; L_c off
(transferred_similarity_loss_weight 0 for MNIST -> MNIST-M).
Where the paper and the released code differ, both are here: `task_private` (True: the released
private first layers; False: Eq. 3's one T for both), and d_weight / g_weight (the released code's
two weights; Eq. 1's single alpha: set them equal). Also as the released code's training ops:
each gradient tensor clipped at norm 5 on its own (`optim.grad_clip_by=tensor`, TF-Slim's
clip_gradient_norm) and the rate x 0.95 every 10,000 updates of a player (the released 20,000 global
steps, one D and one G op each; `optim.lr_decay_rate`, `lr_decay_steps`).
Departs from the released code: D and G see the same batch and z in a step (the released D and G
ops each draw their own batch and noise); T's fully connected layers (`Head`) keep flax's initialisers. The
released hparams declare weight_decay = 1e-5, but its train ops never add the regularisation losses
(`create_train_op` gets the bare step losses), so none by default here; `optim.<player>.weight_decay
= 1e-5` adds it (the same L2 on weights, coupled with Adam).

Hooks: `translate` (x^s -> G(x^s, z): --mode=sample's source | adapted rows, --mode=translate,
evaluation's FID of the adapted images and, with target labels, DTN's transfer metric), and
`predict_class` (T_t: `target/test_accuracy`, the paper's Table 1 figure).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms import adaptation
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player
from ganjax.algorithms.method import Classifier, Method, Translator
from ganjax.errors import ConfigError
from ganjax.networks.adaptation import ConvDiscriminator, Head, NoiseConditioned

ADVERSARIAL = stabilizers.Adversarial(
    features=False, penalty=False, d_layers=False,
    why={"features": "its discriminator sows no features to match",
         "penalty": "its discriminator's batch norm mixes the samples",
         "d_layers": "its discriminator is PixelDA's own (ganjax.networks.adaptation)"})
DOMAINS = ("source", "target")  # T's private first layers: source images | adapted and target images


class TaskTower(nn.Module):
  """T, the released `mnist` task tower (the DANN MNIST network with SAME padding): conv 5x5 32,
  ReLU, max-pool 2 -- private, one copy per domain of `DOMAINS`, when `private` -- then the shared
  conv 5x5 48, ReLU, max-pool 2 and `Head` (fully connected 100 - 100 - classes). Convolution
  weights from N(0, `init_std`)."""
  num_classes: int = 10
  private: bool = True
  init_std: float = 0.02
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, domain: str = "target", train: bool = True):
    if domain not in DOMAINS:
      raise ValueError(f"TaskTower's domain must be one of {DOMAINS}, got {domain!r}")
    conv = lambda ch, name=None: nn.Conv(ch, (5, 5), padding="SAME", kernel_init=nn.initializers.normal(  # noqa: E731
        self.init_std), dtype=self.dtype, name=name)
    firsts = {d: conv(32, f"{d}_conv") for d in DOMAINS} if self.private else dict.fromkeys(DOMAINS, conv(32))
    if self.private and self.is_initializing():  # both private layers get parameters
      firsts[DOMAINS[0] if domain == DOMAINS[1] else DOMAINS[1]](x.astype(self.dtype))
    pool = lambda h: nn.max_pool(nn.relu(h), (2, 2), (2, 2))  # noqa: E731
    h = pool(conv(48)(pool(firsts[domain](x.astype(self.dtype)))))
    return Head(self.num_classes)(h.reshape((h.shape[0], -1)).astype(jnp.float32), train)


def check(config):
  adaptation.check_streams(config)
  p = config.pixelda
  if min(p.d_weight, p.g_weight, p.task_weight, p.t_weight, p.content_weight) < 0 or p.noise_dim < 1:
    raise ConfigError("pixelda's loss weights must be >= 0 and pixelda.noise_dim >= 1")
  if min(p.d_noise, p.d_dropout, p.init_std) < 0 or p.d_dropout >= 1:
    raise ConfigError("pixelda.d_noise and pixelda.init_std must be >= 0 and pixelda.d_dropout in [0, 1)")


def example_batch(config, train):
  return adaptation.example_batch(config, train, "pixelda")


def networks(config, channels: int):
  """(G, D, T) of the config."""
  m, p, dtype = config.model, config.pixelda, compute_dtype(config)
  g = NoiseConditioned(channels, width=m.width, blocks=p.blocks, init_std=p.init_std, dtype=dtype)
  d = ConvDiscriminator(1, width=p.d_width, noise=p.d_noise, dropout=p.d_dropout, input_noise=p.d_image_noise,
                        strided_kernel=3, init_std=p.init_std, slim_norm=True, dtype=dtype)
  t = TaskTower(m.num_classes, private=p.task_private, init_std=p.init_std, dtype=dtype)
  return g, d, t


def init(config, key, example_batch) -> state_lib.TrainState:
  x = adaptation.images(example_batch["source"], "source")
  g, d, t = networks(config, x.shape[-1])
  k = jax.random.split(key, 4)
  players = {"g": init_player(config, "g", g, k[0], jnp.zeros_like(x), jnp.zeros((len(x), config.pixelda.noise_dim))),
             "d": init_player(config, "d", d, k[1], jnp.zeros_like(x)),
             "t": init_player(config, "t", t, k[2], jnp.zeros_like(x))}
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


def task_terms(t, params, x, generated, y):
  """Eq. 3's cross-entropies: T_s on the source images and T_t on G's; (their sum, metrics)."""
  logits_s = t.apply(params, x, domain="source")[0]
  logits_g = t.apply(params, generated, domain="target")[0]
  source, adapted = adaptation.task_loss(logits_s, y), adaptation.task_loss(logits_g, y)
  return source + adapted, {"task_source": source, "task_adapted": adapted,
                            "accuracy_generated": adaptation.accuracy(logits_g, y)}


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  p = state.config.pixelda
  g, d, t = state.g, state.d, state.t
  x, y = adaptation.source(batch)
  real = adaptation.target(batch)
  z = noise(jax.random.fold_in(key, 0), len(x), p.noise_dim)
  adapted = jax.lax.stop_gradient(g.apply(g.params, x, z)[0])  # G's batch statistics move in G's step only
  fake = stab.fakes(adapted, jax.random.fold_in(key, 1))
  d_rngs = lambda s: {"noise": jax.random.fold_in(key, s), "dropout": jax.random.fold_in(key, s + 1)}  # noqa: E731

  def d_objective(params):
    real_out, ms = d.apply(params, stab.d_input(real, jax.random.fold_in(key, 2)), rngs=d_rngs(10))
    fake_out, ms = d.apply(params, stab.d_input(fake, jax.random.fold_in(key, 3)), model_state=ms, rngs=d_rngs(20))
    loss, aux = stab.d_loss(real_out, fake_out)
    loss, reg = stab.d_regularize(p.d_weight * loss, "d", params)
    return loss, (ms, {**aux, **reg})

  def t_objective(params):  # D's step: T learns the source labels on x^s and on G(x^s, z) as they are now
    task, aux = task_terms(t, params, x, adapted, y)
    return p.t_weight * task, {f"t/{k}": v for k, v in aux.items()}

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  (t_loss, t_aux), t_grads = jax.value_and_grad(t_objective, has_aux=True)(t.params)
  d, t = stab.update("d", d, d_grads, d_ms), t.update(t_grads)
  mask = (x > 0).astype(x.dtype)  # the source digit's stroke

  def g_objective(params):
    generated, ms = g.apply(params, x, z)
    adversarial = stab.g_loss(lambda: d.apply(d.params, stab.d_input(generated, jax.random.fold_in(key, 4)),
                                              rngs=d_rngs(30))[0])
    task, _ = task_terms(t, t.params, x, generated, y)
    content = masked_pmse(x, generated, mask) if p.content_weight else 0.0
    loss = p.g_weight * adversarial + p.task_weight * task + p.content_weight * content
    aux = {"g/adversarial": adversarial, "g/task": task, "g/content": content}
    return stab.g_regularize(loss, "g", params), (ms, aux)

  (g_loss, (g_ms, g_aux)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "t/loss": t_loss, **t_aux,
             "t/grad_norm": grad_norm(t_grads), "g/loss": g_loss, **g_aux, "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d, "t": t}, metrics)


def translate(state, x, key):
  """G(x^s, z), z ~ U[-1, 1]: source images -> target-looking ones."""
  g = stabilizers.sampler(state)
  return g(x, noise(key, len(x), state.config.pixelda.noise_dim))


def predict_class(state, x):
  """T on target-domain images: through T_t, the first layer of the adapted images."""
  return jnp.argmax(state.t(x, domain="target"), -1)


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate, streams=adaptation.STREAMS),
                classifier=Classifier(predict_class, streams=adaptation.STREAMS), adversarial=ADVERSARIAL,
                example_batch=example_batch, check=check)
