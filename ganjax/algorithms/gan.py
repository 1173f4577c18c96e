"""GAN (Goodfellow et al. 2014) and DCGAN (Radford et al. 2015), and the objectives that only
change the losses: LSGAN, hinge, WGAN and WGAN-GP. One module, one config each.

The objective is Eq. 1 of Goodfellow et al.,
    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],
trained by alternating `config.d_steps` discriminator updates (Algorithm 1's k; each on its own
real micro-batch and fresh noise) with one generator update. The generator loss is
`config.loss`: "non_saturating" (the paper's -log D(G(z)), default) or "minimax" (log(1 - D(G(z)))),
from `ganjax.losses.GAN_LOSSES`. DCGAN is the same objective with the convolutional players of
`ganjax.networks.dcgan` and Adam(2e-4, beta1=0.5): see `configs/dcgan.py`.

The same step trains the other objectives of `GAN_LOSSES`: "least_squares" (Mao et al. 2017, Eq. 2),
"hinge", and "wasserstein" (Arjovsky et al. 2017, Algorithm 1: critic weights clipped to
[-`clip`, `clip`] after each critic update, `configs/wgan.py`), with an optional penalty on D
(`config.penalty`: "gradient" = WGAN-GP, Gulrajani et al. 2017, Algorithm 1, `configs/wgan_gp.py`;
"r1"; "dragan") weighted by `config.penalty_weight`, and "boundary_seeking" (BGAN, Hjelm et al.
2018, Eq. 8; `configs/bgan.py`; the discrete BGAN is `ganjax.algorithms.bgan`).

The stabilizers of `ganjax.stabilizers` switch on from config: instance noise, generator EMA,
feature matching (`g_objective`), historical averaging, replay memory (`replay_size`), unrolled
discriminators (`unrolled_steps`: Metz et al. 2017, Eq. 4-6 -- G's gradient is the total derivative
of f(theta_G, theta_D^K(theta_G, theta_D)), while D itself takes the first of those K steps, which is
exactly its ordinary update), discriminator ensembles (`num_discriminators`, `ensemble_softness`:
GMAN, Durugkar et al. 2017), and the layers of `ganjax.networks` (minibatch discrimination, spectral
and virtual batch norm).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import (discriminator_network, generator_network, grad_norm, mean_prob, micro_batches,
                                     sample_latent)

SHARDED_EXTRA = ("replay",)  # the replay buffer's rows are split over the devices
SUPPORTS_STABILIZERS = True  # reads every field of ganjax.train.STABILIZER_DEFAULTS


def _networks(config, sample_shape):
  m = config.model
  d_kw = {"minibatch_features": tuple(m.minibatch_features), "spectral_norm": m.spectral_norm}
  if m.discriminator == "dcgan":
    d_kw["virtual_batch_norm"] = m.d_virtual_batch_norm
  return generator_network(config, sample_shape), discriminator_network(config, **d_kw)


def check(config):
  from ganjax.errors import ConfigError, choose

  losses.gan_loss(config.loss)
  choose("g_objective", config.g_objective, {"adversarial": 0, "feature_matching": 1})
  choose("penalty", config.penalty, {p: p for p in losses.PENALTIES})
  m = config.model
  if config.real_label != 1.0 and config.loss not in losses.SMOOTHABLE:
    raise ConfigError(f"real_label={config.real_label} (label smoothing) needs a loss in {losses.SMOOTHABLE}")
  if (config.penalty != "none" and m.discriminator == "dcgan" and m.d_batch_norm
      and not m.d_virtual_batch_norm):
    raise ConfigError(f"penalty={config.penalty!r} differentiates D per sample: set model.d_batch_norm=False")
  if not 0.0 <= config.replay_fraction <= 1.0 or config.replay_size < 0:
    raise ConfigError(f"replay_fraction must be in [0, 1] and replay_size >= 0, got "
                      f"{config.replay_fraction}, {config.replay_size}")
  if config.replay_size and config.replay_size < config.batch_size:
    raise ConfigError(f"replay_size={config.replay_size} is smaller than one batch ({config.batch_size})")
  if config.num_discriminators < 1 or config.unrolled_steps < 0:
    raise ConfigError("num_discriminators must be >= 1 and unrolled_steps >= 0")
  if config.unrolled_steps:
    for bad, why in ((config.d_steps > 1, "d_steps > 1"), (config.penalty != "none", "a penalty"),
                     (config.replay_size > 0, "replay memory"), (config.num_discriminators > 1, "an ensemble")):
      if bad:
        raise ConfigError(f"unrolled_steps={config.unrolled_steps} is not implemented together with {why}")
  if config.num_discriminators > 1:
    if config.penalty != "none" or config.g_objective == "feature_matching":
      raise ConfigError("a discriminator ensemble is not implemented with a penalty or feature matching")
  if m.d_virtual_batch_norm:
    if m.discriminator != "dcgan":
      raise ConfigError("model.d_virtual_batch_norm needs model.discriminator='dcgan'")
    if m.d_virtual_batch_norm > config.batch_size:
      raise ConfigError(f"model.d_virtual_batch_norm={m.d_virtual_batch_norm} exceeds batch_size={config.batch_size}")


def init(config, key, example_batch) -> state_lib.TrainState:
  check(config)
  sample_shape = example_batch["image"].shape[1:]
  g, d = _networks(config, sample_shape)
  kg, kd, kr = jax.random.split(key, 3)
  z = jnp.zeros((2, config.model.latent_dim))
  x = jnp.zeros((2, *sample_shape))
  g_player = state_lib.Player.create(g, state_lib.optimizer(config.optim.g), g.init(kg, z, train=False))
  d_tx = state_lib.optimizer(config.optim.d)
  if config.num_discriminators > 1:  # N copies stacked on a leading axis, each from its own key
    variables = stabilizers.ensemble_init(d, kd, config.num_discriminators, x, train=False)
    d_player = state_lib.Player.create(d, d_tx, variables, apply_fn=stabilizers.EnsembleApply(d.apply))
  else:
    d_player = state_lib.Player.create(d, d_tx, d.init(kd, x, train=False))
  players = {"g": g_player, "d": d_player}
  extra = {"g_ema": g_player.params} if config.ema_decay else {}
  if config.historical_averaging:  # the mean of each player's past parameters, theta_0 so far
    extra.update({"hist_g": g_player.params, "hist_d": d_player.params})
  if config.replay_size:  # the buffer starts full of the initial generator's samples
    extra["replay"] = g_player(sample_latent(kr, config.replay_size, config.model))
  return state_lib.create(config, players, extra)


def discriminator_loss(state, d, params, model_state, real, fake, key, noise):
  """D's loss on a real and a generated batch: the objective (summed over an ensemble's members),
  plus the penalty and historical averaging. Returns (loss, (model_state, metrics))."""
  cfg = state.config
  d_loss_fn = losses.gan_loss(cfg.loss)[0]  # D's outputs are logits / critic values
  real = stabilizers.add_instance_noise(real, noise, jax.random.fold_in(key, 2))
  fake = stabilizers.add_instance_noise(fake, noise, jax.random.fold_in(key, 3))
  real_out, ms = d.apply(params, real, model_state=model_state, train=True)
  fake_out, ms = d.apply(params, fake, model_state=ms, train=True)
  if cfg.num_discriminators > 1:  # (N, B) outputs: each member minimises its own loss
    loss = jnp.sum(jax.vmap(d_loss_fn, (0, 0, None))(real_out, fake_out, cfg.real_label))
  else:
    loss = d_loss_fn(real_out, fake_out, cfg.real_label)
  aux = {"d/adversarial": loss, "d/real_out": jnp.mean(real_out), "d/fake_out": jnp.mean(fake_out)}
  if cfg.loss in ("non_saturating", "minimax", "boundary_seeking"):  # D's probabilities of real and generated samples
    aux.update({"d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out)})
  if cfg.penalty != "none":
    f = lambda x: d.apply(params, x, model_state=ms, train=True)[0]  # noqa: E731
    penalty = losses.d_penalty(cfg.penalty, f, real, fake, jax.random.fold_in(key, 1))
    aux["d/penalty"] = penalty
    loss = loss + cfg.penalty_weight * penalty
  if cfg.historical_averaging:
    aux["d/historical"] = stabilizers.historical_penalty(params, state.extra["hist_d"])
    loss = loss + cfg.historical_averaging * aux["d/historical"]
  return loss, (ms, aux)


def generator_loss(state, d, g_params, z, key, noise, real):
  """G's loss against the discriminator player `d` (the updated one, or its unrolled copy).
  Returns (loss, G's new model state)."""
  cfg = state.config
  g_loss_fn = losses.gan_loss(cfg.loss)[1]
  fake, ms = state.g.apply(g_params, z, train=True)
  fake = stabilizers.add_instance_noise(fake, noise, jax.random.fold_in(key, 2))
  if cfg.g_objective == "feature_matching":  # Salimans et al. 2016, Sec. 3.1
    _, real_f, _ = stabilizers.features(d, d.params, real)
    _, fake_f, _ = stabilizers.features(d, d.params, fake)
    loss = stabilizers.feature_matching_loss(real_f, fake_f)
  elif cfg.num_discriminators > 1:  # GMAN: the soft mean of the members' generator losses
    loss = stabilizers.soft_mean(jax.vmap(g_loss_fn)(d.apply(d.params, fake, train=True)[0]), cfg.ensemble_softness)
  else:
    loss = g_loss_fn(d.apply(d.params, fake, train=True)[0])
  if cfg.historical_averaging:
    loss = loss + cfg.historical_averaging * stabilizers.historical_penalty(g_params, state.extra["hist_g"])
  return loss, ms


def unrolled_discriminator(state, g_params, real, key, noise=0.0):
  """theta_D^K of Metz et al. (Eq. 5): `state.d` after K = `unrolled_steps` optimizer steps on the
  batch and noise of its own first update this step (so the first unrolled step *is* that update),
  as a differentiable function of G's parameters."""
  cfg = state.config
  fake = state.g.apply(g_params, sample_latent(jax.random.fold_in(key, 0), real.shape[0], cfg.model), train=True)[0]

  def loss_fn(params, model_state):
    loss, (ms, _) = discriminator_loss(state, state.d, params, model_state, real, fake, key, noise)
    return loss, ms

  return stabilizers.unroll(state.d, loss_fn, cfg.unrolled_steps, cfg.clip)


def train_step(state, batch, key):
  cfg = state.config
  reals = micro_batches(batch["image"], cfg.d_steps)
  n = reals.shape[0]
  g, d = state.g, state.d
  extra = dict(state.extra)
  noise = stabilizers.instance_noise_std(cfg, state.step)  # 0.0 unless instance noise is on
  if cfg.model.d_virtual_batch_norm:  # the reference batch: the first real images of the first step
    ref = d.model_state["vbn"]["reference"]
    first = batch["image"][:cfg.model.d_virtual_batch_norm]
    d = d.replace(model_state={**d.model_state, "vbn": {"reference": jnp.where(state.step == 0, first, ref)}})
    state = state.with_players(d=d)

  # Discriminator: k updates, each on its own real micro-batch and fresh noise.
  def d_update(d, real, k):
    fake, _ = g.apply(g.params, sample_latent(jax.random.fold_in(k, 0), n, cfg.model), train=True)
    fake = jax.lax.stop_gradient(fake)
    if cfg.replay_size:  # part of the fakes from the replay memory; fresh ones replace old entries
      fake, extra["replay"] = stabilizers.replay_mix(extra["replay"], fake, cfg.replay_fraction, jax.random.fold_in(k, 4))
    (loss, (ms, aux)), grads = jax.value_and_grad(discriminator_loss, argnums=2, has_aux=True)(
        state, d, d.params, d.model_state, real, fake, k, noise)
    d = d.update(grads, ms)
    if cfg.clip:  # WGAN: clip every critic weight after the update
      d = d.replace(params=jax.tree.map(lambda p: jnp.clip(p, -cfg.clip, cfg.clip), d.params))
    metrics = {"d/loss": loss, "d/grad_norm": grad_norm(grads), **aux}
    if cfg.loss == "wasserstein":  # the critic's estimate of W(P_r, P_g): the WGAN training curve
      metrics["d/wasserstein"] = aux["d/real_out"] - aux["d/fake_out"]
    return d, metrics

  # A Python loop, unrolled at trace time: XLA:CPU ran the DCGAN convolutions far slower inside a
  # lax.scan/while loop when we tried one (keep d_steps small; compile time grows with it).
  keys = jax.random.split(jax.random.fold_in(key, 0), cfg.d_steps)
  for i in range(cfg.d_steps):
    d, d_metrics = d_update(d, reals[:, i], keys[i])

  # Generator: one update against the updated discriminator (or against theta_D^K when unrolled).
  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)

  def g_objective(params):
    d_for_g = unrolled_discriminator(state, params, reals[:, 0], keys[0], noise) if cfg.unrolled_steps else d
    return generator_loss(state, d_for_g, params, z, key, noise, reals[:, -1])

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = g.update(g_grads, g_ms)
  metrics = {**d_metrics, "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads)}
  if cfg.ema_decay:
    extra["g_ema"] = stabilizers.ema_update(extra["g_ema"], g.params, cfg.ema_decay)
  if cfg.historical_averaging:  # step + 1 values (theta_0 .. theta_step) are in the means so far
    count = (state.step + 1).astype(jnp.float32)
    extra["hist_g"] = stabilizers.running_mean_update(extra["hist_g"], g.params, count)
    extra["hist_d"] = stabilizers.running_mean_update(extra["hist_d"], d.params, count)
  if cfg.instance_noise:
    metrics["d/instance_noise"] = jnp.asarray(noise, jnp.float32)
  return state.replace(step=state.step + 1, extra=extra).with_players(g=g, d=d), metrics


def generate(state, key, n: int, z=None):
  """n samples from G (batch norm in inference mode; the EMA weights when `ema_decay` > 0);
  pass `z` to decode given latents."""
  z = sample_latent(key, n, state.config.model) if z is None else z
  params = state.extra.get("g_ema", state.g.params)
  return state.g.apply(params, z, train=False)[0]
