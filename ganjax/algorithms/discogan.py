"""DiscoGAN (Kim et al. 2017, "Learning to Discover Cross-Domain Relations with Generative Adversarial
Networks").

Two generators G_AB: A -> B and G_BA: B -> A (players "g", "f"; encoder-decoders,
`ganjax.networks.autoencoder`: convolutional for images, fully connected for 2-D points) and two
discriminators D_B, D_A ("d_b", "d_a"; `common.discriminator_network`), trained on unpaired data:
two streams (`data.streams.a`, `data.streams.b`). Sec. 3.2's objective (the default):
    x_AB = G_AB(x_A),  x_ABA = G_BA(x_AB)                 (and x_BA, x_BAB the other way)
    L_CONST_A = d(x_ABA, x_A),   L_GAN_B = -E_{x_A}[log D_B(x_AB)]
    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B        (both generators, one loss)
    L_D = L_D_A + L_D_B,  L_D_B = -E_{x_B}[log D_B(x_B)] - E_{x_A}[log(1 - D_B(x_AB))]
with d the mean squared error (`discogan.distance` = "mse", the authors' code; "l1" also) and the
reconstruction terms weighted by `discogan.reconstruction_weight` (1 in the paper; 0 is the
"standard GAN" of its Sec. 4.1 toy experiment, which maps every mode of A onto few modes of B).
The step updates both discriminators on fresh translations, then both generators against them.

The authors' released code (github.com/SKTBrain/DiscoGAN, discogan/image_translation.py and model.py)
trains another recipe, `configs/discogan.py:released` / `:released_images`; each piece is a field:
  * `weighting="rate"`: L_G = sum over the two directions of (1 - r) * adv_B + r * L_CONST_A, the rate
    r = `starting_rate` (0.01) for the first `gan_curriculum` (10,000) iterations, then `default_rate`
    (0.5); "sum" is Sec. 3.2's adv + reconstruction_weight * L_CONST.
  * `feature_matching=0.9`: adv_B = 0.1 * L_GAN_B + 0.9 * FM_B, FM_B = sum over D_B's hidden blocks
    from index `feature_from` (1: their relu2-relu4, every block with batch norm; 2 in their
    angle_pairing.py) of the mean over the block's units of (E_real[h] - E_fake[h])^2 (their
    HingeEmbeddingLoss with target 1 is that mean; `stabilizers.feature_matching_loss(reduction=
    "mean")`); 0 is Sec. 3.2's L_GAN alone.
  * `update_interval=3`: iteration t (the state's step) updates both Ds when t % 3 == 0 and both Gs on
    the other iterations, each against the other players' current weights (1: D then G every step).
  * `d_loss_scale=0.5`: their D loss is 0.5 * BCE(real) + 0.5 * BCE(fake) (it matters with coupled L2).
  * `unit_pixels=True` (images): L_CONST on [0, 1] pixels ((x + 1) / 2), as their sigmoid generators
    output, so the MSE that r balances against the GAN terms is theirs (a quarter of [-1, 1]'s).
  * Adam(2e-4, betas (0.5, 0.999)) with PyTorch's coupled weight decay 1e-5 (`optim.*.weight_decay`).
  * `bottleneck="conv"` (`:images` too): the fully convolutional G of their model.py, strided
    convolutions down to 4x4 and transposed ones back; "dense" puts a `model.latent_dim` code layer
    between them.
Where ganjax departs from the released code: images are 32x32 (`data.image_size`; their 64x64 has one
block more each way, so `feature_from=1` matches two blocks here, three there), G outputs tanh
(their sigmoid), weights are drawn from N(0, 0.02) (PyTorch's default init there) and convolutions
have biases (theirs none), the weight decay skips biases and batch-norm scales (theirs decays every
parameter), batch-norm running averages advance on every iteration from each network's passes in its
own loss (theirs also from D's passes in G's loss), and each step computes both updates and keeps the
one whose turn it is (`common.select`). The paper's toy (Sec. 4.1) has no released code: `:released`
applies the image recipe to ring8 -> grid25 (feature matching on the MLP D's second hidden layer).

Hooks: `translate` (A -> B) and `translate_back` (B -> A), scored in both directions; on the 2-D
mixtures (`configs/discogan.py`, ring8 -> grid25) evaluation reports the modes covered by the
mapped points and how many distinct B modes the 8 A modes are sent to (`ganjax.metrics.translation`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import (compute_dtype, discriminator_network, domain, grad_norm, init_player, select,
                                      to_unit)
from ganjax.algorithms.method import Method, Translator
from ganjax.errors import ConfigError, choose
from ganjax.networks.autoencoder import Autoencoder

ADVERSARIAL = stabilizers.Adversarial(generators=("g", "f"), discriminators=("d_b", "d_a"))
DISTANCES = {"mse": lambda x, y: jnp.mean((x - y) ** 2), "l1": lambda x, y: jnp.mean(jnp.abs(x - y))}
WEIGHTINGS = ("sum", "rate")  # Sec. 3.2's adv + w * L_CONST | the released (1 - r) * adv + r * L_CONST
FEATURE_DISCRIMINATORS = ("mlp", "dcgan")  # the networks that sow their hidden blocks


def check(config):
  p, m = config.discogan, config.model
  choose("discogan.distance", p.distance, DISTANCES)
  choose("discogan.weighting", p.weighting, {w: w for w in WEIGHTINGS})
  choose("discogan.bottleneck", p.bottleneck, {"dense": 0, "conv": 1})
  if p.reconstruction_weight < 0:
    raise ConfigError(f"discogan.reconstruction_weight must be >= 0, got {p.reconstruction_weight}")
  for field in ("starting_rate", "default_rate", "feature_matching"):
    if not 0.0 <= p[field] <= 1.0:
      raise ConfigError(f"discogan.{field} must be in [0, 1], got {p[field]}")
  for field, low in (("gan_curriculum", 0), ("feature_from", 0), ("update_interval", 1)):
    if not isinstance(p[field], int) or p[field] < low:
      raise ConfigError(f"discogan.{field} must be an integer >= {low}, got {p[field]!r}")
  if p.d_loss_scale <= 0:
    raise ConfigError(f"discogan.d_loss_scale must be > 0, got {p.d_loss_scale}")
  if p.feature_matching and m.discriminator not in FEATURE_DISCRIMINATORS:
    raise ConfigError(f"discogan.feature_matching needs model.discriminator in {FEATURE_DISCRIMINATORS} (their "
                      f"hidden blocks), not {m.discriminator!r}")
  if p.bottleneck == "conv" and m.generator != "dcgan":
    raise ConfigError(f"discogan.bottleneck='conv' is the convolutional generator's: model.generator='dcgan', "
                      f"not {m.generator!r}")
  if p.unit_pixels and m.g_output != "tanh":
    raise ConfigError(f"discogan.unit_pixels maps [-1, 1] images to [0, 1]: model.g_output='tanh', not {m.g_output!r}")
  if sorted(config.data.streams) != ["a", "b"]:
    raise ConfigError("discogan trains on two streams, data.streams.a (domain A) and data.streams.b (domain B); "
                      f"this config has {sorted(config.data.streams) or 'none'}")


def example_batch(config, train):
  return {"a": train["a"].get(np.arange(2)), "b": train["b"].get(np.arange(2))}


def init(config, key, example_batch) -> state_lib.TrainState:
  a, b = domain(example_batch["a"], "a"), domain(example_batch["b"], "b")
  m = config.model
  gen = lambda shape: Autoencoder(tuple(shape), kind=m.generator, code_dim=m.latent_dim, width=m.width,  # noqa: E731
                                  hidden=tuple(m.g_hidden), output_activation=m.g_output, conv_impl=m.conv_impl,
                                  bottleneck=config.discogan.bottleneck, dtype=compute_dtype(config))
  d = discriminator_network(config)
  k = jax.random.split(key, 5)
  players = {"g": init_player(config, "g", gen(b.shape[1:]), k[0], jnp.zeros_like(a)),
             "f": init_player(config, "f", gen(a.shape[1:]), k[1], jnp.zeros_like(b)),
             "d_b": init_player(config, "d_b", d, k[2], jnp.zeros_like(b)),
             "d_a": init_player(config, "d_a", d, k[3], jnp.zeros_like(a))}
  fakes = lambda kk, n: (jnp.zeros((n, *b.shape[1:])), jnp.zeros((n, *a.shape[1:])))  # noqa: E731  (x_AB, x_BA) rows
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, k[4]))


def reconstruction_rate(p, step):
  """The released code's r: `starting_rate` for the first `gan_curriculum` iterations, then `default_rate`."""
  return jnp.where(step < p.gan_curriculum, p.starting_rate, p.default_rate)


def _sown_blocks(tree):
  """The first sown "blocks" in an intermediates tree (the MLP's own, the DCGAN trunk's)."""
  if "blocks" in tree:
    return tree["blocks"]
  for child in tree.values():
    found = _sown_blocks(child) if hasattr(child, "items") else None
    if found is not None:
      return found
  return None


def hidden_blocks(d, params, x):
  """(D's output, its hidden blocks' activations as sown, float32) on x, batch norm in training mode."""
  variables = {"params": params, **d.model_state}
  out, new = d.apply_fn(variables, x, train=True, mutable=["intermediates", *d.model_state])
  return out, [h.astype(jnp.float32) for h in _sown_blocks(new["intermediates"]) or ()]


def adversarial_term(stab, p, d, real, fake):
  """G's adversarial term against D: `gan.loss`'s G side (Sec. 3.2), or with `feature_matching` = w the
  released (1 - w) * GAN + w * the feature matching of D's hidden blocks from `feature_from` on.
  Returns (term, feature matching or None)."""
  def features():  # (f of real samples, f of generated ones): `gan.g_objective="feature_matching"`'s last layer
    return stabilizers.features(d, d.params, real)[1], stabilizers.features(d, d.params, fake)[1]

  if not p.feature_matching:
    return stab.g_loss(lambda: d.apply(d.params, fake)[0], features), None
  out, fake_blocks = hidden_blocks(d, d.params, fake)
  real_blocks = hidden_blocks(d, d.params, real)[1]
  if len(fake_blocks) <= p.feature_from:
    raise ConfigError(f"discogan.feature_from={p.feature_from} leaves none of D's {len(fake_blocks)} hidden blocks")
  fm = sum(stabilizers.feature_matching_loss(r, f, "mean")
           for r, f in zip(real_blocks[p.feature_from:], fake_blocks[p.feature_from:]))
  return (1.0 - p.feature_matching) * stab.g_loss(lambda: out, features) + p.feature_matching * fm, fm


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, f, p = state.g, state.f, state.config.discogan
  a, b = domain(batch["a"], "a"), domain(batch["b"], "b")
  dist = DISTANCES[p.distance]
  d_turn = state.step % p.update_interval == 0  # the released code's `iters % update_interval == 0`: Ds only

  def take_turn(turn, updated, old):  # updated on its turns; else the old weights, the new batch-norm averages
    return select(turn, updated, old.replace(model_state=updated.model_state)) if p.update_interval > 1 else updated

  # L_D = L_D_A + L_D_B on this step's translations, each D its own update.
  ab, g_ms = g.apply(g.params, a)
  ba, f_ms = f.apply(f.params, b)
  ab, ba = stab.fakes(jax.lax.stop_gradient((ab[0], ba[0])), jax.random.fold_in(key, 3))

  def d_objective(d, real, fake, name, salt, params):
    real = stab.d_input(real, jax.random.fold_in(key, salt))
    fake = stab.d_input(fake, jax.random.fold_in(key, salt + 1))
    real_out, ms = d.apply(params, real)
    fake_out, ms = d.apply(params, fake, model_state=ms)
    loss, aux = stab.d_loss(real_out, fake_out)
    loss = loss if p.d_loss_scale == 1.0 else p.d_loss_scale * loss
    critic = lambda v: d.apply(params, v, model_state=ms)[0]  # noqa: E731
    loss, reg = stab.d_regularize(loss, name, params, critic, real, fake, jax.random.fold_in(key, salt + 2))
    return loss, (ms, {f"{name}/{k.split('/')[1]}": v for k, v in {**aux, **reg}.items()})

  metrics, ds = {}, {}
  for name, real, fake, salt in (("d_b", b, ab, 10), ("d_a", a, ba, 20)):
    d = state.players[name]
    (loss, (ms, aux)), grads = jax.value_and_grad(functools.partial(d_objective, d, real, fake, name, salt),
                                                  has_aux=True)(d.params)
    ds[name] = take_turn(d_turn, stab.update(name, d, grads, ms), d)
    metrics.update({f"{name}/loss": loss, **aux, f"{name}/grad_norm": grad_norm(grads)})

  # L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B (or the released weighting) against the current Ds.
  rate = reconstruction_rate(p, state.step) if p.weighting == "rate" else None

  def g_objective(params):
    (ab, _), gms = g.apply(params["g"], a, model_state=g_ms)
    (ba, _), fms = f.apply(params["f"], b, model_state=f_ms)
    (aba, _), fms = f.apply(params["f"], ab, model_state=fms)
    (bab, _), gms = g.apply(params["g"], ba, model_state=gms)
    adversarial, fm, aux = 0.0, 0.0, {}
    for name, fake, real, salt in (("d_b", ab, b, 1), ("d_a", ba, a, 2)):
      term, fm_d = adversarial_term(stab, p, ds[name], real, stab.d_input(fake, jax.random.fold_in(key, salt)))
      adversarial, fm = adversarial + term, fm if fm_d is None else fm + fm_d
    pix = to_unit if p.unit_pixels else (lambda x: x)
    const = dist(pix(aba), pix(a)) + dist(pix(bab), pix(b))
    if rate is None:
      loss = adversarial + p.reconstruction_weight * const
    else:
      loss = (1.0 - rate) * adversarial + rate * const
      aux = {"g/rate": rate}
    if p.feature_matching:
      aux["g/feature_matching"] = fm
    loss = stab.g_regularize(stab.g_regularize(loss, "g", params["g"]), "f", params["f"])
    return loss, ((gms, fms), {"g/adversarial": adversarial, "g/reconstruction": const, **aux})

  (g_loss, ((gms, fms), g_aux)), grads = jax.value_and_grad(g_objective, has_aux=True)({"g": g.params, "f": f.params})
  g_turn = jnp.logical_not(d_turn)
  players = {"g": take_turn(g_turn, stab.update("g", g, grads["g"], gms), g),
             "f": take_turn(g_turn, stab.update("f", f, grads["f"], fms), f), **ds}
  metrics.update({"g/loss": g_loss, **g_aux, "g/grad_norm": grad_norm(grads["g"]),
                  "f/grad_norm": grad_norm(grads["f"])})
  return stab.finish(state, players, metrics)


def translate(state, x, key):
  """x_AB = G_AB(x_A) (batch norm in inference mode)."""
  return stabilizers.sampler(state, "g")(x)[0]


def translate_back(state, y, key):
  """x_BA = G_BA(x_B)."""
  return stabilizers.sampler(state, "f")(y)[0]


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate, translate_back),
                adversarial=ADVERSARIAL, example_batch=example_batch, check=check)
