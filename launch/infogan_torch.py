"""An independent PyTorch InfoGAN, trained on the same data split as ganjax's and scored with the
same metric, to tell whether a difference in cluster accuracy comes from the recipe or from the
implementation (the PyTorch reference it was compared with is not in the repository).

The networks are `ganjax.tools.bench_torch`'s mirror of `ganjax.networks.infogan` (the paper's Table 1)
and the step its plain-PyTorch InfoGAN step (`bench_torch.infogan_trainer`, which the bench times),
from the config's settings: `info.q_step` (d: Q and D's trunk descend the MI term in D's step, G in
G's; g: Q with G in G's step; separate: a third update), `info.lambda_*`,
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
import time

import numpy as np
from absl import app, flags
from ml_collections import config_flags

from ganjax import data, metrics
from ganjax.tools.bench_torch import infogan_trainer, init_weights

config_flags.DEFINE_config_file("config", "configs/infogan.py", "an InfoGAN config")
flags.DEFINE_enum("init", "torch", ["torch", "flax", "normal"], "the weights' initialisation")
flags.DEFINE_integer("eval_every", 500, "steps between evaluations")
flags.DEFINE_string("out", "/tmp/infogan_torch.jsonl", "where the curve's lines of JSON go")
flags.DEFINE_integer("threads", 0, "torch's intra-op threads (0: its default)")
FLAGS = flags.FLAGS


def cluster_accuracy(pred, labels) -> float:
  return metrics.class_accuracy(pred, labels, "hungarian")[1]


def main(_):
  import torch
  from torch import nn

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
  if c.info.q_step not in ("d", "g", "separate"):
    raise app.UsageError(f"unknown info.q_step={c.info.q_step!r}")
  t = infogan_trainer(torch, nn, c, train.shape[1:])
  for m in (t.g, t.trunk, t.head, t.q):  # in place: the optimizers hold the same tensors
    init_weights(torch, nn, m, FLAGS.init)
  trunk, q, k, b = t.trunk, t.q, c.info.categories, c.batch_size

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
      loss_d, loss_g = t.step(real)
      seconds += time.perf_counter() - t0
      if step % FLAGS.eval_every == 0 or step == c.num_steps:
        row = {"step": step, "train_seconds": round(seconds, 1), "cluster_accuracy": evaluate(),
               "d_loss": float(loss_d), "g_loss": float(loss_g)}
        out.write(json.dumps(row) + "\n")
        out.flush()
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
  app.run(main)
