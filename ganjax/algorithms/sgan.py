"""Semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 5;
Odena 2016): a K+1-class discriminator that sees labels for only N training examples.

D outputs K logits l_1..l_K; the (K+1)-th, "generated" class has its logit fixed at 0, so
D(x) = Z(x) / (Z(x) + 1) with Z(x) = sum_k exp l_k(x) is the probability that x is real. With
LSE = log Z (Sec. 5),
    L_supervised   = -E_{x,y ~ labeled} log p(y | x, y < K+1)          (softmax cross-entropy)
    L_unsupervised = -E_{x ~ data} [LSE(x) - softplus(LSE(x))] + E_{z} softplus(LSE(G(z))),
D minimises their sum; G is trained by feature matching on D's last hidden layer (Sec. 3.1,
`gan.g_objective="feature_matching"`, this config's default), or with `"adversarial"` on the
non-saturating -log D(G(z)) = softplus(-LSE(G(z))). D's loss is this K+1-class loss, so `gan.loss`
and label smoothing do not apply; the other stabilizers of `ganjax.stabilizers` compose (a gradient
penalty acts on LSE(x), the logit of "real").

The labeled set is `sgan.num_labeled` training examples (100 by default), balanced over the K
classes, chosen once from the seed and stored in the train state (`extra["labeled"]`), from which
each step draws `sgan.labeled_batch` pairs (`sgan.labeled_draw`: with replacement, or a permutation:
the released code's batches hold each of the 100 once). The unlabeled stream is the ordinary data pipeline, and
the train step never reads its labels (tested). `test_accuracy` at evaluation is D's argmax-class
accuracy on the held-out images — with `sgan.d_average` > 0, of a running average of D's parameters,
as the released code tests (openai/improved-gan: a <- a + 1e-4 (theta - a)).

The config's networks are the paper's MNIST model (`ganjax.networks.salimans`: weight-normalised
D with Gaussian noise layers and a data-dependent initialisation — on `sgan.init_images` random
training images, the code's 500, or with 0 on the labeled set; G with batch norm). D's noise layers
draw from the rng "noise" this step passes (any other D ignores it); feature matching compares D's
last hidden layer with its noise, as the code does, on D's unlabeled batch or, with
`sgan.fm_batch="second"` (the code's), on a second batch of as many rows (`rows_per_step`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import data, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import (discriminator_network, generator_network, grad_norm, init_player, micro_batches,
                                     sample_latent)
from ganjax.algorithms.method import Classifier, Method, Sampler
from ganjax.errors import ConfigError, choose

ADVERSARIAL = stabilizers.Adversarial(objective=False, why={
    "objective": "its discriminator loss is the K+1-class loss of Salimans et al. (Sec. 5)"})


def labeled_indices(labels, num_labeled: int, num_classes: int, seed: int):
  """`num_labeled` indices into `labels`, num_labeled / K per class, drawn from the seed."""
  if num_labeled % num_classes:
    raise ConfigError(f"sgan.num_labeled={num_labeled} is not a multiple of the {num_classes} classes")
  rng = np.random.default_rng([seed, 7])
  per_class = num_labeled // num_classes
  out = []
  for k in range(num_classes):
    idx = np.flatnonzero(labels == k)
    if len(idx) < per_class:
      raise ConfigError(f"class {k} has {len(idx)} training examples, fewer than the {per_class} to label")
    out.append(rng.choice(idx, per_class, replace=False))
  return np.sort(np.concatenate(out))


def example_batch(config, train):
  """The labeled set: the only labels the method ever sees; with `sgan.init_images` = N > 0 also N
  random training images ("init_image", their labels unread) for D's data-dependent initialisation."""
  data.require_labels(train, "the semi-supervised GAN")
  labels = train.get(np.arange(train.size))["label"]
  out = train.get(labeled_indices(labels, config.sgan.num_labeled, config.model.num_classes, config.seed))
  n = config.sgan.init_images
  if n:
    if n > train.size:
      raise ConfigError(f"sgan.init_images={n} is more than the {train.size} training images")
    pick = np.sort(np.random.default_rng([config.seed, 13]).permutation(train.size)[:n])
    out = {**out, "init_image": train.get(pick)["image"]}
  return out


def rows_per_step(config) -> int:
  """Unlabeled rows per step: D's batch, and with `sgan.fm_batch="second"` a second one for G's
  feature matching (the released code's trainx_unl2)."""
  return config.batch_size * (2 if config.sgan.fm_batch == "second" else 1)


def init(config, key, example_batch) -> state_lib.TrainState:
  draw = config.sgan.labeled_draw
  choose("sgan.labeled_draw", draw, LABELED_DRAWS)
  choose("sgan.fm_batch", config.sgan.fm_batch, FM_BATCHES)
  if draw == "permutation" and config.sgan.labeled_batch > config.sgan.num_labeled:
    raise ConfigError(f"sgan.labeled_draw='permutation' needs sgan.labeled_batch={config.sgan.labeled_batch} "
                      f"<= sgan.num_labeled={config.sgan.num_labeled}")
  shape = example_batch["image"].shape[1:]
  g = generator_network(config, shape)
  salimans = config.model.discriminator == "salimans"  # sgan.noisy_init: its init pass sees D's noise, as the code's
  d = discriminator_network(config, num_outputs=config.model.num_classes,
                            **({"noisy_init": bool(config.sgan.noisy_init)} if salimans else {}))
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim))),
             # Salimans et al.'s weight-normalised D: data-dependent initialisation on the labeled images
             # (or on sgan.init_images random training images, as the released code does)
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)),
                              init_data=jnp.asarray(example_batch.get("init_image", example_batch["image"])))}
  labeled = {"image": jnp.asarray(example_batch["image"]), "label": jnp.asarray(example_batch["label"], jnp.int32)}
  fakes = lambda k, n: players["g"](sample_latent(k, n, config.model))  # noqa: E731
  extra = stabilizers.init_extra(config, players, ADVERSARIAL, fakes, jax.random.fold_in(key, 2))
  if config.sgan.d_average:  # the released code's running average of D's parameters, used at test time
    extra["d_average"] = jax.tree.map(jnp.zeros_like, players["d"].params)
  return state_lib.create(config, players, {"labeled": labeled, **extra})


def unsupervised_loss(real_logits, fake_logits):
  """-E log D(x) - E log(1 - D(G(z))) with D = Z / (Z + 1), Z = sum exp(logits)."""
  lse_real = jax.nn.logsumexp(real_logits, axis=-1)
  lse_fake = jax.nn.logsumexp(fake_logits, axis=-1)
  return -jnp.mean(lse_real - jax.nn.softplus(lse_real)) + jnp.mean(jax.nn.softplus(lse_fake))


LABELED_DRAWS = {"replacement": "each row drawn from the labeled set at random, with replacement",
                 "permutation": "the labeled set in a fresh random order, without replacement (with "
                                "labeled_batch = num_labeled every labeled example once per step: the released code)"}


FM_BATCHES = {"same": "G matches the moments of D's unlabeled batch of the step",
              "second": "G matches those of a second unlabeled batch (the released code's trainx_unl2)"}


def labeled_rows(key, batch: int, pool: int, draw: str):
  """Which labeled examples a step trains on: `batch` indices into the pool of `pool`."""
  if draw == "permutation":  # batch <= pool (checked at init)
    return jax.random.permutation(key, pool)[:batch]
  return jax.random.randint(key, (batch,), 0, pool)


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  unlabeled = matched = batch["image"]  # batch["label"] is never read: the labels come from extra["labeled"]
  if cfg.sgan.fm_batch == "second":  # row pairs: D's unlabeled row, G's feature-matching row
    pairs = micro_batches(batch["image"], 2)
    unlabeled, matched = pairs[:, 0], pairs[:, 1]
  n = unlabeled.shape[0]
  pool = state.extra["labeled"]
  pick = labeled_rows(jax.random.fold_in(key, 2), cfg.sgan.labeled_batch, pool["label"].shape[0],
                      cfg.sgan.labeled_draw)
  lab_x, lab_y = pool["image"][pick], pool["label"][pick]
  fake = jax.lax.stop_gradient(g.apply(g.params, sample_latent(jax.random.fold_in(key, 0), n, cfg.model))[0])
  fake = stab.fakes(fake, jax.random.fold_in(key, 4))

  noise = lambda i: {"rngs": {"noise": jax.random.fold_in(key, 100 + i)}}  # noqa: E731  (D's Gaussian-noise layers, if any)

  def d_objective(params):
    lab_out, ms = d.apply(params, stab.d_input(lab_x, jax.random.fold_in(key, 3)), train=True, **noise(0))
    real_in, fake_in = stab.d_input(unlabeled, jax.random.fold_in(key, 5)), stab.d_input(fake, jax.random.fold_in(key, 6))
    real_out, ms = d.apply(params, real_in, model_state=ms, train=True, **noise(1))
    fake_out, ms = d.apply(params, fake_in, model_state=ms, train=True, **noise(2))
    sup = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(lab_out, lab_y))
    unsup = unsupervised_loss(real_out, fake_out)
    acc = jnp.mean(jnp.argmax(lab_out, -1) == lab_y)
    critic = lambda x: jax.nn.logsumexp(d.apply(params, x, model_state=ms, train=True, **noise(3))[0], axis=-1)  # noqa: E731
    loss, reg = stab.d_regularize(sup + cfg.sgan.unsupervised_weight * unsup, "d", params, critic, real_in, fake_in,
                                  jax.random.fold_in(key, 7))
    return loss, (ms, {"d/supervised": sup, "d/unsupervised": unsup, "d/labeled_accuracy": acc, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)
  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)

  def g_objective(params):  # feature matching against the updated D (or -log D(G(z)))
    x, ms = g.apply(params, z)
    x = stab.d_input(x, jax.random.fold_in(key, 8))
    loss = stab.g_loss(lambda: jax.nn.logsumexp(d.apply(d.params, x, train=True, **noise(4))[0], axis=-1),
                       lambda: (stabilizers.features(d, d.params, matched, **noise(5))[1],
                                stabilizers.features(d, d.params, x, **noise(6))[1]))
    return stab.g_regularize(loss, "g", params), ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss,
             "g/grad_norm": grad_norm(g_grads)}
  state, metrics = stab.finish(state, {"g": g, "d": d}, metrics)
  if cfg.sgan.d_average:  # a <- a + rate (theta - a), from a = 0 (the code: rate 1e-4)
    rate = cfg.sgan.d_average
    average = jax.tree.map(lambda a, p: a + rate * (p - a), state.extra["d_average"], d.params)
    state = state.replace(extra={**state.extra, "d_average": average})
  return state, metrics


def test_params(state):
  """D's parameters for classifying held-out images: with `sgan.d_average` > 0 the running average,
  divided by 1 - (1 - rate)^t (its weights sum to that: a bias correction the code, which averages
  over 180,000 steps, does not need), else D's own."""
  if not state.config.sgan.d_average:
    return state.d.params
  total = 1.0 - (1.0 - state.config.sgan.d_average)**state.step.astype(jnp.float32)
  return jax.tree.map(lambda a: a / jnp.maximum(total, 1e-12), state.extra["d_average"])


def predict_class(state, images):
  return jnp.argmax(state.d.apply(test_params(state), images, train=False)[0], axis=-1)


def generate(state, key, n: int, z=None):
  z = sample_latent(key, n, state.config.model) if z is None else z
  return stabilizers.sampler(state)(z)


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, density_decoder=True),
                classifier=Classifier(predict_class), adversarial=ADVERSARIAL, rows_per_step=rows_per_step,
                example_batch=example_batch)
