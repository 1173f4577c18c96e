"""DANN (Ganin et al. 2016): the MNIST networks (conv 32-48, fc 100-100-10 / 100-1), a gradient-reversal
layer with lambda_p = 2 / (1 + exp(-10 p)) - 1, SGD (momentum 0.9) with mu_p = 0.01 / (1 + 10 p)^0.75,
64 rows of each stream per step, the domain loss of Eq. 18 (each stream's mean, summed; "pooled": the
released code's one mean over both). The offline default adapts the bundled digits (28 x 28) to their
MNIST-M blend (`blend:digits`); `:source_only` and `:target_only` are the bounds on the same networks
with DANN's recipe; `:source_only:<method>` / `:target_only:<method>` (pixelda | dtn | simgan) with that
method's task-classifier recipe: its optimizer `optim.t`, batch size, streams and image size, and as
many steps as its classifier trains (DTN's: num_steps - dtn.pretrain_steps).

  python -m ganjax.main --config=configs/dann.py             --workdir=/tmp/dann       # digits -> digits-M
  python -m ganjax.main --config=configs/dann.py:source_only --workdir=/tmp/dann_src   # lower bound
  python -m ganjax.main --config=configs/dann.py:target_only --workdir=/tmp/dann_tgt   # upper bound (target labels)
  python -m ganjax.main --config=configs/dann.py:source_only:pixelda --workdir=/tmp/src_pixelda  # PixelDA's recipe
  # MNIST -> MNIST-M (13,000 MNIST digits to train, the same 2,000 held out):
  python -m ganjax.main --config=configs/dann.py --workdir=/tmp/dann_mnistm \
      --config.data.streams.source=blend:idx:../shared/data/mnist15k \
      --config.data.streams.target=blend:idx:../shared/data/mnist15k --config.data.holdout=2000
  # digits (8 x 8, upsampled) -> MNIST:
  python -m ganjax.main --config=configs/dann.py --workdir=/tmp/dann_digits_mnist \
      --config.data.streams.source=digits --config.data.streams.target=idx:../shared/data/mnist15k \
      --config.data.holdouts.target=2000
"""

import importlib.util
import pathlib

import ml_collections

from ganjax import base_config

VARIANTS = {None: (True, "source"), "source_only": (False, "source"), "target_only": (False, "target")}
RECIPES = ("pixelda", "dtn", "simgan")  # methods whose task classifier a bound can be trained like


def get_config(arg=None):
  bounds = [b for b in VARIANTS if b]
  arg = base_config.argument("dann.py", arg, (*bounds, *(f"{b}:{r}" for b in bounds for r in RECIPES)))
  bound, _, recipe = (arg or "").partition(":")
  c = dann_config(bound or None)
  if recipe:
    classifier_recipe(c, recipe)
  return c


def dann_config(arg):
  c = base_config.get_config()
  c.algorithm = "dann"
  base_config.domain_streams(c, "blend:digits", "blend:digits")
  c.data.image_size = 28  # MNIST-M's size
  c.batch_size = 64  # rows of each stream per step
  c.num_steps = 3000
  c.sample_every = 0  # no generator: nothing to draw
  sgd = base_config.optimizer("sgd", 0.01, momentum=0.9, anneal_alpha=10.0, anneal_beta=0.75)
  c.optim = ml_collections.ConfigDict({"f": sgd, "c": sgd.copy_and_resolve_references(),
                                       "d": sgd.copy_and_resolve_references()})
  c.dann = ml_collections.ConfigDict()
  c.dann.adapt, c.dann.labels = VARIANTS[arg]  # the domain loss; whose labels train the label predictor
  c.dann.lambda_max = 1.0  # lambda_p's scale (the paper's schedule tends to 1)
  c.dann.gamma = 10.0  # lambda_p = 2 / (1 + exp(-gamma p)) - 1
  c.dann.domain_average = "per_stream"  # L_d: Eq. 18's per-stream means, summed | "pooled" (the released code)
  c.dann.recipe = "dann"  # whose training recipe the label predictor follows (`:source_only:<method>`)
  return c


def classifier_recipe(c, method: str):
  """The bound trained as `method`'s task classifier "t" is: its optimizer (for G_f and G_y), batch
  size, streams, image size and number of classifier updates."""
  spec = importlib.util.spec_from_file_location(f"{method}_config", pathlib.Path(__file__).with_name(f"{method}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  m = module.get_config()
  c.optim.f = m.optim.t.copy_and_resolve_references()
  c.optim.c = m.optim.t.copy_and_resolve_references()
  c.batch_size = m.batch_size
  c.num_steps = m.num_steps - (m.dtn.pretrain_steps if method == "dtn" else 0)  # DTN's t trains after f's pretraining
  c.data.streams = m.data.streams.copy_and_resolve_references()
  c.data.holdouts = m.data.holdouts.copy_and_resolve_references()
  c.data.image_size = m.data.image_size
  c.dann.recipe = method
