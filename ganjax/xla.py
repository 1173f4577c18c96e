"""XLA settings of a run: the persistent compilation cache, and the train step's compile options."""

from __future__ import annotations

import functools
import os
from typing import Optional

import jax
import numpy as np
from absl import logging


def setup_compilation_cache(config):
  path = config.compilation_cache
  if path:
    jax.config.update("jax_compilation_cache_dir", os.path.expanduser(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


# XLA:CPU hands matrix products, reductions and convolutions to its YNNPACK library by default. ganjax
# keeps the first two there and leaves convolutions to XLA's own (Eigen) path, whose weight gradients
# are the faster ones on this repository's CPU: DCGAN steps 1.07x (batch 64) and 1.24x (batch 256) as
# fast, SNGAN's ResNet 1.29x, InfoGAN 1.04x (`python -m ganjax.bench --ab=cpu_ynn_convolutions=true`;
# README, Performance). `cpu_ynn_convolutions=True`
# restores XLA's default. A jaxlib without the option gets no options (and a warning), not an error.
_YNN_OPTION = "xla_cpu_experimental_ynn_fusion_type"
_YNN_WITHOUT_CONVOLUTIONS = "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"


@functools.cache
def _compiler_accepts(option: str, value: str) -> bool:
  try:
    jax.jit(lambda x: x + 1, compiler_options={option: value})(np.float32(0))
    return True
  except Exception as e:  # an unknown option or value: this jaxlib's XLA lacks it
    logging.warning("XLA does not accept %s=%s (%s); using its defaults", option, value, str(e).splitlines()[0])
    return False


def compiler_options(config) -> Optional[dict]:
  """XLA compile options for the train step: on the CPU backend, convolutions kept out of YNNPACK
  unless `config.cpu_ynn_convolutions`; None (XLA's defaults) elsewhere."""
  if jax.default_backend() != "cpu" or config.cpu_ynn_convolutions:
    return None
  return {_YNN_OPTION: _YNN_WITHOUT_CONVOLUTIONS} if _compiler_accepts(_YNN_OPTION, _YNN_WITHOUT_CONVOLUTIONS) else None


def full_optimization() -> Optional[dict]:
  """XLA:CPU's own default optimization, stated explicitly for the jits that pass it (the metric
  networks' training and feature extraction): they then run fully optimized even under
  `jax_disable_most_optimizations`, the test suite's setting that keeps the methods' compiles short
  (a SimCLR step there: 1.2 s unoptimized, 0.07 s optimized). Elsewhere it changes nothing: the
  results are bitwise XLA's defaults. None off the CPU backend."""
  if jax.default_backend() != "cpu":
    return None
  return {"xla_backend_optimization_level": 3, "xla_llvm_disable_expensive_passes": False}
