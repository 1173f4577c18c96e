"""An independent PyTorch InfoGAN, trained on the same data split as ganjax's and scored with the
same metric, to tell whether a difference in cluster accuracy comes from the recipe or from the
implementation (issue #18's PyTorch reference is not in the repository).

The networks are `ganjax.bench_torch`'s mirror of `ganjax.networks.infogan` (the paper's Table 1);
the step is written here in plain PyTorch from the config's settings: `info.q_step` (d: Q and D's
trunk descend the MI term in D's step, G in G's; g: Q with G in G's step), `info.lambda_*`,
`info.continuous_variance`, `optim.{g,d,q}` (Adam), `model.latent_dist`, `batch_size`,
`num_steps`. `--init` chooses the weights' initialisation: "torch" (PyTorch's defaults:
U(+-1/sqrt(fan_in)) weights and biases), "flax" (ganjax's `model.weight_init=lecun`: truncated-normal
weights of variance 1/fan_in, zero biases) or "normal" (the authors' code, ganjax's
`model.weight_init=normal`: N(0, 0.02^2) weights, zero biases, batch-norm scales N(1, 0.02^2)).
`model.leak` sets the leaky ReLUs' slope. Every `--eval_every` steps it writes a line of JSON to `--out`: the step,
the training seconds so far (evaluation excluded) and the Hungarian cluster accuracy of
argmax_c Q(c | x) on the held-out images (batch norm's running averages, as ganjax evaluates).

  python launch/infogan_torch.py --config=configs/infogan.py --config.batch_size=64 \
      --config.num_steps=3000 --config.data.name=idx:../shared/data/mnist15k --config.data.holdout=2000 \
      --init=torch --out=/tmp/infogan_torch.jsonl
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
from absl import app, flags
from ml_collections import config_flags

config_flags.DEFINE_config_file("config", "configs/infogan.py", "an InfoGAN config")
flags.DEFINE_enum("init", "torch", ["torch", "flax", "normal"], "the weights' initialisation")
flags.DEFINE_integer("eval_every", 500, "steps between evaluations")
flags.DEFINE_string("out", "/tmp/infogan_torch.jsonl", "where the curve's lines of JSON go")
flags.DEFINE_integer("threads", 0, "torch's intra-op threads (0: its default)")
FLAGS = flags.FLAGS


def flax_init(torch, nn, module):
  """ganjax's (flax's) initialisation: lecun_normal (truncated normal, variance 1/fan_in) kernels,
  zero biases; batch norm's scale 1 and offset 0 (PyTorch's default too)."""
  for m in module.modules():
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
      w = m.weight
      if isinstance(m, nn.ConvTranspose2d):  # (in, out, kh, kw): flax's fan_in is kh * kw * in
        fan_in = w.shape[0] * w.shape[2] * w.shape[3]
      else:
        fan_in = math.prod(w.shape[1:])
      std = 1.0 / math.sqrt(fan_in) / 0.87962566103423978  # the truncated normal's correction
      with torch.no_grad():
        nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std)
        if m.bias is not None:
          m.bias.zero_()


def normal_init(torch, nn, module):
  """The authors' code's initialisation (openai/InfoGAN, custom_ops.py): kernels ~ N(0, 0.02^2) (the
  convolutions' truncated at 2 std), zero biases, batch-norm scales ~ N(1, 0.02^2)."""
  for m in module.modules():
    with torch.no_grad():
      if isinstance(m, nn.Conv2d):
        nn.init.trunc_normal_(m.weight, std=0.02, a=-0.04, b=0.04)
      elif isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, std=0.02)
      elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
      if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and m.bias is not None:
        m.bias.zero_()


def cluster_accuracy(pred, labels) -> float:
  from ganjax import metrics

  return metrics.class_accuracy(pred, labels, "hungarian")[1]


def main(_):
  import torch
  from torch import nn

  from ganjax import data
  from ganjax.bench_torch import _infogan

  c = FLAGS.config
  if FLAGS.threads:
    torch.set_num_threads(FLAGS.threads)
  torch.manual_seed(c.seed)
  split = data.load(c)
  train = np.asarray(split.train.get(np.arange(split.train.size))["image"])  # (N, H, W, C) in [-1, 1]
  test = split.test.get(np.arange(split.test.size))
  test_x = torch.from_numpy(np.asarray(test["image"])).permute(0, 3, 1, 2).contiguous()
  test_y = np.asarray(test["label"])
  train_x = torch.from_numpy(train).permute(0, 3, 1, 2).contiguous()
  g, trunk, head, q = _infogan(torch, nn, c, train.shape[1:])
  if FLAGS.init != "torch":
    for m in (g, trunk, head, q):
      (flax_init if FLAGS.init == "flax" else normal_init)(torch, nn, m)
  k, nc, b = c.info.categories, c.info.continuous, c.batch_size

  def adam(params, o):
    return torch.optim.Adam(params, lr=o.lr, betas=(o.b1, o.b2), eps=o.eps)

  og, od, oq = adam(g.parameters(), c.optim.g), adam([*trunk.parameters(), *head.parameters()], c.optim.d), \
      adam(q.parameters(), c.optim.q)
  where = c.info.q_step
  if where not in ("d", "g"):
    raise app.UsageError(f"info.q_step={where!r}: this script trains 'd' or 'g'")
  bce = nn.functional.binary_cross_entropy_with_logits
  ones, zeros = torch.ones(b), torch.zeros(b)

  def codes():
    cat = torch.randint(0, k, (b,))
    cont = torch.rand(b, nc) * 2 - 1
    z = torch.rand(b, c.model.latent_dim) * 2 - 1 if c.model.latent_dist == "uniform" else torch.randn(b, c.model.latent_dim)
    return torch.cat([z, nn.functional.one_hot(cat, k).float(), cont], 1), cat, cont

  def mi(qo, cat, cont):  # ganjax.algorithms.infogan.mi_loss, written again
    mu = qo[:, k:k + nc]
    log_var = qo[:, k + nc:k + 2 * nc] if c.info.continuous_variance == "learned" else torch.zeros_like(mu)
    nll = 0.5 * (log_var + (cont - mu)**2 * torch.exp(-log_var)).sum(1).mean()
    return c.info.lambda_cat * nn.functional.cross_entropy(qo[:, :k], cat) + c.info.lambda_cont * nll

  def evaluate():
    for m in (trunk, q):
      m.eval()
    with torch.no_grad():
      pred = torch.cat([q(trunk(test_x[i:i + 500]))[:, :k].argmax(1) for i in range(0, len(test_x), 500)])
    for m in (trunk, q):
      m.train()
    return cluster_accuracy(pred.numpy(), test_y)

  rng = np.random.default_rng(c.seed)
  order, pos, seconds = rng.permutation(len(train_x)), 0, 0.0
  with open(FLAGS.out, "w") as out:
    for step in range(1, c.num_steps + 1):
      t0 = time.perf_counter()
      if pos + b > len(order):
        order, pos = rng.permutation(len(train_x)), 0
      real = train_x[order[pos:pos + b]]
      pos += b
      z, cat, cont = codes()
      fake = g(z).detach()
      hf = trunk(fake)
      loss_d = bce(head(trunk(real))[:, 0], ones) + bce(head(hf)[:, 0], zeros)
      if where == "d":
        loss_d = loss_d + mi(q(hf), cat, cont)
      od.zero_grad()
      oq.zero_grad()
      loss_d.backward()
      od.step()
      if where == "d":
        oq.step()
      z, cat, cont = codes()
      h = trunk(g(z))
      loss_g = bce(head(h)[:, 0], ones) + mi(q(h), cat, cont)
      og.zero_grad()
      oq.zero_grad()
      loss_g.backward()
      og.step()
      if where == "g":
        oq.step()
      seconds += time.perf_counter() - t0
      if step % FLAGS.eval_every == 0 or step == c.num_steps:
        row = {"step": step, "train_seconds": round(seconds, 1), "cluster_accuracy": evaluate(),
               "d_loss": float(loss_d), "g_loss": float(loss_g)}
        out.write(json.dumps(row) + "\n")
        out.flush()
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
  app.run(main)
