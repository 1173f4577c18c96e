"""SimGAN's refiner (Shrivastava et al. 2017, "Learning from Simulated and Unsupervised Images through
Adversarial Training").

A refiner R_theta (player "r": a stride-1 ResNet, `ResnetGenerator` with no down-sampling: a 3x3
convolution of `model.width` filters, `simgan.blocks` ResNet blocks (4 in the paper), then, as the
paper's Sec. 3.1, a 1x1 convolution to the image's channels, un-normalised; tanh keeps the refined
image in the data's [-1, 1]) maps a synthetic image x (the labelled source stream) to a refined one
x~ = R(x); a discriminator D_phi (player "d", `networks.adaptation.PatchDiscriminator`) outputs for
every local patch the probability that it is refined (Sec. 2.2, the local adversarial loss: the
cross-entropy summed over the patches). Eq. 2 and Eq. 4 (psi the identity, "||.||_1" summed over
the pixels):
    L_D(phi)   = -sum_i log D(x~_i) - sum_j log(1 - D(y_j))          y_j real (the unlabelled target)
    L_R(theta) = sum_i [ -log(1 - D(R(x_i))) + lambda ||R(x_i) - x_i||_1 ]
each a sum over the patches of an image and a mean over the batch; lambda = `simgan.self_reg`. D
learns from a history of refined images (Sec. 2.3: the core's replay memory, `gan.replay_size`, of
which half of every D batch comes, `gan.replay_fraction` = 0.5). Algorithm 1: each step takes
K_g = `simgan.refiner_steps` R updates, each on a fresh synthetic minibatch, then one (K_d = 1) D
update on another synthetic minibatch refined by the updated R and a real one (`rows_per_step`:
the step reads K_g + 1 minibatches of each stream; K_g of the target's go unused). Before it, as
the paper's implementation details (Sec. 3.1): R is trained on the self-regularisation alone for
`simgan.pretrain_r` steps, then D alone for `simgan.pretrain_d` steps, R held fixed.

The authors released no code; the reference is the paper. Departures: the refiner's normalisation
(`simgan.norm`, batch norm by default; the paper names none: `"none"`), Adam for every player, and
the sizes of `configs/simgan.py`.

The paper's protocol for digits (Sec. 3.1 for gaze): a classifier trained on refined synthetic images
is tested on real ones. Here the task classifier (player "t", `networks.adaptation.Classifier`) learns
alongside, on R's current refinements of D's synthetic minibatch and their labels (stop-gradient: it
never shapes R), and `target/test_accuracy` is its accuracy on the real held-out images; the same
network trained on the raw synthetic digits is `configs/dann.py:source_only` on the same streams
(`:source_only:simgan` with this classifier's recipe). The step reads only the source's images and
labels and the target's images (tested). Hooks: `translate` (x -> R(x): --mode=sample's synthetic |
refined rows, --mode=translate on files, and evaluation's FID of the refinements against real images).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms import adaptation
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player, micro_batches, select
from ganjax.algorithms.method import Classifier, Method, Translator
from ganjax.errors import ConfigError
from ganjax.networks.adaptation import PatchDiscriminator
from ganjax.networks.resnet_generator import ResnetGenerator

ADVERSARIAL = stabilizers.Adversarial(
    generators=("r",), objective=False, features=False, penalty=False, d_layers=False,
    why={"objective": "its adversarial loss is the paper's cross-entropy summed over local patches (Eq. 2, 4)",
         "features": "its patch discriminator sows no features to match",
         "penalty": "its step has no per-sample critic to penalise",
         "d_layers": "its discriminator is SimGAN's patch network (ganjax.networks.adaptation)"})


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
                      dtype=compute_dtype(config), out_kernel=1)
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


def rows_per_step(config) -> int:
  """Rows of each stream per step: K_g fresh synthetic minibatches, one per refiner update, and one
  more for D's update (Algorithm 1); D's real minibatch is one `batch_size` slice of the target's."""
  return config.batch_size * (config.simgan.refiner_steps + 1)


def minibatches(batch, k: int):
  """The step's k minibatches: (synthetic images, their labels) as (B, k, ...) and D's real images."""
  x, y = adaptation.source(batch)
  return micro_batches(x, k), micro_batches(y, k), micro_batches(adaptation.target(batch), k)[:, k - 1]


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  s = state.config.simgan
  r0, d, t = state.r, state.d, state.t
  k = s.refiner_steps + 1
  xs, ys, real = minibatches(batch, k)
  adversarial_on = state.step >= s.pretrain_r + s.pretrain_d  # Algorithm 1, after both pretrainings
  d_on = state.step >= s.pretrain_r
  r_on = ~d_on | adversarial_on  # R waits while D pretrains

  def r_objective(params, ms, x, noise_key):
    refined, ms = r0.apply(params, x, model_state=ms)
    out = d.apply(d.params, stab.d_input(refined, noise_key))[0]
    adversarial = patch_sum(optax.sigmoid_binary_cross_entropy(out, jnp.zeros_like(out)))  # -log(1 - D(R(x)))
    reg = self_regularization(refined, x)
    loss = jnp.where(adversarial_on, adversarial, 0.0) + s.self_reg * reg
    return stab.g_regularize(loss, "r", params), (ms, adversarial, reg)

  r = r0
  for i in range(s.refiner_steps):  # K_g refiner updates, each on its own synthetic minibatch
    (r_loss, (r_ms, r_adv, r_reg)), r_grads = jax.value_and_grad(r_objective, has_aux=True)(
        r.params, r.model_state, xs[:, i], jax.random.fold_in(jax.random.fold_in(key, 1), i))
    r = stab.update("r", r, r_grads, r_ms)
  r = select(r_on, r, r0)
  x, y = xs[:, k - 1], ys[:, k - 1]  # D's synthetic minibatch, refined by the current R
  refined = jax.lax.stop_gradient(r.apply(r.params, x)[0])
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


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate, streams=adaptation.STREAMS),
                classifier=Classifier(predict_class, streams=adaptation.STREAMS), adversarial=ADVERSARIAL,
                rows_per_step=rows_per_step, example_batch=example_batch, check=check)
