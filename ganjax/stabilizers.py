"""The adversarial objective and the stabilizers, implemented once for every adversarial method.

An adversarial method declares what its step offers (`Adversarial`, its record's `adversarial`),
and its step calls the stabilizers through one helper, `Stabilizers(state, key)`: every call below
is the identity when its stabilizer is off, so a method's step reads the same with all of them off.

  stab = Stabilizers(state, key, ADVERSARIAL)   # at the top of the step, then:

  hook (stab.)            stabilizers it applies                       config.gan fields
  d_loss(real_out, fake_out)     the objective, one-sided label smoothing     loss, real_label
  g_loss(out_fn, features_fn)    G's side of the objective, or feature        loss, g_objective
                                 matching (Salimans et al. 2016, Sec. 3.1)
  d_input(x, key)                instance noise (Sønderby et al. 2016)        instance_noise(_steps)
  fakes(fake, key)               replay memory (Shrivastava et al. 2017)      replay_size, replay_fraction, replay_rows
  d_regularize(loss, ...)        a gradient penalty (WGAN-GP, R1, DRAGAN),    penalty, penalty_weight,
                                 historical averaging (Salimans, Sec. 3.3)    historical_averaging
  g_regularize(loss, ...)        historical averaging                         historical_averaging
  update(name, player, ...)      the optimizer step; weight clipping for D    clip
  finish(state, players, ...)    generator EMA (Yazıcı et al. 2019), the      ema_decay, historical_averaging
                                 historical means; step + 1
  sampler(state)                 G with its EMA weights, for generate          ema_decay

The layers the `gan` block switches on -- spectral normalisation (Miyato et al. 2018, one power
iteration per update), minibatch discrimination (Salimans et al. 2016, Sec. 3.2) and virtual batch
norm (Sec. 3.4: in G, `g_virtual_batch_norm`; in D, an extension) -- are in `ganjax.networks.layers`,
built by `ganjax.algorithms.common.discriminator_network` / `generator_network` for any method that
builds its players there; `D_LAYER_OPTIONS` names the discriminators that have each. Several D updates per G update (`d_steps`, Algorithm 1's k) are the step's
own loop, for methods that declare it.

`check(config, caps)` refuses, with one line, a stabilizer the method's declared capabilities or
its networks do not allow; and `finish` refuses (at trace time) a stabilizer that is switched on
but that the step never applied, so a new method can never ignore one silently.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import jax
import jax.numpy as jnp

from ganjax import losses
from ganjax.errors import ConfigError, choose


@dataclasses.dataclass(frozen=True)
class Adversarial:
  """What an adversarial method's step offers the stabilizers (its record's `adversarial`).

  generators: the G-side players (historical averaging); the first is the one sampled (EMA).
  discriminators: the D-side players (weight clipping, historical averaging).
  objective: D's and G's losses are `gan.loss` through `d_loss` / `g_loss`, so the loss can be
    chosen and label smoothing applies. False: the method's loss is its own (the reason is `why`).
  features: G's adversarial term can be replaced by feature matching on D's sown features.
  penalty: the step hands `d_regularize` a per-sample critic, so gradient penalties apply.
  d_layers: D is built by `common.discriminator_network` (spectral norm, minibatch
    discrimination, virtual batch norm in D).
  d_steps: the step takes `gan.d_steps` D updates per G update.
  why: {capability: the reason it is missing}, for the error messages.
  """

  generators: tuple = ("g",)
  discriminators: tuple = ("d",)
  objective: bool = True
  features: bool = True
  penalty: bool = True
  d_layers: bool = True
  d_steps: bool = False
  why: dict = dataclasses.field(default_factory=dict)


_OFF = {"loss": "non_saturating", "real_label": 1.0, "g_objective": "adversarial", "penalty": "none", "d_steps": 1,
        "spectral_norm": False, "minibatch_features": (), "d_virtual_batch_norm": 0,
        "feature_matching_reduction": "sum"}


def _changed(g, field):
  off = _OFF[field]
  value = g[field]
  return tuple(value) != off if isinstance(off, tuple) else value != off


# The discriminator layers the `gan` block switches on, and the networks that have each
# (`ganjax.algorithms.common.discriminator_network` builds them).
D_LAYER_OPTIONS = {"spectral_norm": ("mlp", "dcgan", "resnet", "infogan"),
                   "minibatch_features": ("mlp", "dcgan", "resnet", "infogan"),
                   "d_virtual_batch_norm": ("dcgan",)}


def d_mixes_samples(config):
  """Why D's output for one sample depends on the others in its batch (None when it does not):
  what a per-sample gradient penalty cannot allow."""
  m, g = config.model, config.gan
  if tuple(g.minibatch_features):
    return "minibatch discrimination (gan.minibatch_features) compares the samples of a batch"
  if m.discriminator == "infogan":
    return "the InfoGAN discriminator has batch norm"
  if m.discriminator == "dcgan" and m.d_batch_norm and not g.d_virtual_batch_norm:
    return "its batch norm mixes the samples: set model.d_batch_norm=False"
  return None


def check(config, caps: Optional[Adversarial], method_name: str):
  """Stops with one line on a `gan` setting this method or its networks cannot honour."""
  if "gan" not in config:
    return
  if caps is None:
    raise ConfigError(f"config.gan holds adversarial settings, but algorithm {method_name!r} is not adversarial")
  g, m = config.gan, config.model

  def refuse(fields, capability, default):
    if getattr(caps, capability):
      return
    for field in fields:
      if _changed(g, field):
        why = caps.why.get(capability, default)
        raise ConfigError(f"config.gan.{field}={g[field]!r} does not apply to algorithm {method_name!r}: {why}")

  losses.gan_loss(g.loss)
  choose("g_objective", g.g_objective, {"adversarial": 0, "feature_matching": 1})
  choose("gan.feature_matching_reduction", g.feature_matching_reduction, FM_REDUCTIONS)
  choose("penalty", g.penalty, {p: p for p in losses.PENALTIES})
  if not isinstance(g.d_steps, int) or g.d_steps < 1:
    raise ConfigError(f"config.gan.d_steps must be an integer >= 1, got {g.d_steps!r}")
  refuse(("loss", "real_label"), "objective", "its discriminator loss is its own, not gan.loss")
  refuse(("g_objective", "feature_matching_reduction"), "features", "its generator's loss has no feature-matching form here")
  refuse(("penalty",), "penalty", "its step has no per-sample critic to penalise")
  refuse(("spectral_norm", "minibatch_features", "d_virtual_batch_norm"), "d_layers",
         "its discriminator is not a `model.discriminator` network")
  refuse(("d_steps",), "d_steps", "its step takes one discriminator update per generator update")
  if g.real_label != 1.0 and g.loss not in losses.SMOOTHABLE:
    raise ConfigError(f"gan.real_label={g.real_label} (label smoothing) needs a loss in {losses.SMOOTHABLE}, "
                      f"not {g.loss!r}")
  if g.penalty != "none":
    mixes = d_mixes_samples(config)
    if mixes:
      raise ConfigError(f"gan.penalty={g.penalty!r} differentiates D per sample, but {mixes}")
  if not 0.0 <= g.replay_fraction <= 1.0 or g.replay_size < 0:
    raise ConfigError(f"gan.replay_fraction must be in [0, 1] and gan.replay_size >= 0, got "
                      f"{g.replay_fraction}, {g.replay_size}")
  choose("gan.replay_rows", g.replay_rows, {"fixed": 0, "random": 0})
  if g.replay_size and g.replay_rows == "fixed" and g.replay_fraction and not replay_count(g.replay_fraction, config.batch_size):
    raise ConfigError(f"gan.replay_fraction={g.replay_fraction} of a batch of {config.batch_size} is no row: set "
                      "gan.replay_rows=random (each row from the memory with that probability, CycleGAN's pool)")
  if g.replay_size and g.replay_size < config.batch_size:
    raise ConfigError(f"gan.replay_size={g.replay_size} is smaller than one batch ({config.batch_size})")
  for field, networks in D_LAYER_OPTIONS.items():
    if _changed(g, field) and m.discriminator not in networks:
      raise ConfigError(f"gan.{field} needs model.discriminator in {networks}, not {m.discriminator!r}")
  if g.d_virtual_batch_norm > config.batch_size:
    raise ConfigError(f"gan.d_virtual_batch_norm={g.d_virtual_batch_norm} exceeds batch_size={config.batch_size}")
  if g.g_virtual_batch_norm and m.generator != "dcgan":
    raise ConfigError(f"gan.g_virtual_batch_norm needs model.generator='dcgan', not {m.generator!r}")


# ---------------------------------------------------------------- the step's helper


class Stabilizers:
  """One train step's view of the objective and the stabilizers (see the module docstring)."""

  def __init__(self, state, key, caps: Adversarial):
    self.config, self.g, self.caps = state.config, state.config.gan, caps
    self.step, self.key = state.step, key
    self.extra = dict(state.extra)
    self.metrics = {}
    self.applied = set()
    self.noise = instance_noise_std(self.g, self.config.num_steps, state.step)  # 0.0 when off

  # -- the objective
  def d_loss(self, real_out, fake_out):
    """(D's `gan.loss` on its outputs for real and generated samples, with the real target
    `gan.real_label`; the metrics of the objective)."""
    self.applied.add("objective")
    loss = losses.gan_loss(self.g.loss)[0](real_out, fake_out, self.g.real_label)
    aux = {"d/adversarial": loss, "d/real_out": jnp.mean(real_out), "d/fake_out": jnp.mean(fake_out)}
    if self.g.loss in ("non_saturating", "minimax", "boundary_seeking"):  # D's probabilities of real and generated
      aux.update({"d/p_real": jnp.mean(jax.nn.sigmoid(real_out)), "d/p_fake": jnp.mean(jax.nn.sigmoid(fake_out))})
    if self.g.loss == "wasserstein":  # the critic's estimate of W(P_r, P_g): the WGAN training curve
      aux["d/wasserstein"] = aux["d/real_out"] - aux["d/fake_out"]
    return loss, aux

  def g_loss(self, out_fn: Callable, features_fn: Optional[Callable] = None):
    """G's adversarial term: `gan.loss`'s generator side of `out_fn()` (D's output for G's
    samples), or with `g_objective="feature_matching"` ||E f(x) - E f(G(z))||^2 of
    `features_fn()` = (f of real samples, f of generated ones). Only the chosen one is traced."""
    self.applied.add("objective")
    if self.g.g_objective == "feature_matching":
      self.applied.add("feature_matching")
      return feature_matching_loss(*features_fn(), self.g.feature_matching_reduction)
    return losses.gan_loss(self.g.loss)[1](out_fn())

  # -- D's inputs
  def d_input(self, x, key):
    """x with instance noise (std annealed linearly from `gan.instance_noise` to 0)."""
    self.applied.add("instance_noise")
    return add_instance_noise(x, self.noise, key)

  def fakes(self, fake, key):
    """D's batch of generated samples (a pytree of rows, e.g. (images, labels)), a fraction
    `gan.replay_fraction` of it from the replay memory, which the fresh samples then update; until
    the memory is full, the fresh samples themselves, which fill it (`replay_mix`)."""
    self.applied.add("replay")
    if not self.g.replay_size:
      return fake
    filled = self.extra.get(REPLAY_FILLED)  # absent: a memory that started full
    fake, self.extra["replay"] = replay_mix(self.extra["replay"], fake, self.g.replay_fraction, key, self.g.replay_rows,
                                            filled)
    if filled is not None:
      self.extra[REPLAY_FILLED] = replay_filled(filled, jax.tree.leaves(fake)[0].shape[0], self.g.replay_size)
    return fake

  # -- regularizers of the losses
  def d_regularize(self, loss, name: str, params, critic: Optional[Callable] = None, real=None, fake=None, key=None):
    """D's loss plus `penalty_weight` * the gradient penalty of `critic` (inputs -> one output per
    sample) at `real` / `fake`, plus historical averaging. Returns (loss, metrics)."""
    aux = {}
    if critic is not None:
      self.applied.add("penalty")
      if self.g.penalty != "none":
        aux["d/penalty"] = losses.d_penalty(self.g.penalty, critic, real, fake, key)
        loss = loss + self.g.penalty_weight * aux["d/penalty"]
    loss, hist = self._historical(loss, name, params)
    if hist is not None:
      aux[f"{name}/historical"] = hist
    return loss, aux

  def g_regularize(self, loss, name: str, params):
    """G's loss plus historical averaging."""
    return self._historical(loss, name, params)[0]

  def _historical(self, loss, name, params):
    self.applied.add(f"historical:{name}")
    if not self.g.historical_averaging:
      return loss, None
    hist = historical_penalty(params, self.extra[f"hist_{name}"])
    return loss + self.g.historical_averaging * hist, hist

  # -- updates
  def waits(self, name: str):
    """Discriminator `name` does not train in this step (a pre-training phase that leaves it
    untouched, as SRGAN's MSE phase): its hooks -- the objective, instance noise, the replay memory,
    clipping, the penalty, its historical mean -- wait with it and count as applied."""
    self.applied.update({"objective", "instance_noise", "replay", "clip", "penalty", f"historical:{name}"})

  def update(self, name: str, player, grads, model_state=None):
    """The player's optimizer step; a discriminator's weights are then clipped to +-`gan.clip`."""
    player = player.update(grads, model_state)
    if name in self.caps.discriminators:
      self.applied.add("clip")
      if self.g.clip:
        player = player.replace(params=jax.tree.map(lambda p: jnp.clip(p, -self.g.clip, self.g.clip), player.params))
    return player

  def finish(self, state, players: dict, metrics: dict):
    """The next state (step + 1, these players, the extras updated: G's EMA and the historical
    means) and the step's metrics. Refuses a stabilizer the step never applied."""
    caps = self.caps
    self._check_applied(caps)
    metrics = dict(metrics)
    if self.g.ema_decay:
      for name in caps.generators:
        self.extra[ema_key(name)] = ema_update(self.extra[ema_key(name)], players[name].params, self.g.ema_decay)
    if self.g.historical_averaging:  # step + 1 values (theta_0 .. theta_step) are in the means so far
      count = (state.step + 1).astype(jnp.float32)
      for name in caps.generators + caps.discriminators:
        self.extra[f"hist_{name}"] = running_mean_update(self.extra[f"hist_{name}"], players[name].params, count)
    if self.g.instance_noise:
      metrics["d/instance_noise"] = jnp.asarray(self.noise, jnp.float32)
    return state.replace(step=state.step + 1, extra=self.extra).with_players(**players), metrics

  def _check_applied(self, caps):
    g, done = self.g, self.applied
    needed = {"instance_noise": g.instance_noise > 0, "replay": g.replay_size > 0, "clip": g.clip > 0,
              "objective": caps.objective, "feature_matching": g.g_objective == "feature_matching",
              "penalty": g.penalty != "none"}
    needed.update({f"historical:{n}": g.historical_averaging > 0 for n in caps.generators + caps.discriminators})
    missing = sorted(k for k, on in needed.items() if on and k not in done)
    if missing:
      raise ConfigError(f"algorithm {self.config.algorithm!r}: its train step never applies {', '.join(missing)}, "
                        "which the config switches on (a step must call every Stabilizers hook)")


def init_extra(config, players: dict, caps: Adversarial, sample_fakes: Optional[Callable] = None, key=None) -> dict:
  """The state extras the stabilizers keep (checkpointed with the state): G's EMA weights, each
  player's historical mean (theta_0 so far), and the replay memory: `gan.replay_size` empty rows in
  the structure of D's fakes `sample_fakes(key, n)` (only its shapes and dtypes are read: nothing is
  sampled) and its fill level `REPLAY_FILLED` = 0. The memory serves fresh fakes, and stores them,
  until it is full (`replay_mix`), so what it starts with is never served."""
  g, extra = config.gan, {}
  if g.ema_decay:
    extra.update({ema_key(n): players[n].params for n in caps.generators})
  if g.historical_averaging:
    extra.update({f"hist_{n}": players[n].params for n in caps.generators + caps.discriminators})
  if g.replay_size:
    rows = jax.eval_shape(lambda k: sample_fakes(k, g.replay_size), key)
    extra["replay"] = jax.tree.map(lambda r: jnp.zeros(r.shape, r.dtype), rows)
    extra[REPLAY_FILLED] = jnp.zeros((), jnp.int32)
  return extra


def ema_key(name: str) -> str:
  """The state extra holding generator `name`'s EMA weights ("g_ema" for "g")."""
  return f"{name}_ema"


def sampler(state, name: str = "g"):
  """The generator player `name` to sample from: with its EMA weights when `gan.ema_decay` > 0."""
  player = state.players[name]
  return player.replace(params=state.extra[ema_key(name)]) if ema_key(name) in state.extra else player


SHARDED_EXTRA = ("replay",)  # the replay memory's rows are split over the devices (its fill level is replicated)
REPLAY_FILLED = "replay_filled"  # the state extra counting the replay memory's filled slots (0 .. gan.replay_size)


# ---------------------------------------------------------------- the stabilizers' formulas


def instance_noise_std(g, num_steps: int, step):
  """The noise level at `step`: linear from g.instance_noise down to 0 over g.instance_noise_steps
  (0: over the whole run); the Python float 0.0 when off."""
  if not g.instance_noise:
    return 0.0
  horizon = g.instance_noise_steps or num_steps
  return g.instance_noise * jnp.maximum(0.0, 1.0 - step / horizon)


def add_instance_noise(x, std, key):
  return x if isinstance(std, float) and std == 0.0 else x + std * jax.random.normal(key, x.shape, x.dtype)


def ema_update(ema, params, decay: float):
  """ema <- decay * ema + (1 - decay) * params."""
  return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


def _find_features(tree):
  """The outermost sown "features" in an intermediates tree (a wrapper's own, else its base's)."""
  if "features" in tree:
    return tree["features"][0]
  for child in tree.values():
    if hasattr(child, "items"):
      found = _find_features(child)
      if found is not None:
        return found
  return None


def features(player, params, *inputs, model_state=None, train: bool = True, **kw):
  """(the discriminator's output, its sown last hidden features, its new model state) for inputs
  (`kw`, e.g. `rngs`, go to the network)."""
  model_state = player.model_state if model_state is None else model_state
  variables = {"params": params, **model_state}
  mutable = ["intermediates", *(model_state if train else ())]
  out, new = player.apply_fn(variables, *inputs, train=train, mutable=mutable, **kw)
  new = dict(new)
  feats = _find_features(new.pop("intermediates"))
  return out, feats, (new if train and model_state else model_state)


FM_REDUCTIONS = {"sum": jnp.sum, "mean": jnp.mean}


def feature_matching_loss(real_features, fake_features, reduction: str = "sum"):
  """||mean real features - mean generated features||^2 over the feature axis (Salimans et al. 2016,
  Sec. 3.1); `reduction="mean"` divides it by the number of features, as their released code does
  (`T.mean(T.square(mom_gen - mom_real))`)."""
  real = jnp.mean(real_features.reshape((real_features.shape[0], -1)), axis=0)
  fake = jnp.mean(fake_features.reshape((fake_features.shape[0], -1)), axis=0)
  return FM_REDUCTIONS[reduction]((jax.lax.stop_gradient(real) - fake)**2)


def historical_penalty(params, mean):
  """||theta - mean past theta||^2 over all of a player's parameters."""
  return sum(jnp.sum((p - jax.lax.stop_gradient(m))**2) for p, m in zip(jax.tree.leaves(params), jax.tree.leaves(mean)))


def running_mean_update(mean, params, count):
  """The mean of `count` past values -> the mean of those and `params`."""
  return jax.tree.map(lambda m, p: m + (p - m) / (count + 1.0), mean, params)


def replay_count(fraction: float, n: int) -> int:
  """Rows of an n-row discriminator batch of fakes that come from the buffer."""
  return int(round(fraction * n))


def replay_filled(filled, n: int, size: int):
  """The replay memory's fill level after a batch of n fakes: every fresh row fills a slot until all
  `size` are taken."""
  return jnp.minimum(filled + n, size).astype(jnp.int32)


def _fill(buffer, fresh, filled):
  """The memory with fresh row i written to slot filled + i where that slot exists (the next free ones)."""
  size = jax.tree.leaves(buffer)[0].shape[0]
  position = filled + jnp.arange(jax.tree.leaves(fresh)[0].shape[0])
  slots = jnp.where(position < size, position, size)  # size: past the end, dropped
  return jax.tree.map(lambda b, f: b.at[slots].set(jax.lax.stop_gradient(f).astype(b.dtype), mode="drop"),
                      buffer, fresh), position < size


def replay_mix(buffer, fresh, fraction: float, key, rows: str = "fixed", filled=None):
  """(the discriminator's fakes, the updated buffer), for a pytree of rows.

  `filled`: how many slots, from slot 0 up, hold stored fakes (the state's `REPLAY_FILLED`); None: all
  of them. As the authors' image pool (CycleGAN's and pix2pix's released code, `util/image_pool.py`:
  "if the buffer is not full; keep inserting current images to the buffer"), a fresh row that finds
  the memory not full is served as it is and stored in the next free slot, so the memory never
  serves what it started with.

  rows="fixed" (SimGAN, Shrivastava et al. 2017, Sec. 2.3: half of each D batch from the history):
  once the memory is full, the first k = round(fraction * n) rows of the n fresh samples are swapped
  for k entries drawn uniformly from the buffer, and those k fresh rows are written over k uniformly
  chosen entries of the buffer (in the buffer's dtype). A batch that finds the memory not full is
  served fresh, and its rows fill the free slots (those past the last free slot are not stored).
  rows="random" (CycleGAN's image pool, Zhu et al. 2017, Sec. 4, which trains with batch 1): row i
  fills slot filled + i while that slot is free; each later row independently, with probability
  `fraction` (the pool's 1/2), is served a stored entry (possibly one this batch just stored, as the
  pool's sequential loop allows) from a distinct uniformly chosen slot, and the fresh row takes that
  slot; the other rows are served fresh and not stored. (The pool draws its slots independently: two
  rows of one batch may swap with the same slot there; here the slots are distinct.)"""
  n = jax.tree.leaves(fresh)[0].shape[0]
  size = jax.tree.leaves(buffer)[0].shape[0]
  if rows == "random":
    take_key, slot_key = jax.random.split(key)
    take = jax.random.bernoulli(take_key, fraction, (n,))
    slots = jax.random.choice(slot_key, size, (n,), replace=False)
    if filled is not None:  # rows that find a free slot fill it and are served fresh
      buffer, filling = _fill(buffer, fresh, filled)
      take = take & ~filling

    def pick(a, b):
      return jnp.where(take.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)

    def serve(b, f):
      return pick(jnp.take(b, slots, axis=0).astype(f.dtype), f)

    def store(b, f):
      return b.at[slots].set(pick(jax.lax.stop_gradient(f).astype(b.dtype), jnp.take(b, slots, axis=0)))

    return jax.tree.map(serve, buffer, fresh), jax.tree.map(store, buffer, fresh)
  k = replay_count(fraction, n)
  if k == 0:
    return fresh, buffer
  read_key, write_key = jax.random.split(key)
  read = jax.random.randint(read_key, (k,), 0, size)
  slots = jax.random.choice(write_key, size, (k,), replace=False)  # distinct slots: no write races

  def mix(b, f):
    return jnp.concatenate([jnp.take(b, read, axis=0).astype(f.dtype), f[k:]])

  def write(b, f):
    return b.at[slots].set(jax.lax.stop_gradient(f[:k]).astype(b.dtype))

  mixed, written = jax.tree.map(mix, buffer, fresh), jax.tree.map(write, buffer, fresh)
  if filled is None:
    return mixed, written
  full = filled >= size
  filling = _fill(buffer, fresh, filled)[0]
  return (jax.tree.map(lambda m, f: jnp.where(full, m, f), mixed, fresh),
          jax.tree.map(lambda w, b: jnp.where(full, w, b), written, filling))
