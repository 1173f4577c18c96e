"""DANN, domain-adversarial training (Ganin et al. 2016, "Domain-Adversarial Training of Neural
Networks", JMLR 17), and the source-only / target-only bounds on the same networks.

A feature extractor G_f (player "f"), a label predictor G_y ("c") and a domain classifier G_d
("d") seek the saddle point of Eq. 18:
    E(theta_f, theta_y, theta_d) = (1/n) sum_{i<=n} L_y^i - lambda ((1/n) sum_{i<=n} L_d^i + (1/n') sum_{i>n} L_d^i),
    (theta_f, theta_y) = argmin E,   theta_d = argmax E,
with L_y the cross-entropy of the source labels and L_d the logistic loss of the domain label
(0 source, 1 target): the domain loss is the mean over the n source rows plus the mean over the n'
target rows (`dann.domain_average = "per_stream"`). The authors' released code (the Caffe `grl`
branch of ddtm/caffe, for the Office experiments) instead takes one SigmoidCrossEntropyLoss over the
concatenated 2n rows, its sum divided by 2n, half of Eq. 18's term at n = n' (`"pooled"`). The
gradient-reversal layer R_lambda (Sec. 5.2, Eq. 19-20: R(x) = x forward, dR/dx = -lambda I backward,
`grad_reverse`, a `jax.custom_vjp`) sits between G_f and G_d, so one gradient of L_y + L_d gives
every player its update of Eq. 13-15: G_y descends L_y, G_d descends L_d, G_f descends
L_y - lambda L_d. Schedules (Sec. 5.2.2), p in [0, 1] the fraction of training done: the adaptation
factor lambda_p = 2 / (1 + exp(-gamma p)) - 1 with gamma = 10 (`dann.gamma`; `dann.lambda_max`
scales it), and the learning rate mu_p = mu_0 / (1 + alpha p)^beta with mu_0 = 0.01, alpha = 10,
beta = 0.75 (SGD with momentum 0.9, `optim.*.anneal_alpha`), as in the paper; each batch holds
`batch_size` rows of each stream. The networks are the paper's MNIST ones (Sec. 5.2, Fig. 4;
`ganjax.networks.adaptation`): G_y fully connected 100 - 100 - 10, G_d 100 - 1.

`dann.adapt = False` drops L_d: the source-only bound. `dann.labels = "target"` trains L_y on the
target's labels instead (the target-only bound, an oracle that needs the target labels); otherwise
the step never reads the target stream's labels nor its source-domain side (tested).
`configs/dann.py:source_only` and `:target_only` are the two bounds with DANN's recipe (SGD, the
schedules above, `batch_size` rows); `:source_only:<method>` and `:target_only:<method>` (pixelda,
dtn, simgan) train them with that method's task-classifier recipe instead (its optimizer, batch and
number of classifier steps, on its streams), so that a method's gain over a bound compares one recipe.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from ganjax import data
from ganjax import state as state_lib
from ganjax.algorithms import adaptation
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player
from ganjax.algorithms.method import Classifier, Method
from ganjax.errors import ConfigError, choose
from ganjax.networks.adaptation import Extractor, Head

DOMAIN_HIDDEN = (100,)  # G_d: fully connected 100 - 1 (Sec. 5.2, Fig. 4)
DOMAIN_AVERAGES = {"per_stream": "Eq. 18: the source rows' mean plus the target rows' mean",
                   "pooled": "the released Caffe code: one mean over the 2n concatenated rows"}


@jax.custom_vjp
def grad_reverse(x, lam):
  """R_lambda: the identity forward; the incoming gradient times -lambda backward (Eq. 19-20)."""
  return x


def _reverse_fwd(x, lam):
  return x, lam


def _reverse_bwd(lam, g):
  return jax.tree.map(lambda t: -lam * t, g), jnp.zeros_like(lam)


grad_reverse.defvjp(_reverse_fwd, _reverse_bwd)


def adaptation_factor(p, gamma: float = 10.0):
  """lambda_p = 2 / (1 + exp(-gamma p)) - 1: 0 at the start, towards 1 at the end (Sec. 5.2.2)."""
  return 2.0 / (1.0 + jnp.exp(-gamma * p)) - 1.0


def check(config):
  adaptation.check_streams(config)
  choose("dann.labels", config.dann.labels, {"source": 0, "target": 1})
  choose("dann.domain_average", config.dann.domain_average, DOMAIN_AVERAGES)
  if config.dann.lambda_max < 0:
    raise ConfigError(f"dann.lambda_max must be >= 0, got {config.dann.lambda_max}")


def example_batch(config, train):
  rows = adaptation.example_batch(config, train, "dann")
  if config.dann.labels == "target":
    data.require_labels(train["target"], "dann:target_only (the oracle bound, trained on the target labels)")
  return rows


def init(config, key, example_batch) -> state_lib.TrainState:
  x = adaptation.images(example_batch["source"], "source")
  f = Extractor(dtype=compute_dtype(config))
  kf, kc, kd = jax.random.split(key, 3)
  pf = init_player(config, "f", f, kf, jnp.zeros_like(x))
  h = jax.eval_shape(lambda v: f.apply(v, jnp.zeros_like(x), train=False), {"params": pf.params})
  players = {"f": pf, "c": init_player(config, "c", Head(config.model.num_classes), kc, jnp.zeros(h.shape)),
             "d": init_player(config, "d", Head(1, DOMAIN_HIDDEN), kd, jnp.zeros(h.shape))}
  return state_lib.create(config, players)


def domain_loss(logits_s, logits_t, average: str):
  """L_d of Eq. 18 from G_d's logits on the source (label 0) and target (label 1) rows."""
  bce_s = optax.sigmoid_binary_cross_entropy(logits_s, jnp.zeros_like(logits_s))
  bce_t = optax.sigmoid_binary_cross_entropy(logits_t, jnp.ones_like(logits_t))
  if average == "pooled":
    return jnp.mean(jnp.concatenate([bce_s, bce_t]))
  return jnp.mean(bce_s) + jnp.mean(bce_t)


def train_step(state, batch, key):
  cfg = state.config.dann
  f, c, d = state.f, state.c, state.d
  if cfg.labels == "target":  # the oracle: the target's own labels
    x, y = adaptation.target(batch), batch["target"]["label"]
  else:
    x, y = adaptation.source(batch)
  xt = adaptation.target(batch)
  p = state.step / state.config.num_steps
  lam = cfg.lambda_max * adaptation_factor(p, cfg.gamma)

  def objective(params):
    hs = f.apply(params["f"], x)[0]
    logits = c.apply(params["c"], hs)[0]
    class_loss = adaptation.task_loss(logits, y)
    if not cfg.adapt:
      return class_loss, (class_loss, 0.0, 0.0, adaptation.accuracy(logits, y))
    ht = f.apply(params["f"], xt)[0]
    out = d.apply(params["d"], grad_reverse(jnp.concatenate([hs, ht]), lam))[0]
    out_s, out_t = out[:len(hs)], out[len(hs):]
    loss_d = domain_loss(out_s, out_t, cfg.domain_average)
    domain_acc = jnp.mean(jnp.concatenate([out_s <= 0, out_t > 0]))
    return class_loss + loss_d, (class_loss, loss_d, domain_acc, adaptation.accuracy(logits, y))

  params = {"f": f.params, "c": c.params, "d": d.params}
  (_, (class_loss, d_loss, domain_acc, acc)), grads = jax.value_and_grad(objective, has_aux=True)(params)
  players = {name: state.players[name].update(grads[name]) for name in params}
  metrics = {"c/class_loss": class_loss, "c/train_accuracy": acc, "d/domain_loss": d_loss,
             "d/domain_accuracy": domain_acc, "f/lambda": lam, "f/grad_norm": grad_norm(grads["f"])}
  return state.replace(step=state.step + 1, players={**state.players, **players}), metrics


def logits(state, x):
  return state.c(state.f(x))


def predict_class(state, x):
  return jnp.argmax(logits(state, x), -1)


METHOD = Method(init=init, train_step=train_step, classifier=Classifier(predict_class, streams=adaptation.STREAMS),
                example_batch=example_batch, check=check)
