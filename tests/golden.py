"""Golden trajectories: every config's metrics over its first steps on the bundled data, recorded
once so that a refactor can be checked bitwise against them (`tests/test_golden.py`).

  python tests/golden.py            # rewrites tests/golden.json (only after a deliberate change)
  python tests/golden.py --missing --keys variant:gan_sn   # records absent rows and re-records the named ones

Two kinds of rows, both at the tiny settings of `tests/tiny.py`:
- `config:<file>[:<arg>]`: what `train.train` writes to metrics.jsonl for 4 steps on 4 simulated
  devices (the rows of `tests/test_train.py::test_every_config_trains_and_writes_its_outputs`);
- `variant:<name>`: a config with stabilizers switched on, 2 train steps on one device, jitted
  directly (every metric of every step, and a checksum of the final state).
Floats are stored with Python's repr, so equality is bitwise.
"""

import json
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "golden.json"
# Steps whose semantics were changed on purpose since the file was recorded, and why; their rows
# are not compared (tests/test_golden.py says which rows were skipped).
CHANGED = {}
# rows compared on D's metrics of step 1 only
FIRST_D_STEP_ONLY = ()


def _set(c, dotted: str, value):
  *parents, leaf = dotted.split(".")
  for p in parents:
    c = c[p]
  c[leaf] = value


# name -> (config file, {dotted field: value}); the field names are today's.
VARIANTS = {
    "gan_ema_noise_hist": ("gan.py", {"gan.ema_decay": 0.9, "gan.instance_noise": 0.3, "gan.historical_averaging": 0.01}),
    "gan_replay_smooth": ("gan.py", {"gan.replay_size": 16, "gan.real_label": 0.9}),
    "dcgan_mbd_fm": ("dcgan.py", {"gan.minibatch_features": (4, 3), "gan.g_objective": "feature_matching"}),
    "dcgan_vbn_d": ("dcgan.py", {"gan.d_virtual_batch_norm": 4}),
    "wgan_clip_dsteps": ("wgan.py", {"gan.d_steps": 5}),
    "wgan_gp_r1": ("wgan_gp.py", {"gan.penalty": "r1"}),
    "gan_sn": ("gan.py", {"gan.spectral_norm": True}),
    "unrolled": ("unrolled_gan.py", {"unrolled.steps": 5}),  # recorded as gan.py:ring8 with unrolled_steps=5 and Metz's rates
    "gman": ("gman.py", {"gman.num_discriminators": 5, "gman.softness": 1.0}),  # recorded as dcgan.py with num_discriminators=5
}


def variant_config(name):
  from tiny import load_config, tiny

  file, overrides = VARIANTS[name]
  c = tiny(load_config(file))
  c.mesh.num_devices = 1
  for k, v in overrides.items():
    _set(c, k, v)
  return c


def variant_trajectory(name, steps: int = 2):
  import jax
  import numpy as np

  from ganjax import algorithms, data

  c = variant_config(name)
  method = algorithms.get(c.algorithm)
  split = data.load(c)
  pipeline = data.make(split.train, algorithms.rows_per_step(method, c), c.seed)
  example = algorithms.example_batch(method, c, split.train)
  state = jax.jit(lambda k, e: method.init(c, k, e))(jax.random.fold_in(jax.random.key(c.seed), 0), example)
  step = jax.jit(method.train_step)
  rows = []
  for t in range(steps):
    state, m = step(state, next(pipeline), jax.random.fold_in(jax.random.key(c.seed), t))
    rows.append({k: float(np.asarray(v, np.float64).mean()) for k, v in sorted(jax.device_get(m).items())})
  checksum = float(sum(np.asarray(x, np.float64).sum() for x in jax.tree.leaves(state.players) if x.dtype != bool))
  return {"steps": rows, "players_checksum": checksum}


def config_rows(name, arg):
  """The metrics.jsonl rows of the tiny 4-step run, without the timing column."""
  import tempfile

  from tiny import load_config, tiny

  from ganjax import train

  c = tiny(load_config(name, arg), 4)
  c.sample_every = 0
  c.eval_every = -1
  with tempfile.TemporaryDirectory() as d:
    train.train(c, d)
    rows = [json.loads(line) for line in open(os.path.join(d, "metrics.jsonl"))]
  return [{k: v for k, v in r.items() if k != "steps_per_sec"} for r in rows]


def main(argv=None):
  """Rewrites every row; `--missing` records only the rows golden.json lacks, and `--keys K [K ...]`
  (e.g. variant:gan_sn config:seqgan.py) re-records those, keeping every other row as it is."""
  import argparse

  p = argparse.ArgumentParser()
  p.add_argument("--missing", action="store_true")
  p.add_argument("--keys", nargs="*", default=[])
  a = p.parse_args(argv)
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
  sys.path.insert(0, str(HERE))
  import jax

  jax.config.update("jax_disable_most_optimizations", True)
  from test_train import CONFIG_ARGS

  partial = a.missing or a.keys
  out = json.loads(GOLDEN.read_text()) if partial else {}

  def wanted(key):
    return not partial or key in a.keys or (a.missing and key not in out)

  for name, arg in CONFIG_ARGS:
    key = f"config:{name}" + (f":{arg}" if arg else "")
    if wanted(key):
      out[key] = config_rows(name, arg)
      print(key, flush=True)
  for name in VARIANTS:
    if wanted(f"variant:{name}"):
      out[f"variant:{name}"] = variant_trajectory(name)
      print(name, flush=True)
  GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
  main()
