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
"r1"; "dragan") weighted by `config.penalty_weight`. The stabilizers of `ganjax.stabilizers`
(instance noise, generator EMA, feature matching via `g_objective`, historical averaging) and minibatch discrimination
(`model.minibatch_features`) switch on from config.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax import losses, networks, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import compute_dtype, grad_norm, mean_prob, micro_batches, sample_latent


def _networks(config, sample_shape):
  m = config.model
  g_kw = {"width": m.width, "conv_impl": m.conv_impl} if m.generator == "dcgan" else {"hidden": tuple(m.g_hidden)}
  d_kw = ({"width": m.width, "batch_norm": m.d_batch_norm} if m.discriminator == "dcgan"
          else {"hidden": tuple(m.d_hidden)})
  d_kw.update(minibatch_features=tuple(m.minibatch_features), spectral_norm=m.spectral_norm)
  dtype = compute_dtype(config)
  g = networks.generator(m.generator, out_shape=tuple(sample_shape), output_activation=m.g_output,
                         dtype=dtype, **g_kw)
  d = networks.discriminator(m.discriminator, dtype=dtype, **d_kw)
  return g, d


def check(config):
  from ganjax.errors import ConfigError, choose

  losses.gan_loss(config.loss)
  choose("g_objective", config.g_objective, {"adversarial": 0, "feature_matching": 1})
  choose("penalty", config.penalty, {p: p for p in losses.PENALTIES})
  if config.real_label != 1.0 and config.loss not in losses.SMOOTHABLE:
    raise ConfigError(f"real_label={config.real_label} (label smoothing) needs a loss in {losses.SMOOTHABLE}")
  if config.penalty != "none" and config.model.discriminator == "dcgan" and config.model.d_batch_norm:
    raise ConfigError(f"penalty={config.penalty!r} differentiates D per sample: set model.d_batch_norm=False")


def init(config, key, example_batch) -> state_lib.TrainState:
  check(config)
  sample_shape = example_batch["image"].shape[1:]
  g, d = _networks(config, sample_shape)
  kg, kd = jax.random.split(key)
  z = jnp.zeros((2, config.model.latent_dim))
  x = jnp.zeros((2, *sample_shape))
  players = {
      "g": state_lib.Player.create(g, state_lib.optimizer(config.optim.g), g.init(kg, z, train=False)),
      "d": state_lib.Player.create(d, state_lib.optimizer(config.optim.d), d.init(kd, x, train=False)),
  }
  extra = {"g_ema": players["g"].params} if config.ema_decay else {}
  if config.historical_averaging:  # the mean of each player's past parameters, theta_0 so far
    extra.update({"hist_g": players["g"].params, "hist_d": players["d"].params})
  return state_lib.create(config, players, extra)


def train_step(state, batch, key):
  cfg = state.config
  d_loss_fn, g_loss_fn = losses.gan_loss(cfg.loss)  # D's outputs are logits / critic values
  reals = micro_batches(batch["image"], cfg.d_steps)
  n = reals.shape[0]
  g, d = state.g, state.d
  noise = stabilizers.instance_noise_std(cfg, state.step)  # 0.0 unless instance noise is on

  # Discriminator: k updates, each on its own real micro-batch and fresh noise.
  def d_update(d, real, k):
    fake, _ = g.apply(g.params, sample_latent(jax.random.fold_in(k, 0), n, cfg.model), train=True)
    fake = jax.lax.stop_gradient(fake)
    real = stabilizers.add_instance_noise(real, noise, jax.random.fold_in(k, 2))
    fake = stabilizers.add_instance_noise(fake, noise, jax.random.fold_in(k, 3))

    def loss_fn(params):
      real_out, ms = d.apply(params, real, train=True)
      fake_out, ms = d.apply(params, fake, model_state=ms, train=True)
      loss = d_loss_fn(real_out, fake_out, cfg.real_label)
      aux = {"d/adversarial": loss, "d/real_out": jnp.mean(real_out), "d/fake_out": jnp.mean(fake_out)}
      if cfg.loss in ("non_saturating", "minimax"):  # D's probabilities of real and generated samples
        aux.update({"d/p_real": mean_prob(real_out), "d/p_fake": mean_prob(fake_out)})
      if cfg.penalty != "none":
        f = lambda x: d.apply(params, x, model_state=ms, train=True)[0]  # noqa: E731
        penalty = losses.d_penalty(cfg.penalty, f, real, fake, jax.random.fold_in(k, 1))
        aux["d/penalty"] = penalty
        loss = loss + cfg.penalty_weight * penalty
      if cfg.historical_averaging:
        aux["d/historical"] = stabilizers.historical_penalty(params, state.extra["hist_d"])
        loss = loss + cfg.historical_averaging * aux["d/historical"]
      return loss, (ms, aux)

    (loss, (ms, aux)), grads = jax.value_and_grad(loss_fn, has_aux=True)(d.params)
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

  # Generator: one update against the updated discriminator.
  z = sample_latent(jax.random.fold_in(key, 1), n, cfg.model)

  def g_objective(params):
    fake, ms = g.apply(params, z, train=True)
    fake = stabilizers.add_instance_noise(fake, noise, jax.random.fold_in(key, 2))
    if cfg.g_objective == "feature_matching":  # Salimans et al. 2016, Sec. 3.1
      _, real_f, _ = stabilizers.features(d, d.params, reals[:, -1])
      _, fake_f, _ = stabilizers.features(d, d.params, fake)
      loss = stabilizers.feature_matching_loss(real_f, fake_f)
    else:
      loss = g_loss_fn(d.apply(d.params, fake, train=True)[0])
    if cfg.historical_averaging:
      loss = loss + cfg.historical_averaging * stabilizers.historical_penalty(params, state.extra["hist_g"])
    return loss, ms

  (g_loss, g_ms), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = g.update(g_grads, g_ms)
  metrics = {**d_metrics, "g/loss": g_loss, "g/grad_norm": grad_norm(g_grads)}
  extra = dict(state.extra)
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
