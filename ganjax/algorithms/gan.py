"""GAN (Goodfellow et al. 2014) and DCGAN (Radford et al. 2015), and the objectives that only
change the losses: LSGAN, hinge, WGAN and WGAN-GP. One module, one config each.

The objective is Eq. 1 of Goodfellow et al.,
    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],
trained by alternating `gan.d_steps` discriminator updates (Algorithm 1's k; each on its own
real micro-batch and fresh noise) with one generator update. The generator loss is
`gan.loss`: "non_saturating" (the paper's -log D(G(z)), default) or "minimax" (log(1 - D(G(z)))),
from `ganjax.losses.GAN_LOSSES`. DCGAN is the same objective with the convolutional players of
`ganjax.networks.dcgan` and Adam(2e-4, beta1=0.5): see `configs/dcgan.py`.

The same step trains the other objectives of `GAN_LOSSES`: "least_squares" (Mao et al. 2017, Eq. 2),
"hinge", and "wasserstein" (Arjovsky et al. 2017, Algorithm 1: critic weights clipped to
[-`clip`, `clip`] after each critic update, `configs/wgan.py`), with an optional penalty on D
(`gan.penalty`: "gradient" = WGAN-GP, Gulrajani et al. 2017, Algorithm 1, `configs/wgan_gp.py`;
"r1"; "dragan") weighted by `gan.penalty_weight`, and "boundary_seeking" (BGAN, Hjelm et al.
2018, Eq. 8; `configs/bgan.py`; the discrete BGAN is `ganjax.algorithms.bgan`).

Every stabilizer of `ganjax.stabilizers` composes with this step (`ADVERSARIAL` below), through
the `Stabilizers` hooks: the step has no stabilizer branches. Methods that change the step's
structure rather than a loss have their own modules: `unrolled_gan` (Metz et al. 2017) and `gman`
(Durugkar et al. 2017).
"""

from __future__ import annotations

import jax

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import discriminator_network, generator_network, grad_norm, init_player, micro_batches, sample_latent
from ganjax.algorithms.method import Method, Sampler

ADVERSARIAL = stabilizers.Adversarial(d_steps=True)


def rows_per_step(config) -> int:
  return config.batch_size * config.gan.d_steps  # one real micro-batch per D update


def init(config, key, example_batch) -> state_lib.TrainState:
  shape = example_batch["image"].shape[1:]
  g, d = generator_network(config, shape), discriminator_network(config)
  kg, kd, kr = jax.random.split(key, 3)
  players = {"g": init_player(config, "g", g, kg, jax.numpy.zeros((2, config.model.latent_dim))),
             "d": init_player(config, "d", d, kd, jax.numpy.zeros((2, *shape)))}
  fakes = lambda k, n: players["g"](sample_latent(k, n, config.model))  # noqa: E731
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, kr))


def d_objective(stab, d, params, real, fake, key):
  """D's loss on a real and a generated batch (with the stabilizers' regularizers), as a function
  of D's parameters. Returns (loss, (model_state, metrics))."""
  real = stab.d_input(real, jax.random.fold_in(key, 2))
  fake = stab.d_input(fake, jax.random.fold_in(key, 3))
  real_out, ms = d.apply(params, real, train=True)
  fake_out, ms = d.apply(params, fake, model_state=ms, train=True)
  loss, aux = stab.d_loss(real_out, fake_out)
  critic = lambda x: d.apply(params, x, model_state=ms, train=True)[0]  # noqa: E731
  loss, reg = stab.d_regularize(loss, "d", params, critic, real, fake, jax.random.fold_in(key, 1))
  return loss, (ms, {**aux, **reg})


def d_update(stab, g, d, real, key):
  """One discriminator update on `real` and fresh samples of G."""
  fake = jax.lax.stop_gradient(g.apply(g.params, sample_latent(jax.random.fold_in(key, 0), real.shape[0],
                                                               stab.config.model), train=True)[0])
  fake = stab.fakes(fake, jax.random.fold_in(key, 4))
  (loss, (ms, aux)), grads = jax.value_and_grad(d_objective, argnums=2, has_aux=True)(stab, d, d.params, real, fake, key)
  return stab.update("d", d, grads, ms), {"d/loss": loss, "d/grad_norm": grad_norm(grads), **aux}


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  reals = micro_batches(batch["image"], cfg.gan.d_steps)
  n = reals.shape[0]
  # Algorithm 1: k discriminator updates, each on its own real micro-batch and fresh noise (a Python
  # loop unrolled at trace time: XLA:CPU ran the convolutions far slower inside lax.scan).
  keys = jax.random.split(jax.random.fold_in(key, 0), cfg.gan.d_steps)
  for i in range(cfg.gan.d_steps):
    d, d_metrics = d_update(stab, g, d, reals[:, i], keys[i])

  # Then one generator update against the updated discriminator.
  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)

  def g_objective(params):
    fake, ms = g.apply(params, z, train=True)
    fake = stab.d_input(fake, jax.random.fold_in(key, 2))
    real = reals[:, -1]
    loss = stab.g_loss(lambda: d.apply(d.params, fake, train=True)[0],
                       lambda: (stabilizers.features(d, d.params, real)[1], stabilizers.features(d, d.params, fake)[1]))
    return stab.g_regularize(loss, "g", params), ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  return stab.finish(state, {"g": g, "d": d}, {**d_metrics, "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads)})


def generate(state, key, n: int, z=None):
  """n samples from G (batch norm in inference mode; the EMA weights when `gan.ema_decay` > 0);
  pass `z` to decode given latents."""
  z = sample_latent(key, n, state.config.model) if z is None else z
  return stabilizers.sampler(state)(z)


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, density_decoder=True),
                adversarial=ADVERSARIAL, rows_per_step=rows_per_step)
