"""Train-step benchmark: steady-state throughput, time to the first step, FLOP/s, memory, data rate.

  python -m ganjax.bench --config=configs/dcgan.py [--config.batch_size=256] [--steps=20] [--repeats=5]
      [--reference=torch]

Builds the run exactly as training does (same mesh, data, jitted donated step), then reports:
  setup_s           data loading, mesh, the jitted (sharded) init
  first_step_s      the first train step: tracing + compilation + one step
  time_to_first_step_s  setup_s + first_step_s: from nothing to one step done. Cold on a fresh
                    compilation cache, warm when `compilation_cache` already holds the programs
  ms_per_step       median over `repeats` timings of `steps` steps each, after a warm-up
  images_per_s      batch_size / (ms_per_step / 1000)
  gflop_per_step    XLA's cost analysis of the lowered step (flops; counts every convolution on every
                    backend), and achieved GFLOP/s
  peak_rss_mib      the process's peak resident memory (CPU) / device peak bytes where reported
  data_images_per_s the input pipeline alone (grain iterator -> global device arrays)
With --reference=torch (PyTorch installed, e.g. `pip install -e '.[bench]'`), the same networks and
step in PyTorch are timed in the same process, and speedup_vs_torch = torch ms / ganjax ms.
Token sequences add tokens_per_s (batch_size * length per step); a method may time its steady state
instead of its first steps (`Bench.config`: SeqGAN's adversarial step, not its MLE pre-training) and
report the tokens its step draws (`Bench.step_tokens`: rollout_tokens_per_s, the Monte Carlo rollouts'
LSTM steps per second of the whole step) and time one part alone (`Bench.part`: rollout_ms, the
rollouts and their rewards without the updates, and rollout_alone_tokens_per_s).
With --ab=FIELD=VALUE, the config (A) and the config with that field changed (B) are both compiled in
this process and timed alternately: a_ms_per_step, b_ms_per_step (medians) and b_speedup_vs_a.
"""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
import time

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file, e.g. configs/dcgan.py.")
_STEPS = flags.DEFINE_integer("steps", 10, "Steps per timing.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timings; the median is reported.")
_WARMUP = flags.DEFINE_integer("warmup", 3, "Steps after the first, before timing.")
_JSON = flags.DEFINE_string("json", None, "Also write the results to this file.")
_REFERENCE = flags.DEFINE_enum("reference", None, ["torch"], "Also time the same networks in PyTorch.")
_AB = flags.DEFINE_string("ab", None, "FIELD=VALUE: time the config against itself with this field changed, both "
                          "steps compiled in one process and timed alternately (e.g. cpu_ynn_convolutions=true).")
flags.mark_flags_as_required(["config"])


def step_flops(lowered, compiled) -> float:
  """XLA's FLOP count of the step: the HLO cost analysis of the lowered program, before backend passes
  (the compiled program's analysis on GPU leaves out convolutions run by cuDNN as custom calls)."""
  for analysis in (lowered.cost_analysis, compiled.cost_analysis):
    try:
      cost = analysis()
    except Exception:  # not every backend / jax version offers both
      continue
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    if cost and cost.get("flops"):
      return float(cost["flops"])
  return 0.0


def benchmark(config, steps: int = 10, repeats: int = 5, warmup: int = 3, clock=time.perf_counter,
              data_seconds: float = 2.0) -> dict:
  """The figures of the module docstring; `clock` reads the time in seconds (injected by tests) and
  the input pipeline alone is timed for `data_seconds`."""
  import jax  # JAX and the loop only in the process that runs: `python -m` restarts once first (`ganjax.malloc`)

  from ganjax import algorithms, train, xla
  from ganjax.algorithms.method import Bench
  from ganjax.run import Run

  config = config.copy_and_resolve_references()
  config.progress = False
  method = algorithms.get(config.algorithm)
  bench = method.bench or Bench()
  if bench.config is not None:  # the steady state to time (e.g. past a pre-training phase)
    config = bench.config(config)
  extra = {}
  with tempfile.TemporaryDirectory() as workdir:
    t0 = clock()
    run = Run(config, workdir, restore=False)
    setup_s = clock() - t0
    step_fn = train.make_step_fn(run.method, run.mesh, run.state_sharding, xla.compiler_options(config),
                                 train.phase_of(run.method, run.config, 0))
    batches = [run.next_batch() for _ in range(4)]
    state = run.state
    t0 = clock()
    lowered = step_fn.lower(state, batches[0], run.step_key)
    compiled = lowered.compile()
    compile_s = clock() - t0
    flops = step_flops(lowered, compiled)
    t0 = clock()
    state, m = step_fn(state, batches[0], run.step_key)
    jax.block_until_ready(m)
    first_step_s = clock() - t0 + compile_s
    for i in range(warmup):
      state, m = step_fn(state, batches[i % 4], run.step_key)
    jax.block_until_ready(m)
    times = []
    for _ in range(repeats):
      t0 = clock()
      for i in range(steps):
        state, m = step_fn(state, batches[i % 4], run.step_key)
      jax.block_until_ready((state, m))
      times.append((clock() - t0) / steps)
    sec = statistics.median(times)
    if bench.step_tokens is not None:
      for name, count in bench.step_tokens(run.config).items():
        extra[f"{name}_tokens_per_s"] = round(count / sec, 1)
    if bench.part is not None:  # one part of the step alone, e.g. the rollouts
      name, part, count = bench.part(run.config)
      part = jax.jit(part)
      jax.block_until_ready(part(state, batches[0], run.step_key))
      part_times = []
      for _ in range(repeats):
        t0 = clock()
        jax.block_until_ready(part(state, batches[0], run.step_key))
        part_times.append(clock() - t0)
      extra[f"{name}_ms"] = round(statistics.median(part_times) * 1e3, 2)
      extra[f"{name}_alone_tokens_per_s"] = round(count / statistics.median(part_times), 1)
    # The input pipeline alone.
    n_data, t0 = 0, clock()
    while clock() - t0 < data_seconds:
      jax.block_until_ready(run.next_batch())
      n_data += 1
    data_rate = n_data * algorithms.rows_per_step(run.method, config) / (clock() - t0)
    spec = run.split.train.element_spec
    example_shape = next(iter(spec.get(k, (None,))[0] for k in ("image", "b", "tokens") if k in spec), ())
    run.checkpoints.close()
  device = jax.devices()[0]
  mem = device.memory_stats() or {}
  return {
      "config_algorithm": config.algorithm,
      "backend": jax.default_backend(),
      "device": device.device_kind,
      "num_devices": jax.device_count(),
      "batch_size": config.batch_size,
      "setup_s": round(setup_s, 3),
      "first_step_s": round(first_step_s, 3),
      "time_to_first_step_s": round(setup_s + first_step_s, 3),
      "ms_per_step": round(sec * 1e3, 2),
      "ms_per_step_all": [round(t * 1e3, 2) for t in times],
      "images_per_s": round(config.batch_size / sec, 1),
      "gflop_per_step": float(f"{flops / 1e9:.4g}"),
      "achieved_gflop_per_s": float(f"{flops / sec / 1e9:.4g}"),
      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      "device_peak_bytes": mem.get("peak_bytes_in_use"),
      "data_images_per_s": round(data_rate, 1),
      "example_shape": tuple(example_shape),
      "config": run.config,  # as the run resolved it (sizes read from the data); popped by main
      **({"tokens_per_s": round(config.batch_size * example_shape[0] / sec, 1)} if "tokens" in spec else {}),
      **extra,
  }


def with_field(config, assignment: str):
  """A copy of `config` with `FIELD=VALUE` applied (dotted field; VALUE parsed as the field's type)."""
  field, sep, value = assignment.partition("=")
  if not sep:
    raise app.UsageError(f"--ab wants FIELD=VALUE, got {assignment!r}")
  config = config.copy_and_resolve_references()
  *path, name = field.split(".")
  node = config
  for part in path:
    node = node[part]
  old = node.get(name)
  if isinstance(old, bool):
    if value.lower() not in ("true", "false"):
      raise app.UsageError(f"--ab: {field} is a bool, got {value!r}")
    new = value.lower() == "true"
  else:
    new = type(old)(value) if old is not None else value
  node[name] = new
  return config


def ab_benchmark(config, assignment: str, steps: int = 10, repeats: int = 5, warmup: int = 3,
                 clock=time.perf_counter) -> dict:
  """Steady-state step time of `config` (A) and of `config` with `assignment` (B), both built and
  compiled in this process and timed alternately, so that drift of the machine hits both alike;
  `clock` reads the time in seconds (injected by tests)."""
  import jax  # as in `benchmark`: only in the restarted process

  from ganjax import train, xla
  from ganjax.run import Run

  configs = [config.copy_and_resolve_references(), with_field(config, assignment)]
  steps_fns, states = [], []
  with tempfile.TemporaryDirectory() as workdir:
    for i, c in enumerate(configs):
      c.progress = False
      run = Run(c, f"{workdir}/{i}", restore=False)
      step_fn = train.make_step_fn(run.method, run.mesh, run.state_sharding, xla.compiler_options(c),
                                   train.phase_of(run.method, run.config, 0))
      batch = run.next_batch()
      state = run.state
      for _ in range(1 + warmup):
        state, _ = step_fn(state, batch, run.step_key)
      jax.block_until_ready(state)
      run.checkpoints.close()
      steps_fns.append((step_fn, batch, run.step_key))
      states.append(state)
    times = [[], []]
    for _ in range(repeats):
      for i, (step_fn, batch, key) in enumerate(steps_fns):
        t0 = clock()
        state = states[i]
        for _ in range(steps):
          state, _ = step_fn(state, batch, key)
        jax.block_until_ready(state)
        states[i] = state
        times[i].append((clock() - t0) / steps * 1e3)
  a, b = (statistics.median(t) for t in times)
  return {"ab": assignment, "batch_size": config.batch_size, "a_ms_per_step": round(a, 2),
          "b_ms_per_step": round(b, 2), "a_ms_per_step_all": [round(t, 2) for t in times[0]],
          "b_ms_per_step_all": [round(t, 2) for t in times[1]], "b_speedup_vs_a": round(a / b, 3)}


def main(argv):
  del argv
  from absl import logging

  logging.set_verbosity(logging.WARNING)
  if _AB.value:
    result = ab_benchmark(_CONFIG.value, _AB.value, _STEPS.value, _REPEATS.value, _WARMUP.value)
  else:
    result = benchmark(_CONFIG.value, _STEPS.value, _REPEATS.value, _WARMUP.value)
  if _REFERENCE.value == "torch" and not _AB.value:
    try:
      from ganjax.tools import bench_torch
    except ImportError:
      raise app.UsageError("--reference=torch needs PyTorch: pip install torch") from None
    import jax

    device = "cuda" if jax.default_backend() == "gpu" else "cpu"  # the same kind of device as ganjax's run
    ref = bench_torch.reference(result.pop("config"), result.pop("example_shape"), _STEPS.value, _REPEATS.value,
                                _WARMUP.value, device=device)
    result.update(ref)
    result["speedup_vs_torch"] = round(ref["torch_ms_per_step"] / result["ms_per_step"], 2)
  result.pop("example_shape", None)
  result.pop("config", None)
  width = max(map(len, result))
  for k, v in result.items():
    print(f"{k:<{width}}  {v}")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump(result, f, indent=2)


if __name__ == "__main__":
  from ganjax import malloc

  malloc.reexec_with_malloc_settings("ganjax.bench")
  app.run(main)
