"""Auxiliary-classifier GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs").

G draws X_fake = G(c, z) for a class c; D outputs both P(S | X) (real or fake) and P(C | X) (a
K-way softmax), from one network with 1 + K outputs. With (Eq. 2-3)
    L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)],
    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)],
D maximises L_S + L_C and G maximises L_C - L_S: both players maximise the class log-likelihood,
of real and of generated images. The source term is `gan.loss` (non-saturating for G by default),
and every stabilizer of `ganjax.stabilizers` composes with it (feature matching replaces G's
source term; a penalty acts on the source output; replay memory keeps (image, label) pairs). `--mode=sample` writes `classes.png` (one row per class) like the conditional GAN.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms import cgan
from ganjax.algorithms.common import discriminator_network, generator_network, grad_norm, init_player
from ganjax.algorithms.method import Method

ADVERSARIAL = stabilizers.Adversarial()


def init(config, key, example_batch) -> state_lib.TrainState:
  shape = example_batch["image"].shape[1:]
  k = config.model.num_classes
  g = generator_network(config, shape)
  d = discriminator_network(config, num_outputs=1 + k)  # [source logit, K class logits]
  kg, kd = jax.random.split(key)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, config.model.latent_dim + k))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)))}
  fakes = lambda kk, n: cgan._fake(players["g"], players["g"].params, kk, n, config, train=False)[:2]  # noqa: E731
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 2)))


def class_nll(out, labels):
  """-E[log P(C = c | X)] from D's outputs (B, 1 + K)."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(out[:, 1:], labels))


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  real, real_y = batch["image"], batch["label"]
  n = real.shape[0]
  fake, fake_y, _ = cgan._fake(g, g.params, jax.random.fold_in(key, 0), n, cfg)
  fake, fake_y = stab.fakes((jax.lax.stop_gradient(fake), fake_y), jax.random.fold_in(key, 4))

  def d_objective(params):
    real_in, fake_in = stab.d_input(real, jax.random.fold_in(key, 2)), stab.d_input(fake, jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in, train=True)
    fake_out, ms = d.apply(params, fake_in, model_state=ms, train=True)
    source, aux = stab.d_loss(real_out[:, 0], fake_out[:, 0])  # -L_S
    cls = class_nll(real_out, real_y) + class_nll(fake_out, fake_y)  # -L_C, real and generated
    aux.update({"d/source": source, "d/class": cls,
                "d/real_class_accuracy": jnp.mean(jnp.argmax(real_out[:, 1:], -1) == real_y)})
    critic = lambda x: d.apply(params, x, model_state=ms, train=True)[0][:, 0]  # noqa: E731
    loss, reg = stab.d_regularize(source + cls, "d", params, critic, real_in, fake_in, jax.random.fold_in(key, 5))
    return loss, (ms, {**aux, **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)

  def g_objective(params):
    x, y, ms = cgan._fake(g, params, jax.random.fold_in(key, 1), n, cfg)
    out = d.apply(d.params, stab.d_input(x, jax.random.fold_in(key, 6)), train=True)[0]
    source = stab.g_loss(lambda: out[:, 0], lambda: (stabilizers.features(d, d.params, real)[1],
                                                      stabilizers.features(d, d.params, x)[1]))
    cls = class_nll(out, y)
    return stab.g_regularize(source + cls, "g", params), (ms, source, cls)

  (g_loss, (g_ms, g_source, g_cls)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss,
             "g/source": g_source, "g/class": g_cls, "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def classify(state, images):
  """D's class prediction for images (its auxiliary classifier)."""
  return jnp.argmax(state.d(images)[:, 1:], axis=-1)


METHOD = Method(init=init, train_step=train_step, sampler=cgan.METHOD.sampler, adversarial=ADVERSARIAL,
                example_batch=cgan.example_batch, config_block=None)  # G, its samples and data are cGAN's
