"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks").

Two generators G: A -> B and F: B -> A (players "g", "f"; ResNet-block generators,
`ganjax.networks.resnet_generator`) and two discriminators D_B, D_A ("d_b", "d_a"; 70 x 70 PatchGANs
with instance norm), trained on *unpaired* data: two streams (`data.streams.a`, `data.streams.b`),
each shuffled on its own, of which the step reads the "a" images of the first and the "b" images
of the second (a stream of one-domain data gives its "image"s, `common.domain`). The full objective, Eq. 3 (Eq. 1 in its least-squares form, Sec. 4):
    L(G, F, D_A, D_B) = L_GAN(G, D_B, A, B) + L_GAN(F, D_A, B, A) + lambda * L_cyc(G, F)
    L_GAN(G, D_B)     = E_b[(D_B(b) - 1)^2] + E_a[D_B(G(a))^2]        (D_B minimises; G minimises
                        E_a[(D_B(G(a)) - 1)^2])
    L_cyc(G, F)       = E_a[||F(G(a)) - a||_1] + E_b[||G(F(b)) - b||_1]      (Eq. 2), lambda = 10
plus the identity loss of Sec. 5.2 (Taigman et al. 2017), weighted by identity_weight * lambda
(0.5 * lambda in the authors' code):  L_idt = E_b[||G(b) - b||_1] + E_a[||F(a) - a||_1].
As in the authors' code: L1 is the mean absolute error per pixel; each D's objective is halved;
the generators update first (jointly), then the discriminators, on a history of generated images
(Shrivastava et al. 2017: the core's replay memory, `gan.replay_size` = 50 rows of (G(a), F(b))
pairs, half of each batch drawn from it; at the authors' batch 1 `gan.replay_rows=random` is their
image pool: each row swapped with a stored one with probability 1/2); Adam(2e-4, beta1 0.5), the learning rate constant for
the first half of training and then linearly decayed to 0 (`optim.*.lr_decay`).

`gan.loss` is least_squares by default; ganjax's least-squares losses are Mao et al.'s halved
squares (1/2 E[(D - 1)^2], ...), so the step doubles them to Eq. 1's (then halves D's as the authors
do: D minimises ((D(b) - 1)^2 + D(G(a))^2) / 2); the other losses are used as they are. Hooks: `translate` (A -> B) and `translate_back` (B -> A): evaluation scores both
directions and the cycle reconstructions (`ganjax.metrics.translation`); --mode=translate
[--direction=BtoA] runs either on files.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, domain, grad_norm, init_player
from ganjax.algorithms.method import Method, Translator
from ganjax.errors import ConfigError, DataError
from ganjax.networks.patchgan import PatchGAN
from ganjax.networks.resnet_generator import ResnetGenerator

ADVERSARIAL = stabilizers.Adversarial(
    generators=("g", "f"), discriminators=("d_b", "d_a"), features=False, d_layers=False,
    why={"features": "the PatchGANs sow no features to match",
         "d_layers": "its discriminators are PatchGANs (ganjax.networks.patchgan), not common.discriminator_network"})


def check(config):
  p = config.cyclegan
  if p.cycle_weight < 0 or p.identity_weight < 0:
    raise ConfigError(f"cyclegan.cycle_weight and cyclegan.identity_weight must be >= 0, got "
                      f"{p.cycle_weight} and {p.identity_weight}")
  if sorted(config.data.streams) != ["a", "b"]:
    raise ConfigError("cyclegan trains on two streams, data.streams.a (domain A) and data.streams.b (domain B); "
                      f"this config has {sorted(config.data.streams) or 'none'}")


def example_batch(config, train):
  batch = {"a": train["a"].get(np.arange(2)), "b": train["b"].get(np.arange(2))}
  sa, sb = domain(batch["a"], "a").shape[1:], domain(batch["b"], "b").shape[1:]
  if len(sa) != 3 or len(sb) != 3:
    raise DataError(f"cyclegan translates images; data.streams.a gives {sa} and data.streams.b {sb}")
  if config.cyclegan.identity_weight and sa[-1] != sb[-1]:
    raise DataError(f"the identity loss feeds B images to G: A -> B, but A has {sa[-1]} channels and B {sb[-1]}; "
                    "set --config.cyclegan.identity_weight=0")
  return batch


def init(config, key, example_batch) -> state_lib.TrainState:
  a, b = domain(example_batch["a"], "a"), domain(example_batch["b"], "b")
  m, p = config.model, config.cyclegan
  gen = lambda ch: ResnetGenerator(ch, width=m.width, blocks=p.blocks, dtype=compute_dtype(config))  # noqa: E731
  dis = PatchGAN(width=m.width, layers=p.patch_layers, norm="instance", conv_impl=m.conv_impl, dtype=compute_dtype(config))
  k = jax.random.split(key, 5)
  players = {"g": init_player(config, "g", gen(b.shape[-1]), k[0], jnp.zeros_like(a)),
             "f": init_player(config, "f", gen(a.shape[-1]), k[1], jnp.zeros_like(b)),
             "d_b": init_player(config, "d_b", dis, k[2], jnp.zeros_like(b)),
             "d_a": init_player(config, "d_a", dis, k[3], jnp.zeros_like(a))}
  fakes = lambda kk, n: (jnp.zeros((n, *b.shape[1:])), jnp.zeros((n, *a.shape[1:])))  # noqa: E731  (G(a), F(b)) rows
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, k[4]))


def l1(x, y):
  return jnp.mean(jnp.abs(x - y))


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, f, d_b, d_a, p = state.g, state.f, state.d_b, state.d_a, state.config.cyclegan
  a, b = domain(batch["a"], "a"), domain(batch["b"], "b")
  unhalved = 2.0 if state.config.gan.loss == "least_squares" else 1.0  # Eq. 1's squares; ganjax's are halved

  def g_objective(params):
    fake_b, fake_a = g.apply(params["g"], a)[0], f.apply(params["f"], b)[0]
    rec_a, rec_b = f.apply(params["f"], fake_b)[0], g.apply(params["g"], fake_a)[0]
    adv_g = stab.g_loss(lambda: d_b.apply(d_b.params, stab.d_input(fake_b, jax.random.fold_in(key, 1)))[0])
    adv_f = stab.g_loss(lambda: d_a.apply(d_a.params, stab.d_input(fake_a, jax.random.fold_in(key, 2)))[0])
    cycle = l1(rec_a, a) + l1(rec_b, b)
    identity = (l1(g.apply(params["g"], b)[0], b) + l1(f.apply(params["f"], a)[0], a)) if p.identity_weight else 0.0
    loss = unhalved * (adv_g + adv_f) + p.cycle_weight * (cycle + p.identity_weight * identity)
    loss = stab.g_regularize(stab.g_regularize(loss, "g", params["g"]), "f", params["f"])
    return loss, (fake_b, fake_a, {"g/adversarial": adv_g, "f/adversarial": adv_f, "g/cycle": cycle, "g/identity": identity})

  (g_loss, (fake_b, fake_a, g_aux)), grads = jax.value_and_grad(g_objective, has_aux=True)({"g": g.params, "f": f.params})
  g, f = stab.update("g", g, grads["g"]), stab.update("f", f, grads["f"])
  fake_b, fake_a = stab.fakes(jax.lax.stop_gradient((fake_b, fake_a)), jax.random.fold_in(key, 3))  # the histories

  def d_objective(d, real, fake, name, salt, params):
    real = stab.d_input(real, jax.random.fold_in(key, salt))
    fake = stab.d_input(fake, jax.random.fold_in(key, salt + 1))
    loss, aux = stab.d_loss(d.apply(params, real)[0], d.apply(params, fake)[0])
    critic = lambda v: jnp.mean(d.apply(params, v)[0], axis=(1, 2, 3))  # noqa: E731
    loss, reg = stab.d_regularize(0.5 * unhalved * loss, name, params, critic, real, fake, jax.random.fold_in(key, salt + 2))
    return loss, {f"{name}/{k.split('/')[1]}": v for k, v in {**aux, **reg}.items()}

  metrics = {"g/loss": g_loss, **g_aux, "g/grad_norm": grad_norm(grads["g"]), "f/grad_norm": grad_norm(grads["f"])}
  updated = {"g": g, "f": f}
  for name, d, real, fake, salt in (("d_b", d_b, b, fake_b, 10), ("d_a", d_a, a, fake_a, 20)):
    objective = functools.partial(d_objective, d, real, fake, name, salt)
    (loss, aux), d_grads = jax.value_and_grad(objective, has_aux=True)(d.params)
    updated[name] = stab.update(name, d, d_grads)
    metrics.update({f"{name}/loss": loss, **aux, f"{name}/grad_norm": grad_norm(d_grads)})
  return stab.finish(state, updated, metrics)


def translate(state, x, key):
  """G(a): A images -> B."""
  return stabilizers.sampler(state, "g")(x)


def translate_back(state, y, key):
  """F(b): B images -> A."""
  return stabilizers.sampler(state, "f")(y)


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate, translate_back),
                adversarial=ADVERSARIAL, example_batch=example_batch, check=check)
