"""An independent PyTorch port of Salimans et al.'s released MNIST semi-supervised GAN
(openai/improved-gan, mnist_svhn_cifar10/train_mnist_feature_matching.py and nn.py; Theano), trained
on ganjax's data split with ganjax's labeled set and scored as ganjax scores it, to tell whether the
late collapse of the former `configs/sgan.py` recipe (docs/results.md) came from the recipe or from
ganjax (it came from the recipe: today's config is the script's).

Written from a reading of that script, not from ganjax's modules (ganjax only supplies the data,
the labeled indices and nothing else), with each of the script's choices a flag whose default is
the script's (and today's config's) and whose other value is what ganjax's former config did:

  --labeled=permutation    every labeled image once per batch, in a fresh order (ganjax: replacement)
  --init=noisy             the data-dependent initialisation on 500 random training images with D's
                           noise on (ganjax: clean, on the 100 labeled images: "clean_labeled")
  --pixels=unit            [0, 1] pixels, G ends in a sigmoid, input noise 0.3 (ganjax: "signed",
                           [-1, 1], G ends in tanh, noise 0.6)
  --fm=mean                G's loss the mean over the 250 features of the squared moment difference
                           (ganjax: "sum")
  --fm_batch=second        G matches the moments of a second, independently shuffled unlabeled batch
                           (ganjax: "same", D's unlabeled batch of that step)
  --g_init=glorot          G's hidden weights Glorot-uniform, Lasagne's default (ganjax: "lecun", flax's
                           default, truncated normal of variance 1 / fan_in)

The rest is the script's in every run: D = noise(0.3) -> weight-normalised dense 1000-500-250-250-250
(theta ~ N(0, 0.1), fixed scales, ReLU, noise 0.5 after each) -> dense 10 with a trained scale;
G = U[0, 1]^100 -> [dense 500 without bias, batch norm (batch statistics, eps 1e-6, a shift and no
scale), softplus] x 2 -> dense 784 with weight normalisation (trained scale, Glorot-uniform
direction) -> sigmoid; D's loss = CE(labeled) + 1/2 of the unsupervised loss in the
script's form; Adam m / sqrt(v + 1e-8), bias-corrected, beta1 0.5, lr 3e-3 constant; one D update
then one G update per step; batch 100. Every `--eval_every` steps a line of JSON goes to `--out`:
the step, training seconds (evaluations excluded), the held-out accuracy of D's argmax class
(deterministic, no noise) for D itself (`test_accuracy_raw`) and for the running average of its
trained parameters at rate `--average` (`test_accuracy`, divided by 1 - (1 - rate)^t as ganjax
does), and the means since the last line of D's supervised loss, its unsupervised loss without the
1/2 (ganjax's `d/unsupervised`) and G's loss.

  python launch/sgan_torch.py --config=configs/sgan.py --config.data.name=idx:../shared/data/mnist15k \
      --config.data.holdout=2000 --config.num_steps=14000 --out=/tmp/sgan_torch.jsonl
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
from absl import app, flags
from ml_collections import config_flags

from ganjax import data
from ganjax.algorithms.sgan import labeled_indices


def define_flags():
  """The command line's flags (defined only when run as a script, so that the tests can import the
  port's functions next to other absl programs' flags)."""
  config_flags.DEFINE_config_file("config", "configs/sgan.py", "ganjax's SGAN config: data, seed, num_steps, "
                                  "sgan.num_labeled, batch_size")
  flags.DEFINE_enum("labeled", "permutation", ["permutation", "replacement"], "labeled rows per batch")
  flags.DEFINE_enum("init", "noisy", ["noisy", "clean_labeled"], "D's data-dependent initialisation")
  flags.DEFINE_enum("pixels", "unit", ["unit", "signed"], "the players' pixel range")
  flags.DEFINE_enum("fm", "mean", ["mean", "sum"], "G's feature-matching reduction over features")
  flags.DEFINE_enum("fm_batch", "second", ["second", "same"], "the unlabeled batch G matches")
  flags.DEFINE_enum("g_init", "glorot", ["glorot", "lecun"], "G's hidden weights' initialisation")
  flags.DEFINE_float("average", 1e-4, "rate of the running average of D's parameters used at test time")
  flags.DEFINE_float("lr", 3e-3, "both players' Adam learning rate")
  flags.DEFINE_integer("eval_every", 1000, "steps between evaluations")
  flags.DEFINE_string("out", "/tmp/sgan_torch.jsonl", "where the curve's lines of JSON go")
  flags.DEFINE_integer("threads", 0, "torch's intra-op threads (0: its default)")


FLAGS = flags.FLAGS

D_HIDDEN = (1000, 500, 250, 250, 250)


def build(torch, size: int, classes: int, gen, g_init: str = "glorot"):
  """(D's parameters, G's parameters), initialised as the script's layers are (G's hidden weights
  as flax's lecun_normal with `g_init="lecun"`)."""
  def normal(shape, std):
    return (torch.randn(shape, generator=gen) * std).requires_grad_()

  def glorot(fan_in, fan_out, hidden=True):
    if hidden and g_init == "lecun":  # a normal truncated at +-2 std, rescaled to variance 1 / fan_in
      std = 1.0 / math.sqrt(fan_in) / 0.87962566103423978
      w = torch.nn.init.trunc_normal_(torch.empty((fan_in, fan_out)), std=std, a=-2 * std, b=2 * std, generator=gen)
      return w.requires_grad_()
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return ((torch.rand((fan_in, fan_out), generator=gen) * 2 - 1) * a).requires_grad_()

  d, widths = [], (size, *D_HIDDEN, classes)
  for i in range(len(widths) - 1):  # nn.DenseLayer: theta ~ N(0, 0.1), weight_scale 1, b 0
    d.append({"theta": normal((widths[i], widths[i + 1]), 0.1), "scale": torch.ones(widths[i + 1]),
              "b": torch.zeros(widths[i + 1], requires_grad=True)})
  d[-1]["scale"].requires_grad_()  # train_scale=True on the last layer only
  g = {"w1": glorot(100, 500), "b1": torch.zeros(500, requires_grad=True),
       "w2": glorot(500, 500), "b2": torch.zeros(500, requires_grad=True),
       "w3": glorot(500, size, hidden=False), "s3": torch.ones(size, requires_grad=True),
       "b3": torch.zeros(size, requires_grad=True)}
  return d, g


def weights(torch, layer):
  """nn.DenseLayer's W = theta * scale / ||theta|| (per output unit)."""
  th = layer["theta"]
  return th * (layer["scale"] / torch.sqrt(torch.sum(th**2, 0)))


def discriminate(torch, params, x, in_noise, gen, noise=True, upto=None, init=False):
  """D's logits (with `upto`=-3 the script's layers[-3]: the last hidden layer's ReLU output, before
  its noise). `init`: nn.DenseLayer's initialisation pass, each layer's pre-activations normalised
  to zero mean and unit variance over the batch and its scale /= std, b = -mean / std."""
  h = x + in_noise * torch.randn(x.shape, generator=gen) if noise else x
  for i, layer in enumerate(params):
    a = h @ weights(torch, layer)
    if init:
      m = a.mean(0)
      std = torch.sqrt(((a - m)**2).mean(0))
      a = (a - m) / std
      with torch.no_grad():
        layer["scale"].div_(std)
        layer["b"].copy_(-m / std)
    else:
      a = a + layer["b"]
    if i == len(params) - 1:
      return a
    h = torch.relu(a)
    if upto == -3 and i == len(params) - 2:
      return h
    if noise:
      h = h + 0.5 * torch.randn(h.shape, generator=gen)


def generate(torch, g, z, unit: bool):
  """G(z): [dense without bias, batch norm with batch statistics (eps 1e-6, a shift, no scale),
  softplus] x 2, then nn.l2normalize's weight-normalised dense layer and a sigmoid ([0, 1] pixels) or
  tanh (ganjax's [-1, 1])."""
  h = z
  for w, b in (("w1", "b1"), ("w2", "b2")):
    a = h @ g[w]
    a = (a - a.mean(0)) / torch.sqrt(1e-6 + a.var(0, unbiased=False))
    h = torch.nn.functional.softplus(a + g[b])
  w3 = g["w3"] * (g["s3"] / torch.sqrt(1e-6 + torch.sum(g["w3"]**2, 0)))
  a = h @ w3 + g["b3"]
  return torch.sigmoid(a) if unit else torch.tanh(a)


def main(_):
  import torch

  c = FLAGS.config
  if FLAGS.threads:
    torch.set_num_threads(FLAGS.threads)
  gen = torch.Generator().manual_seed(c.seed)
  rng = np.random.default_rng([c.seed, 11])
  split = data.load(c)
  everything = split.train.get(np.arange(split.train.size))
  train = np.asarray(everything["image"], np.float32).reshape(split.train.size, -1)  # [-1, 1]
  labels = np.asarray(everything["label"])
  test = split.test.get(np.arange(split.test.size))
  test_x = np.asarray(test["image"], np.float32).reshape(split.test.size, -1)
  test_y = np.asarray(test["label"])
  unit = FLAGS.pixels == "unit"
  if unit:
    train, test_x = (train + 1) / 2, (test_x + 1) / 2
  in_noise = 0.3 if unit else 0.6
  classes = c.model.num_classes
  lab_idx = labeled_indices(labels, c.sgan.num_labeled, classes, c.seed)  # ganjax's labeled set for this seed
  lab_x, lab_y = torch.from_numpy(train[lab_idx]), torch.from_numpy(labels[lab_idx].astype(np.int64))
  train_t, test_t = torch.from_numpy(train), torch.from_numpy(test_x)
  n, size, bs = len(train), train.shape[1], c.batch_size
  d, g = build(torch, size, classes, gen, FLAGS.g_init)

  def discriminate_(x, params, noise=True, upto=None, init=False):
    return discriminate(torch, params, x, in_noise, gen, noise, upto, init)

  def generate_(m):
    return generate(torch, g, torch.rand((m, 100), generator=gen), unit)

  with torch.no_grad():  # the script's init_param(trainx[:500]) / ganjax's clean pass on the labeled images
    if FLAGS.init == "noisy":
      discriminate_(train_t[rng.permutation(n)[:500]], d, noise=True, init=True)
    else:
      discriminate_(lab_x, d, noise=False, init=True)

  d_params = [p for layer in d for p in layer.values() if p.requires_grad]
  g_params = list(g.values())
  avg = [torch.zeros_like(p) for p in d_params]

  class Adam:  # nn.adam_updates
    def __init__(self, params):
      self.params, self.t = params, 0
      self.m = [torch.zeros_like(p) for p in params]
      self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, grads):
      self.t += 1
      for p, gr, m, v in zip(self.params, grads, self.m, self.v):
        m.mul_(0.5).add_(0.5 * gr)
        v.mul_(0.999).add_(0.001 * gr * gr)
        p.sub_(FLAGS.lr * (m / (1 - 0.5**self.t)) / torch.sqrt(v / (1 - 0.999**self.t) + 1e-8))

  opt_d, opt_g = Adam(d_params), Adam(g_params)

  def lse(x):
    return torch.logsumexp(x, 1)

  def accuracy(params):
    with torch.no_grad():
      return float((discriminate_(test_t, params, noise=False).argmax(1).numpy() == test_y).mean())

  def averaged():
    total = 1 - (1 - FLAGS.average)**opt_d.t
    it = iter(a / total for a in avg)
    return [{k: (next(it) if v.requires_grad else v) for k, v in layer.items()} for layer in d]

  order, order2, pos = rng.permutation(n), rng.permutation(n), 0
  seconds, sums, count = 0.0, np.zeros(3), 0
  with open(FLAGS.out, "w") as out:
    for step in range(1, c.num_steps + 1):
      start = time.perf_counter()
      if pos + bs > n:
        order, order2, pos = rng.permutation(n), rng.permutation(n), 0
      unl = train_t[order[pos:pos + bs]]
      unl2 = train_t[order2[pos:pos + bs]] if FLAGS.fm_batch == "second" else unl
      pos += bs
      pick = (rng.permutation(len(lab_idx))[:bs] if FLAGS.labeled == "permutation"
              else rng.integers(0, len(lab_idx), bs))
      xl, yl = lab_x[pick], lab_y[pick]
      # D: loss_lab + 1 * loss_unl, the script's form (its 1/2 factors inside loss_unl)
      fake = generate_(bs).detach()
      out_lab, out_unl, out_fake = discriminate_(xl, d), discriminate_(unl, d), discriminate_(fake, d)
      loss_lab = -out_lab.gather(1, yl[:, None]).mean() + lse(out_lab).mean()
      l_unl = lse(out_unl)
      loss_unl = (-0.5 * l_unl.mean() + 0.5 * torch.nn.functional.softplus(l_unl).mean()
                  + 0.5 * torch.nn.functional.softplus(lse(out_fake)).mean())
      opt_d.step(torch.autograd.grad(loss_lab + loss_unl, d_params))
      with torch.no_grad():
        for a, p in zip(avg, d_params):
          a.add_(FLAGS.average * (p - a))
      # G: feature matching on D's layers[-3], against the updated D, a fresh sample
      mom_gen = discriminate_(generate_(bs), d, upto=-3).mean(0)
      mom_real = discriminate_(unl2, d, upto=-3).mean(0).detach()
      sq = (mom_gen - mom_real)**2
      loss_gen = sq.mean() if FLAGS.fm == "mean" else sq.sum()
      opt_g.step(torch.autograd.grad(loss_gen, g_params))
      seconds += time.perf_counter() - start
      sums += [loss_lab.item(), loss_unl.item(), loss_gen.item()]
      count += 1
      if step % FLAGS.eval_every == 0 or step == c.num_steps:
        row = {"step": step, "train_seconds": round(seconds, 2), "test_accuracy": accuracy(averaged()),
               "test_accuracy_raw": accuracy(d), "d/supervised": sums[0] / count,
               "d/unsupervised": 2 * sums[1] / count, "g/loss": sums[2] / count}
        out.write(json.dumps(row) + "\n")
        out.flush()
        print(json.dumps(row), flush=True)
        sums, count = np.zeros(3), 0


if __name__ == "__main__":
  define_flags()
  app.run(main)
