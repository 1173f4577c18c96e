"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel 2016, "InfoGAN: Interpretable
Representation Learning by Information Maximizing Generative Adversarial Nets").

G's input is [z, c]: incompressible noise z (`model.latent_dim`, 62 for MNIST) and latent codes c:
one K-way categorical code (`info.categories`, 10) and `info.continuous` codes ~ U[-1, 1] (2).
The minimax game is regularised by a variational lower bound on the mutual information (Eq. 5-6),
    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c)),
    min_{G, Q} max_D  V(D, G) - lambda L_I(G, Q),
with Q a head sharing D's trunk (`ganjax.networks.infogan`): a softmax for the categorical code and
a factored Gaussian with unit variance for the continuous ones (so -log Q is their squared error
/ 2 up to a constant). The MI term trains both G (through x) and Q with D's trunk (D's optimizer);
`lambda` is `info.lambda_cat` / `info.lambda_cont` (1 in the paper's MNIST run). Paper's MNIST
learning rates: 2e-4 for D (and Q), 1e-3 for G.

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

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms.common import discriminator_network, generator_network, grad_norm, init_player, sample_latent

CLASS_MATCHING = "hungarian"
CONFIG_BLOCK = "info"  # its own config block, config.info
ADVERSARIAL = stabilizers.Adversarial()
SHARDED_EXTRA = stabilizers.SHARDED_EXTRA


def _q_size(cfg):
  return cfg.info.categories + cfg.info.continuous


def init(config, key, example_batch) -> state_lib.TrainState:
  from ganjax.errors import ConfigError

  if config.info.categories < 2 or config.info.continuous < 0:
    raise ConfigError(f"info.categories must be >= 2 and info.continuous >= 0, got "
                      f"{config.info.categories}, {config.info.continuous}")
  if config.model.discriminator != "infogan":
    raise ConfigError("InfoGAN needs a discriminator with a Q head: model.discriminator='infogan'")
  shape = example_batch["image"].shape[1:]
  g = generator_network(config, shape)
  d = discriminator_network(config, q_outputs=_q_size(config))
  kg, kd = jax.random.split(key)
  width = config.model.latent_dim + _q_size(config)
  players = {"g": init_player(config, "g", g, kg, jnp.zeros((2, width))),
             "d": init_player(config, "d", d, kd, jnp.zeros((2, *shape)))}

  def fakes(k, n):
    cat, cont = sample_codes(jax.random.fold_in(k, 1), n, config)
    return players["g"](generator_input(sample_latent(jax.random.fold_in(k, 0), n, config.model), cat, cont, config)), cat, cont

  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes,
                                                                   jax.random.fold_in(key, 2)))


def sample_codes(key, n: int, cfg):
  """(categorical code (n,) ints, continuous codes (n, info.continuous) ~ U[-1, 1])."""
  cat = jax.random.randint(jax.random.fold_in(key, 0), (n,), 0, cfg.info.categories)
  cont = jax.random.uniform(jax.random.fold_in(key, 1), (n, cfg.info.continuous), minval=-1.0, maxval=1.0)
  return cat, cont


def generator_input(z, cat, cont, cfg):
  return jnp.concatenate([z, jax.nn.one_hot(cat, cfg.info.categories, dtype=z.dtype), cont], axis=-1)


def mi_loss(q, cat, cont, cfg):
  """-L_I + H(c) terms, weighted: lambda_cat * CE(Q_cat, c_cat) + lambda_cont * ||Q_cont - c_cont||^2 / 2
  (a unit-variance Gaussian's negative log-likelihood without its constant). Returns (loss, parts)."""
  k = cfg.info.categories
  ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(q[:, :k], cat))
  se = 0.5 * jnp.mean(jnp.sum((q[:, k:] - cont)**2, axis=-1)) if cfg.info.continuous else jnp.zeros(())
  return cfg.info.lambda_cat * ce + cfg.info.lambda_cont * se, (ce, se)


def train_step(state, batch, key):
  cfg, stab = state.config, stabilizers.Stabilizers(state, key, ADVERSARIAL)
  g, d = state.g, state.d
  real = batch["image"]
  n = real.shape[0]

  def fake_of(params, k):
    cat, cont = sample_codes(jax.random.fold_in(k, 1), n, cfg)
    x, ms = g.apply(params, generator_input(sample_latent(jax.random.fold_in(k, 0), n, cfg.model), cat, cont, cfg))
    return x, cat, cont, ms

  fake, cat, cont, _ = fake_of(g.params, jax.random.fold_in(key, 0))
  fake, cat, cont = stab.fakes((jax.lax.stop_gradient(fake), cat, cont), jax.random.fold_in(key, 4))

  def d_objective(params):  # D's GAN loss, and the MI term for Q (and the shared trunk)
    real_in, fake_in = stab.d_input(real, jax.random.fold_in(key, 2)), stab.d_input(fake, jax.random.fold_in(key, 3))
    real_out, ms = d.apply(params, real_in, train=True)
    (fake_out, q), ms = d.apply(params, fake_in, model_state=ms, train=True)
    gan, aux = stab.d_loss(real_out[0], fake_out)
    mi, (ce, se) = mi_loss(q, cat, cont, cfg)
    critic = lambda x: d.apply(params, x, model_state=ms, train=True)[0][0]  # noqa: E731
    loss, reg = stab.d_regularize(gan + mi, "d", params, critic, real_in, fake_in, jax.random.fold_in(key, 5))
    return loss, (ms, {**aux, **reg, "q/categorical_ce": ce, "q/continuous_se": se})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = stab.update("d", d, d_grads, d_ms)

  def g_objective(params):  # G's GAN loss, and the MI term through its samples
    x, c_cat, c_cont, ms = fake_of(params, jax.random.fold_in(key, 1))
    out, q = d.apply(d.params, stab.d_input(x, jax.random.fold_in(key, 6)), train=True)[0]
    mi, (ce, _) = mi_loss(q, c_cat, c_cont, cfg)
    gan = stab.g_loss(lambda: out, lambda: (stabilizers.features(d, d.params, real)[1],
                                             stabilizers.features(d, d.params, x)[1]))
    return stab.g_regularize(gan + mi, "g", params), (ms, mi, ce)

  (g_loss, (g_ms, g_mi, g_ce)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = stab.update("g", g, g_grads, g_ms)
  metrics = {"d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss, "g/mi_term": g_mi,
             # the categorical part of the bound: H(c) - CE = log K - CE (nats; at most log K)
             "g/mi_lower_bound_categorical": jnp.log(float(cfg.info.categories)) - g_ce,
             "g/grad_norm": grad_norm(g_grads)}
  return stab.finish(state, {"g": g, "d": d}, metrics)


def generate(state, key, n: int, z=None):
  """n samples with random codes; given `z` (noise only), the codes are drawn from `key` too."""
  cfg = state.config
  kz, kc = jax.random.split(key) if key is not None else (None, jax.random.key(0))
  z = sample_latent(kz, n, cfg.model) if z is None else z
  cat, cont = sample_codes(kc, n, cfg)
  return stabilizers.sampler(state)(generator_input(z, cat, cont, cfg))


def predict_class(state, images):
  """argmax_c Q(c | x): the categorical code D's Q head assigns to each image."""
  return jnp.argmax(state.d(images)[1][:, :state.config.info.categories], axis=-1)


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


def traversal_categories(state, key, columns: int = 10):
  cfg = state.config
  k = cfg.info.categories
  z = jnp.tile(sample_latent(key, columns, cfg.model), (k, 1))
  cat = jnp.repeat(jnp.arange(k), columns)
  return stabilizers.sampler(state)(generator_input(z, cat, jnp.zeros((k * columns, cfg.info.continuous)), cfg))
