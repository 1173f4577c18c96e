"""DTN, the Domain Transfer Network (Taigman, Polyak & Wolf 2017, "Unsupervised Cross-Domain Image
Generation").

G = g o f: f (player "f", `networks.adaptation.Classifier`'s last hidden layer, 100-d) is an encoder
trained on the source domain's labels and then fixed -- the first `dtn.pretrain_steps` steps train
it (cross-entropy) and nothing else, as the paper pretrains f on SVHN -- and g (player "g",
`networks.adaptation.Decoder`) maps f's code to a target-domain image. The three-way discriminator D
(player "d", `ConvDiscriminator` with 3 logits) tells G(source) (class 1), G(target) (class 2) and
real target images (class 3) apart. Eq. 2-7, with the paper's digit weights alpha = beta = 15,
gamma = 0 (`dtn.const_weight`, `tid_weight`, `tv_weight`):
    L_D     = -E_{x in s} log D_1(G(x)) - E_{x in t} log D_2(G(x)) - E_{x in t} log D_3(x)
    L_GANG  = -E_{x in s} log D_3(G(x)) - E_{x in t} log D_3(G(x))
    L_CONST = E_{x in s} d(f(x), f(G(x)))          the f-constancy of the source, d the MSE
    L_TID   = E_{x in t} d_2(x, G(x))              the target identity, d_2 the MSE
    L_TV    = E sum_ij ((z_{i,j+1} - z_ij)^2 + (z_{i+1,j} - z_ij)^2)^(B/2), B = 1, z = G(x)
    L_G     = L_GANG + alpha L_CONST + beta L_TID + gamma L_TV
D and g update in turn every step after the pretraining; Adam(3e-4, beta1 0.5). The authors
released no code; the reference is the paper (Sec. 3-5). Where it leaves a scale open ganjax takes
the MSEs as element means and Adam's rate 3e-4 as the unofficial TensorFlow implementation
yunjey/domain-transfer-network does (whose D is two binary classifiers, not the paper's three-way
one kept here). Departures: f is the DANN MNIST network's 100-d code (the paper's f: a four-layer
convolutional SVHN classifier's 128-d code), and g is a smaller DCGAN-like decoder (`Decoder`).

The transfer metric of the paper (Table 1: an MNIST classifier's accuracy on G(SVHN)) is
`translation/class_accuracy` at evaluation (ganjax's classifier of the target domain, trained on the
target's labels for evaluation only, on G of the held-out source images against their labels). The
task classifier "t" (trained on G(x^s) with the source labels, stop-gradient; Table 2's protocol, a
classifier trained on G(SVHN) and tested on MNIST) gives `target/test_accuracy` like the other
methods; it trains only when g does, after f's pretraining (before, G(x^s) is an untrained g's
output). The step never reads the target's labels nor any field but the source's images and labels
and the target's images (tested).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from ganjax import stabilizers
from ganjax import state as state_lib
from ganjax.algorithms import adaptation
from ganjax.algorithms.common import compute_dtype, grad_norm, init_player, select
from ganjax.algorithms.method import Classifier, Method, Translator
from ganjax.errors import ConfigError
from ganjax.networks.adaptation import ConvDiscriminator, Decoder

ADVERSARIAL = stabilizers.Adversarial(
    objective=False, features=False, penalty=False, d_layers=False,
    why={"objective": "its discriminator is DTN's three-way classifier (Eq. 2-3), not a gan.loss",
         "features": "its discriminator sows no features to match",
         "penalty": "its discriminator's batch norm mixes the samples",
         "d_layers": "its discriminator is DTN's own (ganjax.networks.adaptation)"})


def check(config):
  adaptation.check_streams(config)
  p = config.dtn
  if min(p.const_weight, p.tid_weight, p.tv_weight, p.pretrain_steps) < 0:
    raise ConfigError("dtn.const_weight, tid_weight, tv_weight and pretrain_steps must be >= 0")


def example_batch(config, train):
  return adaptation.example_batch(config, train, "dtn")


def init(config, key, example_batch) -> state_lib.TrainState:
  x = adaptation.images(example_batch["source"], "source")
  dtype = compute_dtype(config)
  f = adaptation.task_network(config)
  k = jax.random.split(key, 5)
  pf = init_player(config, "f", f, k[0], jnp.zeros_like(x))
  code = jax.eval_shape(lambda v: f.apply(v, jnp.zeros_like(x), train=False, features=True), {"params": pf.params})
  players = {"f": pf,
             "g": init_player(config, "g", Decoder(x.shape[1:], width=config.model.width, dtype=dtype), k[1],
                              jnp.zeros(code.shape)),
             "d": init_player(config, "d", ConvDiscriminator(3, width=config.dtn.d_width, dtype=dtype), k[2],
                              jnp.zeros_like(x)),
             "t": init_player(config, "t", adaptation.task_network(config), k[3], jnp.zeros_like(x))}
  fakes = lambda kk, n: (jnp.zeros((n, *x.shape[1:])), jnp.zeros((n, *x.shape[1:])))  # noqa: E731  (G(s), G(t))
  return state_lib.create(config, players, stabilizers.init_extra(config, players, ADVERSARIAL, fakes, k[4]))


def total_variation(z, b: float = 1.0):
  """sum_ij ((z_{i,j+1} - z_ij)^2 + (z_{i+1,j} - z_ij)^2)^(B/2) per image, averaged."""
  dx = z[:, :-1, 1:] - z[:, :-1, :-1]
  dy = z[:, 1:, :-1] - z[:, :-1, :-1]
  return jnp.mean(jnp.sum((dx**2 + dy**2 + 1e-12) ** (b / 2), axis=(1, 2, 3)))


def three_way_loss(logits, cls: int):
  """-E log D_cls(x) for D's softmax over (G(source), G(target), real target), classes 1, 2, 3."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, jnp.full(len(logits), cls - 1)))


def train_step(state, batch, key):
  stab = stabilizers.Stabilizers(state, key, ADVERSARIAL)
  p = state.config.dtn
  f, g, d, t = state.f, state.g, state.d, state.t
  xs, ys = adaptation.source(batch)
  xt = adaptation.target(batch)
  pretraining = state.step < p.pretrain_steps

  def f_objective(params):  # f: the source-domain encoder, trained first and then fixed
    return adaptation.task_loss(f.apply(params, xs)[0], ys)

  f_loss, f_grads = jax.value_and_grad(f_objective)(f.params)
  f = select(pretraining, f.update(f_grads), f)
  encode = lambda x: f.apply(f.params, x, train=False, features=True)[0]  # noqa: E731
  code_s, code_t = jax.lax.stop_gradient(encode(xs)), jax.lax.stop_gradient(encode(xt))
  gs, g_ms = g.apply(g.params, code_s)
  gt, g_ms = g.apply(g.params, code_t, model_state=g_ms)
  hist_s, hist_t = stab.fakes(jax.lax.stop_gradient((gs, gt)), jax.random.fold_in(key, 1))

  def d_objective(params):
    out_s, ms = d.apply(params, stab.d_input(hist_s, jax.random.fold_in(key, 2)))
    out_t, ms = d.apply(params, stab.d_input(hist_t, jax.random.fold_in(key, 3)), model_state=ms)
    out_r, ms = d.apply(params, stab.d_input(xt, jax.random.fold_in(key, 4)), model_state=ms)
    loss = three_way_loss(out_s, 1) + three_way_loss(out_t, 2) + three_way_loss(out_r, 3)
    loss, reg = stab.d_regularize(loss, "d", params)
    return loss, (ms, {"d/p_real_as_real": jnp.mean(jax.nn.softmax(out_r)[:, 2]), **reg})

  (d_loss, (d_ms, d_aux)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(d.params)
  d = select(~pretraining, stab.update("d", d, d_grads, d_ms), d)

  def g_objective(params):
    gs, ms = g.apply(params, code_s)
    gt, ms = g.apply(params, code_t, model_state=ms)
    out_s = d.apply(d.params, stab.d_input(gs, jax.random.fold_in(key, 5)))[0]
    out_t = d.apply(d.params, stab.d_input(gt, jax.random.fold_in(key, 6)))[0]
    gang = three_way_loss(out_s, 3) + three_way_loss(out_t, 3)
    const = jnp.mean((code_s - encode(gs)) ** 2)  # f-constancy: f stays fixed, its input is G(x)
    tid = jnp.mean((xt - gt) ** 2)
    tv = total_variation(gs) if p.tv_weight else 0.0
    loss = gang + p.const_weight * const + p.tid_weight * tid + p.tv_weight * tv
    return stab.g_regularize(loss, "g", params), (ms, gs, {"g/gang": gang, "g/const": const, "g/tid": tid, "g/tv": tv})

  (g_loss, (g_ms, adapted, g_aux)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(g.params)
  g = select(~pretraining, stab.update("g", g, g_grads, g_ms), g)

  def t_objective(params):
    out = t.apply(params, jax.lax.stop_gradient(adapted))[0]
    return adaptation.task_loss(out, ys), adaptation.accuracy(out, ys)

  (t_loss, t_acc), t_grads = jax.value_and_grad(t_objective, has_aux=True)(t.params)
  t = select(~pretraining, t.update(t_grads), t)  # on G(x^s) once g trains
  metrics = {"f/loss": f_loss, "d/loss": d_loss, **d_aux, "d/grad_norm": grad_norm(d_grads), "g/loss": g_loss,
             **g_aux, "g/grad_norm": grad_norm(g_grads), "t/loss": t_loss, "t/train_accuracy": t_acc}
  return stab.finish(state, {"f": f, "g": g, "d": d, "t": t}, metrics)


def translate(state, x, key):
  """G(x) = g(f(x)): source images -> target-domain ones."""
  g = stabilizers.sampler(state)
  return g(state.f(x, features=True))


def predict_class(state, x):
  return jnp.argmax(state.t(x), -1)


METHOD = Method(init=init, train_step=train_step, translator=Translator(translate, streams=adaptation.STREAMS),
                classifier=Classifier(predict_class, streams=adaptation.STREAMS), adversarial=ADVERSARIAL,
                example_batch=example_batch, check=check)
