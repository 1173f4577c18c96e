"""Benchmark of the set metrics' time and memory at the standard protocol's sizes.

  python -m ganjax.metrics.bench [--real=50000] [--fake=50000] [--dim=128] [--backend=auto]
      [--block_mib=64] [--kid_subsets=100] [--json=FILE]

Draws real and fake feature sets (Gaussian, the fake one shifted by 0.1 so that no metric is
trivial), runs `ganjax.metrics.sets.score` (FID, KID, precision/recall, density/coverage) and
prints each metric's seconds and the process's peak resident memory. `--block_mib=0` computes every
distance matrix in one block (the old, quadratic-memory path), for comparison at smaller sizes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

from ganjax.metrics import sets


def main(argv=None) -> dict:
  p = argparse.ArgumentParser(prog="python -m ganjax.metrics.bench")
  p.add_argument("--real", type=int, default=50_000)
  p.add_argument("--fake", type=int, default=50_000)
  p.add_argument("--dim", type=int, default=128)
  p.add_argument("--backend", default="auto", choices=["auto", "numpy", "jax"],
                 help="auto: JAX when it is imported and has an accelerator (pass --backend=jax to import it)")
  p.add_argument("--block_mib", type=float, default=64)
  p.add_argument("--kid_subsets", type=int, default=100)
  p.add_argument("--json", default="")
  args = p.parse_args(argv)
  if args.backend == "jax":
    import importlib

    importlib.import_module("jax")

  rng = np.random.default_rng(0)
  real = rng.normal(size=(args.real, args.dim)).astype(np.float32)
  fake = (rng.normal(size=(args.fake, args.dim)) + 0.1).astype(np.float32)
  before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  block = int(args.block_mib * 2**20) if args.block_mib > 0 else 1 << 62
  t = time.perf_counter()
  out = sets.score(real, fake, kid_subsets=args.kid_subsets,
                   kid_subset_size=sets.kid_subset_size(0, args.real, args.fake, args.kid_subsets),
                   backend=args.backend, block_bytes=block, progress=sys.stderr.isatty())
  out["seconds/total"] = round(time.perf_counter() - t, 3)
  out.update(real=args.real, fake=args.fake, dim=args.dim, block_mib=args.block_mib, backend=args.backend,
             peak_rss_mib_before=round(before), peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                                                   / 1024))
  print(json.dumps(out, indent=2))
  if args.json:
    with open(args.json, "w") as f:
      json.dump(out, f, indent=2)
  return out


if __name__ == "__main__":
  main()
