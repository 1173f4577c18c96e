"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel 2016, "InfoGAN: Interpretable
Representation Learning by Information Maximizing Generative Adversarial Nets").

G's input is [z, c]: incompressible noise z (`model.latent_dim`, 62 for MNIST) and latent codes c:
one K-way categorical code (`info.categories`, 10) and `info.continuous` codes ~ U[-1, 1] (2).
The minimax game is regularised by a variational lower bound on the mutual information (Eq. 5-6),
    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c)),
    min_{G, Q} max_D  V(D, G) - lambda L_I(G, Q),
with Q a head on D's trunk (`ganjax.networks.infogan.QHead` on D's FC features; a player `q` of its
own, optimizer `optim.q`): a softmax for the categorical code and a factored Gaussian for the
continuous ones, with unit variance (`info.continuous_variance="fixed"`, the authors' code: -log Q
is the squared error / 2 up to a constant) or a variance Q predicts ("learned"). `lambda` is
`info.lambda_cat` / `info.lambda_cont` (1 in the paper's MNIST run). Paper's MNIST learning rates:
2e-4 for D (and Q), 1e-3 for G. The networks' initialisation and leaky slope are
`model.weight_init` / `model.leak` (`ganjax.networks.infogan`; configs/infogan.py: the authors'
code's N(0, 0.02) and 0.01, which found the digits far more often than Flax's defaults).

Which update descends the MI term is `info.q_step` (the paper says only min over G and Q):
  "d"         (the authors' code, openai/InfoGAN: Q's layers are D's variables) D's step adds
              lambda L_I on D's generated batch, so Q and D's shared trunk descend it, and G's step
              adds it through G's fresh samples;
  "g"         Q descends it with G in G's step; D's trunk is trained by D's GAN loss alone (tested:
              D's update is then bitwise that of lambda = 0);
  "separate"  a third update per step: G, D's trunk and Q descend lambda L_I alone, on fresh
              samples, with their own optimizer `optim.info` (the GAN steps have no MI term).

The GAN terms are `gan.loss`, and every stabilizer of `ganjax.stabilizers` composes with the step
(spectral norm and minibatch discrimination act on D's layers, not on the Q head's own; replay
memory keeps (image, codes) triples, so Q learns from replayed samples with their codes; feature
matching replaces G's GAN term, the MI term stays). Gradient penalties are refused: D's trunk has
batch norm.

Evaluation: `cluster_accuracy`, the unsupervised classification accuracy of argmax_c Q(c | x) on
the held-out images, each category matched to one label by the Hungarian algorithm (the paper
reports 5% error on MNIST). `--mode=sample` writes `traversal_c<j>.png` for each continuous code:
one row per category, one column per value of c_j from -2 to 2, the noise and other codes fixed.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import networks, stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import (compute_dtype, discriminator_network, generator_network, grad_norm,
                                      infogan_network_options, init_player, sample_latent)
from ganjax.algorithms.method import Classifier, Method, Sampler
from ganjax.errors import ConfigError, choose

ADVERSARIAL = stabilizers.Adversarial()


Q_STEPS = {"d": "Q and D's trunk descend the MI term in D's step, with D's batch of generated samples",
           "g": "Q descends it in G's step, with G, on G's fresh samples; D's trunk is trained by D's loss only",
           "separate": "a third update per step: G, D's trunk and Q descend the MI term alone, on fresh samples, "
                       "with an optimizer of their own (optim.info)"}
CONTINUOUS_VARIANCES = {"fixed": "unit variance", "learned": "Q outputs a log variance per code"}


def _q_size(cfg):
  per_code = 2 if cfg.info.continuous_variance == "learned" else 1  # (mean, log variance) or the mean
  return cfg.info.categories + per_code * cfg.info.continuous


def check(config):
  if config.info.categories < 2 or config.info.continuous < 0:
    raise ConfigError(f"info.categories must be >= 2 and info.continuous >= 0, got "
                      f"{config.info.categories}, {config.info.continuous}")
  if config.model.discriminator != "infogan":
    raise ConfigError("InfoGAN needs a discriminator with a Q head: model.discriminator='infogan'")
  choose("info.q_step", config.info.q_step, Q_STEPS)
  choose("info.continuous_variance", config.info.continuous_variance, CONTINUOUS_VARIANCES)
  choose("model.weight_init", config.model.weight_init, networks.infogan.INITS)
  if "q" not in config.optim:
    raise ConfigError("InfoGAN's Q head needs its optimizer: config.optim.q (e.g. the same as optim.d)")
  if config.info.q_step == "separate" and "info" not in config.optim:
    raise ConfigError("info.q_step='separate' needs the MI step's optimizer: config.optim.info")


def init(config, key, example_batch) -> state_lib.TrainState:
  shape = example_batch["image"].shape[1:]
  g = generator_network(config, shape)
  d = discriminator_network(config)
  q = networks.infogan.QHead(outputs=_q_size(config), hidden=config.model.fc_width // 8,
                             dtype=compute_dtype(config), **infogan_network_options(config.model))
  kg, kd, kq = jax.random.split(key, 3)
  width = config.model.latent_dim + config.info.categories + config.info.continuous
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, width))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape))),
             "q": init_player(config, "q", q, kq, jnp.zeros((2, config.model.fc_width)))}

  def fakes(k, n):
    cat, cont = sample_codes(jax.random.fold_in(k, 1), n, config)
    return players["g"](generator_input(sample_latent(jax.random.fold_in(k, 0), n, config.model), cat, cont, config)), cat, cont

  extra = stabilizers.init_extra(config, players, ADVERSARIAL, fakes, jax.random.fold_in(key, 2))
  if config.info.q_step == "separate":  # the MI step's own optimizer state, over G, D and Q
    extra["info_opt"] = _info_optimizer(config).init({k: p.params for k, p in players.items()})
  return state_lib.create(config, players, extra)


def _info_optimizer(config):
  return state_lib.optimizer(config.optim.info, config.num_steps)


def sample_codes(key, n: int, cfg):
  """(categorical code (n,) ints, continuous codes (n, info.continuous) ~ U[-1, 1])."""
  cat = jax.random.randint(jax.random.fold_in(key, 0), (n,), 0, cfg.info.categories)
  cont = jax.random.uniform(jax.random.fold_in(key, 1), (n, cfg.info.continuous), minval=-1.0, maxval=1.0)
  return cat, cont


def generator_input(z, cat, cont, cfg):
  return jnp.concatenate([z, jax.nn.one_hot(cat, cfg.info.categories, dtype=z.dtype), cont], axis=-1)


def mi_loss(q, cat, cont, cfg):
  """-L_I + H(c), weighted: lambda_cat * CE(Q_cat, c_cat) + lambda_cont * (-log Q(c_cont | x)) without
  the Gaussian's constant: ||mu - c||^2 / 2 with unit variance (`continuous_variance="fixed"`), or
  sum_j (log s_j^2 + (c_j - mu_j)^2 / s_j^2) / 2 with Q's own log variance ("learned").
  q = [K categorical logits, the means, (the log variances)]. Returns (loss, (ce, nll))."""
  k, m = cfg.info.categories, cfg.info.continuous
  ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(q[:, :k], cat))
  if not m:
    return cfg.info.lambda_cat * ce, (ce, jnp.zeros(()))
  mu = q[:, k:k + m]
  if cfg.info.continuous_variance == "learned":
    log_var = q[:, k + m:k + 2 * m]
    nll = 0.5 * jnp.mean(jnp.sum(log_var + (cont - mu)**2 * jnp.exp(-log_var), axis=-1))
  else:
    nll = 0.5 * jnp.mean(jnp.sum((cont - mu)**2, axis=-1))
  return cfg.info.lambda_cat * ce + cfg.info.lambda_cont * nll, (ce, nll)


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d, q = state.g, state.d, state.q
  q_with_d, separate = cfg.info.q_step == "d", cfg.info.q_step == "separate"
  real = batch["image"]
  n = real.shape[0]

  def fake_of(params, k):
    cat, cont = sample_codes(jax.random.fold_in(k, 1), n, cfg)
    x, ms = g.apply(params, generator_input(sample_latent(jax.random.fold_in(k, 0), n, cfg.model), cat, cont, cfg))
    return x, cat, cont, ms

  fake, cat, cont, _ = fake_of(g.params, jax.random.fold_in(key, 0))
  fake, cat, cont = stab.fakes((jax.lax.stop_gradient(fake), cat, cont), jax.random.fold_in(key, 4))

  def d_objective(params, q_params):  # D's GAN loss; with q_step="d" the MI term for Q and D's trunk
    real_in, fake_in = stab.d_input(real, jax.random.fold_in(key, 2)), stab.d_input(fake, jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in, train=True)
    fake_out, h, ms = stabilizers.features(d, params, fake_in, model_state=ms)
    gan, aux = stab.d_loss(real_out, fake_out)
    mi, q_ms = jnp.zeros(()), q.model_state
    if q_with_d:
      q_out, q_ms = q.apply(q_params, h, train=True)
      mi, (ce, nll) = mi_loss(q_out, cat, cont, cfg)
      aux = {**aux, "q/categorical_ce": ce, "q/continuous_nll": nll}
    critic = lambda x: d.apply(params, x, model_state=ms, train=True)[0]  # noqa: E731
    loss, reg = stab.d_regularize(gan + mi, "d", params, critic, real_in, fake_in, jax.random.fold_in(key, 5))
    return loss, (ms, q_ms, {**aux, **reg})

  (d_loss, (d_ms, q_ms, d_aux)), (d_grads, q_grads) = jax.value_and_grad(
      d_objective, argnums=(0, 1), has_aux=True)(d.params, q.params)
  d = stab.update("d", d, d_grads, d_ms)
  if q_with_d:
    q = stab.update("q", q, q_grads, q_ms)

  def g_objective(params, q_params):  # G's GAN loss and the MI term through its samples (with q_step="g": Q's too)
    x, c_cat, c_cont, ms = fake_of(params, jax.random.fold_in(key, 1))
    out, h, _ = stabilizers.features(d, d.params, stab.d_input(x, jax.random.fold_in(key, 6)))
    q_out, q_ms = q.apply(q_params, h, train=True)
    mi, (ce, nll) = mi_loss(q_out, c_cat, c_cont, cfg)
    gan = stab.g_loss(lambda: out, lambda: (stabilizers.features(d, d.params, real)[1],
                                             stabilizers.features(d, d.params, x)[1]))
    return stab.g_regularize(gan + (0.0 if separate else mi), "g", params), (ms, q_ms, mi, ce, nll)

  (g_loss, (g_ms, q_ms, g_mi, g_ce, g_nll)), (g_grads, q_grads) = jax.value_and_grad(
      g_objective, argnums=(0, 1), has_aux=True)(g.params, q.params)
  g = stab.update("g", g, g_grads, g_ms)
  if cfg.info.q_step == "g":
    q = stab.update("q", q, q_grads, q_ms)
  if not q_with_d:
    d_aux = {**d_aux, "q/categorical_ce": g_ce, "q/continuous_nll": g_nll}
  if separate:  # the MI term alone, for G, D's trunk and Q together, with optim.info (weights only)
    def info_objective(params):
      x, c_cat, c_cont, _ = fake_of(params["g"], jax.random.fold_in(key, 7))
      h = stabilizers.features(d, params["d"], x)[1]
      return mi_loss(q.apply(params["q"], h, train=True)[0], c_cat, c_cont, cfg)[0]

    params = {"g": g.params, "d": d.params, "q": q.params}
    info_grads = jax.grad(info_objective)(params)
    updates, info_opt = _info_optimizer(cfg).update(info_grads, state.extra["info_opt"], params)
    params = optax.apply_updates(params, updates)
    g, d, q = g.replace(params=params["g"]), d.replace(params=params["d"]), q.replace(params=params["q"])
    stab.extra["info_opt"] = info_opt
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, "g/mi_term": g_mi,
             # the categorical part of the bound: H(c) - CE = log K - CE (nats; at most log K)
             "g/mi_lower_bound_categorical": jnp.log(float(cfg.info.categories)) - g_ce,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d, "q": q}, metrics)


def q_logits(state, images):
  """Q's outputs for `images` (inference: batch norm's running averages)."""
  h = stabilizers.features(state.d, state.d.params, images, train=False)[1]
  return state.q(h)


def generate(state, key, n: int, z=None):
  """n samples with random codes; given `z` (noise only), the codes are drawn from `key` too."""
  cfg = state.config
  kz, kc = jax.random.split(key) if key is not None else (None, jax.random.key(0))
  z = sample_latent(kz, n, cfg.model) if z is None else z
  cat, cont = sample_codes(kc, n, cfg)
  return stabilizers.sampler(state)(generator_input(z, cat, cont, cfg))


def predict_class(state, images):
  """argmax_c Q(c | x): the categorical code Q assigns to each image."""
  return jnp.argmax(q_logits(state, images)[:, :state.config.info.categories], axis=-1)


@functools.partial(jax.jit, static_argnums=2)  # one program per code (op by op: ~50 small compiles)
def traversal(state, key, code: int, values):
  """One row per category, one column per value of continuous code `code`; the noise and the other
  continuous codes (0) are the same everywhere: (K * len(values), ...)."""
  cfg = state.config
  k, m = cfg.info.categories, len(values)
  z = jnp.tile(sample_latent(key, 1, cfg.model), (k * m, 1))
  cat = jnp.repeat(jnp.arange(k), m)
  cont = jnp.zeros((k * m, cfg.info.continuous)).at[:, code].set(jnp.tile(jnp.asarray(values, jnp.float32), k))
  return stabilizers.sampler(state)(generator_input(z, cat, cont, cfg))


def sample_grids(state, key, test):
  values = np.linspace(-2.0, 2.0, 10)
  grids = {f"traversal_c{j + 1}": (traversal(state, key, j, values), len(values))
           for j in range(state.config.info.continuous)}
  if not state.config.info.continuous:
    grids["categories"] = (traversal_categories(state, key), 10)
  return grids


@functools.partial(jax.jit, static_argnums=2)
def traversal_categories(state, key, columns: int = 10):
  cfg = state.config
  k = cfg.info.categories
  z = jnp.tile(sample_latent(key, columns, cfg.model), (k, 1))
  cat = jnp.repeat(jnp.arange(k), columns)
  return stabilizers.sampler(state)(generator_input(z, cat, jnp.zeros((k * columns, cfg.info.continuous)), cfg))


METHOD = Method(init=init, train_step=train_step, sampler=Sampler(generate, grids=sample_grids),
                classifier=Classifier(predict_class, matching="hungarian"), adversarial=ADVERSARIAL, check=check,
                config_block="info")
