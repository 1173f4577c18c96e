"""Every stabilizer composes with every adversarial method: each method family takes one step with
all the stabilizers its `ADVERSARIAL` declaration and its networks allow switched on at once, and
each shows its defining effect in the new state (EMA = decay * old + (1 - decay) * new, and used by
`generate`; the replay memory filled by the fresh fakes; the historical means; clipping; spectral norm's
committed power iteration; the penalty; instance noise)."""

import jax
import numpy as np
import pytest

from ganjax import algorithms, data, stabilizers
from ganjax.stabilizers import D_LAYER_OPTIONS, d_mixes_samples

METHODS = ["gan.py", "cgan.py", "acgan.py", "infogan.py", "sgan.py", "ali.py", "ebgan.py", "bgan.py:discrete",
           "gman.py", "unrolled_gan.py", "discogan.py"]  # discogan: two generators, two Ds, replay of (G(a), F(b)) pairs
DECAY, CLIP, NOISE = 0.5, 0.5, 0.3


# Each penalised method's D objective before its regularizers, from its metrics (discriminator `d`).
UNPENALISED = {
    "gan": lambda m, c, d: m[f"{d}/adversarial"],
    "cgan": lambda m, c, d: m[f"{d}/adversarial"],
    "unrolled_gan": lambda m, c, d: m[f"{d}/adversarial"],
    "discogan": lambda m, c, d: c.discogan.d_loss_scale * m[f"{d}/adversarial"],
    "sgan": lambda m, c, d: m["d/supervised"] + c.sgan.unsupervised_weight * m["d/unsupervised"],
}


def everything_on(c, caps):
  g = c.gan
  g.ema_decay, g.historical_averaging, g.instance_noise, g.clip = DECAY, 0.1, NOISE, CLIP
  fakes_per_step = c.batch_size * (c.bgan.num_samples if c.algorithm == "bgan" else 1)
  g.replay_size, g.replay_fraction = 2 * fakes_per_step, 0.5
  if caps.objective:
    g.real_label = 0.9
  if caps.features:
    g.g_objective = "feature_matching"
  if caps.d_layers and c.model.discriminator in D_LAYER_OPTIONS["spectral_norm"]:
    g.spectral_norm = True
  if caps.penalty and d_mixes_samples(c) is None:
    g.penalty = "r1"
  elif caps.d_layers:
    g.minibatch_features = (3, 2)
  return fakes_per_step


def leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.mark.parametrize("config", METHODS)
def test_all_allowed_stabilizers_compose_with_the_method(config_of, config):
  name, _, arg = config.partition(":")
  c = config_of(name, arg or None)
  method = algorithms.get(c.algorithm)
  caps = method.adversarial
  fakes_per_step = everything_on(c, caps)
  if "unrolled" in c:
    c.unrolled.steps = 1  # the composition, not the unrolling, is under test here
  algorithms.check(method, c)  # every one of them is allowed here
  splits = data.load_streams(c)
  trains = splits[None].train if None in splits else {k: s.train for k, s in splits.items()}
  rows = np.arange(algorithms.rows_per_step(method, c))
  get = lambda idx: trains.get(idx) if None in splits else {k: t.get(idx) for k, t in trains.items()}  # noqa: E731
  example = algorithms.example_batch(method, c, trains)
  state = jax.jit(lambda k, e: method.init(c, k, e))(jax.random.key(0), example)
  batch = get(rows)
  new, m = jax.jit(method.train_step)(state, batch, jax.random.key(1))
  assert all(np.isfinite(np.asarray(v)).all() for v in jax.tree.leaves(m))

  gen = caps.generators[0]
  for name in caps.generators:  # every generator's EMA
    for e, old, p in zip(leaves(new.extra[stabilizers.ema_key(name)]), leaves(state.players[name].params),
                         leaves(new.players[name].params)):
      np.testing.assert_allclose(e, DECAY * old + (1 - DECAY) * p, rtol=1e-5, atol=1e-7)
  if method.sampler is not None:  # samples come from the EMA weights
    generate = jax.jit(method.sampler.generate, static_argnums=2)  # (op by op: a compile per operation)
    with_ema = generate(new, jax.random.key(2), 4)
    swapped = new.with_players(**{gen: new.players[gen].replace(params=new.extra["g_ema"])})
    np.testing.assert_allclose(with_ema, generate(swapped.replace(extra={**new.extra, "g_ema": new.extra["g_ema"]}),
                                                  jax.random.key(2), 4), rtol=1e-6)
    plain = new.replace(extra={k: v for k, v in new.extra.items() if k != "g_ema"})
    if not set(np.unique(with_ema)) <= {-1.0, 1.0}:  # (binary samples rarely flip after one step)
      assert not np.allclose(with_ema, generate(plain, jax.random.key(2), 4))
  assert all(np.array_equal(a, b) for a, b in zip(leaves(stabilizers.sampler(new, gen).params), leaves(new.extra["g_ema"])))
  for player in caps.generators + caps.discriminators:  # the historical means of theta_0, theta_1
    for h, old, p in zip(leaves(new.extra[f"hist_{player}"]), leaves(state.players[player].params),
                         leaves(new.players[player].params)):
      np.testing.assert_allclose(h, (old + p) / 2, rtol=1e-5, atol=1e-7)
  written = np.any(np.asarray(jax.tree.leaves(new.extra["replay"])[0] != jax.tree.leaves(state.extra["replay"])[0]).reshape(
      c.gan.replay_size, -1), axis=1)
  # the memory starts empty: the step's fresh fakes fill its first slots
  filled = stabilizers.REPLAY_FILLED
  assert int(state.extra[filled]) == 0 and int(new.extra[filled]) == fakes_per_step
  np.testing.assert_array_equal(written, np.arange(c.gan.replay_size) < fakes_per_step)
  for d in caps.discriminators:
    assert max(float(np.abs(x).max()) for x in leaves(new.players[d].params)) <= CLIP  # weights clipped
  assert float(m["d/instance_noise"]) == pytest.approx(NOISE)
  if c.gan.penalty != "none":  # each discriminator's loss is its objective + lambda * penalty + h * historical
    for d in caps.discriminators:
      base = UNPENALISED[c.algorithm](m, c, d) if c.algorithm in UNPENALISED else None
      if base is None:  # (the discrete BGAN logs no unpenalised D loss: its penalty's presence alone)
        assert f"{d}/penalty" in m
        continue
      np.testing.assert_allclose(m[f"{d}/loss"], base + c.gan.penalty_weight * m[f"{d}/penalty"]
                                 + c.gan.historical_averaging * m[f"{d}/historical"], rtol=1e-5)
  if c.gan.spectral_norm:  # one power iteration committed per D update
    spec = new.players[caps.discriminators[0]].model_state["spectral"]
    flat = {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_flatten_with_path(spec)[0]}
    us = [k for k in flat if k.endswith("/u']")]
    assert us and all(np.array_equal(flat[k], flat[k.replace("/u']", "/u_next']")]) for k in us)
    old = {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_flatten_with_path(
        state.players[caps.discriminators[0]].model_state["spectral"])[0]}
    assert any(not np.allclose(flat[k], old[k]) for k in us)
