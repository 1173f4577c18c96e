"""SimGAN's refiner (Shrivastava et al. 2017, "Learning from Simulated and Unsupervised Images through
Adversarial Training").

A refiner R_theta (player "r": a stride-1 ResNet, `ResnetGenerator` with no down-sampling: 3x3
convolution of `model.width` filters, `simgan.blocks` = 4 ResNet blocks, a 3x3 convolution to the
image's channels, tanh) maps a synthetic image x (the labelled source stream) to a refined one
x~ = R(x); a discriminator D_phi (player "d", `networks.adaptation.PatchDiscriminator`) outputs for
every local patch the probability that it is refined (Sec. 2.2, the local adversarial loss: the
cross-entropy summed over the patches). Eq. 2 and Eq. 4 (psi the identity, "||.||_1" summed over
the pixels):
    L_D(phi)   = -sum_i log D(x~_i) - sum_j log(1 - D(y_j))          y_j real (the unlabelled target)
    L_R(theta) = sum_i [ -log(1 - D(R(x_i))) + lambda ||R(x_i) - x_i||_1 ]
each a sum over the patches of an image and a mean over the batch; lambda = `simgan.self_reg`. D
learns from a history of refined images (Sec. 2.3: the core's replay memory, `gan.replay_size`, of
which half of every D batch comes, `gan.replay_fraction` = 0.5). Algorithm 1: R is first trained on
the self-regularisation alone for `simgan.pretrain_r` steps, then D alone for `simgan.pretrain_d`,
then each step takes `simgan.refiner_steps` = K_g R updates and one (K_d = 1) D update.

The paper's protocol for digits (Sec. 3.1 for gaze): a classifier trained on refined synthetic images
is tested on real ones. Here the task classifier (player "t", `networks.adaptation.Classifier`) learns
alongside, on R's current refinements of the source batch and their labels (stop-gradient: it never
shapes R), and `target/test_accuracy` is its accuracy on the real held-out images; the same network
trained on the raw synthetic digits is `configs/dann.py:source_only` on the same streams. The step
never reads the target's labels (tested). Hooks: `translate` (x -> R(x): --mode=sample's synthetic |
refined rows, --mode=translate on files, and evaluation's FID of the refinements against real images).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms import adaptation
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player, select
from ganjax.errors import ConfigError
from ganjax.networks.adaptation import PatchDiscriminator
from ganjax.networks.resnet_generator import ResnetGenerator

CONFIG_BLOCK = "simgan"
CLASS_MATCHING = "identity"
ADVERSARIAL = stabilizers.Adversarial(
    generators=("r",), objective=False, features=False, penalty=False, d_layers=False,
    why={"objective": "its adversarial loss is the paper's cross-entropy summed over local patches (Eq. 2, 4)",
         "features": "its patch discriminator sows no features to match",
         "penalty": "its step has no per-sample critic to penalise",
         "d_layers": "its discriminator is SimGAN's patch network (ganjax.networks.adaptation)"})
SHARDED_EXTRA = stabilizers.SHARDED_EXTRA


def check(config):
  adaptation.check_streams(config)
  s = config.simgan
  if s.self_reg < 0 or s.pretrain_r < 0 or s.pretrain_d < 0 or s.refiner_steps < 1:
    raise ConfigError("simgan.self_reg, pretrain_r and pretrain_d must be >= 0 and simgan.refiner_steps >= 1")


def example_batch(config, train):
  return adaptation.example_batch(config, train, "simgan")


def init(config, key, example_batch) -> state_lib.TrainState:
  x = adaptation.images(example_batch["source"], "source")
  m, s = config.model, config.simgan
  r = ResnetGenerator(x.shape[-1], width=m.width, blocks=s.blocks, downsamplings=0, norm=s.norm, edge_kernel=3,
                      dtype=compute_dtype(config))
  k = jax.random.split(key, 4)
  players = {"r": init_player(config, "r", r, k[0], jnp.zeros_like(x)),
             "d": init_player(config, "d", PatchDiscriminator(s.d_width, dtype=compute_dtype(config)), k[1],
                              jnp.zeros_like(x)),
             "t": init_player(config, "t", adaptation.task_network(config), k[2], jnp.zeros_like(x))}
  fakes = lambda kk, n: jnp.zeros((n, *x.shape[1:]))  # noqa: E731  the history of refined images
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, k[3]))


def patch_sum(loss):
  """A per-patch loss (B, h, w, 1) -> its sum over each image's patches, averaged over the batch."""
  return jnp.mean(jnp.sum(loss, axis=(1, 2, 3)))


def self_regularization(refined, x):
  """||R(x) - x||_1 summed over each image's pixels, averaged over the batch."""
  return jnp.mean(jnp.sum(jnp.abs(refined - x), axis=tuple(range(1, x.ndim))))


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  s = state.config.simgan
  r, d, t = state.r, state.d, state.t
  x, y = adaptation.source(batch)
  real = adaptation.target(batch)
  adversarial_on = state.step >= s.pretrain_r + s.pretrain_d  # Algorithm 1, after both pretrainings
  d_on = state.step >= s.pretrain_r

  def r_objective(params, ms):
    refined, ms = r.apply(params, x, model_state=ms)
    out = d.apply(d.params, stab.d_input(refined, jax.random.fold_in(key, 1)))[0]
    adversarial = patch_sum(optax.sigmoid_binary_cross_entropy(out, jnp.zeros_like(out)))  # -log(1 - D(R(x)))
    reg = self_regularization(refined, x)
    loss = jnp.where(adversarial_on, adversarial, 0.0) + s.self_reg * reg
    return stab.g_regularize(loss, "r", params), (ms, refined, adversarial, reg)

  for i in range(s.refiner_steps):  # K_g refiner updates
    (r_loss, (r_ms, refined, r_adv, r_reg)), r_grads = jax.value_and_grad(r_objective, has_aux=True)(r.params, r.model_state)
    r = stab.update("r", r, r_grads, r_ms)
  refined = jax.lax.stop_gradient(refined)
  history = stab.fakes(refined, jax.random.fold_in(key, 2))

  def d_objective(params):
    real_out = d.apply(params, stab.d_input(real, jax.random.fold_in(key, 3)))[0]
    fake_out = d.apply(params, stab.d_input(history, jax.random.fold_in(key, 4)))[0]
    loss = (patch_sum(optax.sigmoid_binary_cross_entropy(fake_out, jnp.ones_like(fake_out)))  # -log D(x~)
            + patch_sum(optax.sigmoid_binary_cross_entropy(real_out, jnp.zeros_like(real_out))))  # -log(1 - D(y))
    loss, reg = stab.d_regularize(loss, "d", params)
    return loss, {"d/p_refined_real": jnp.mean(jax.nn.sigmoid(real_out)),
                  "d/p_refined_refined": jnp.mean(jax.nn.sigmoid(fake_out)), **reg}

  (d_loss, d_aux), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = select(d_on, stab.update("d", d, d_grads), d)

  def t_objective(params):
    out = t.apply(params, refined)[0]
    return adaptation.task_loss(out, y), adaptation.accuracy(out, y)

  (t_loss, t_acc), t_grads = jax.value_and_grad(t_objective, has_aux=True)(t.params)
  t = t.update(t_grads)
  metrics = {"r/loss": r_loss, "r/adversarial": r_adv, "r/self_reg": r_reg, "r/grad_norm": grad_norm(r_grads),
             "d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "t/loss": t_loss, "t/train_accuracy": t_acc}
  return stab.finish(state, {"r": r, "d": d, "t": t}, metrics)


def translate(state, x, key):
  """R(x): synthetic images -> refined ones."""
  return stabilizers.sampler(state, "r")(x)


def predict_class(state, x):
  return jnp.argmax(state.t(x), -1)
