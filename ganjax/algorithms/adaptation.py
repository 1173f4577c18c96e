"""What the domain-adaptation methods share (`dann`, `dtn`, `pixelda`, `simgan`): their two data
streams, the task classifier, and its loss. Never a train step.

Every method reads two named streams, `data.streams.source` (labelled) and `data.streams.target`
(its labels, where it has any, are for evaluation only: the steps never read them -- tested). A
stream of paired rows (`blend:<data>`, `mnist_m`: {"a": digit, "b": its MNIST-M blend}) gives its
"a" side as the source domain and its "b" side as the target domain, so both streams can name the
same data, each shuffled on its own (Ganin et al. build MNIST-M from MNIST's own training digits);
a single-domain stream gives its "image"s (`common.domain`). The methods' records name the two
streams (`Classifier(..., streams=STREAMS)`, `Translator(..., streams=STREAMS)`), so evaluation scores
the task classifier on each stream's held-out rows of its own domain: `target/test_accuracy`, the
figure of the papers' tables, and `source/test_accuracy`.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

from ganjax import data
from ganjax.algorithms.common import compute_dtype, domain
from ganjax.errors import ConfigError, DataError
from ganjax.networks.adaptation import Classifier

STREAMS = ("source", "target")
SIDES = {"source": "a", "target": "b"}  # the domain each stream gives, where its rows are paired


def check_streams(config):
  if sorted(config.data.streams) != sorted(STREAMS):
    raise ConfigError(f"{config.algorithm} adapts from data.streams.source (labelled) to data.streams.target; this "
                      f"config has {sorted(config.data.streams) or 'none'}")


def images(rows: dict, stream: str):
  """The images of stream `stream`'s rows in that stream's own domain."""
  return domain(rows, SIDES[stream])


def example_batch(config, train, what: str):
  """Two rows of each stream, after the checks every method needs: labels on the source stream,
  the same image shape in both domains."""
  data.require_labels(train["source"], f"{what} (the source domain's labels)")
  rows = {s: train[s].get(np.arange(2)) for s in STREAMS}
  xs, xt = images(rows["source"], "source"), images(rows["target"], "target")
  if xs.ndim != 4 or xs.shape[1:] != xt.shape[1:]:
    raise DataError(f"{what} needs source and target images of one shape: data.streams.source "
                    f"({config.data.streams.source}) gives {xs.shape[1:]}, data.streams.target "
                    f"({config.data.streams.target}) gives {xt.shape[1:]} (set data.image_size; grey sources of "
                    f"a colour target: blend:<data>'s 'a' side is the digit in 3 channels)")
  return rows


def source(batch):
  """(source images, their labels)."""
  return images(batch["source"], "source"), batch["source"]["label"]


def target(batch):
  """The target images, never their labels."""
  return images(batch["target"], "target")


def task_network(config):
  """The task classifier of every method and of the bounds (`ganjax.networks.adaptation.Classifier`)."""
  return Classifier(config.model.num_classes, dtype=compute_dtype(config))


def task_loss(logits, labels):
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def accuracy(logits, labels):
  return jnp.mean(jnp.argmax(logits, -1) == labels)
