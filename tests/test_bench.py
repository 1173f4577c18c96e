import re

import pytest

from ganjax import bench


TICK = 1 / 256  # seconds: every multiple is exact in binary, so the injected times add up exactly


class Clock:
  """An injected clock that moves on by the next of `increments` (in TICKs, cycled) each time it is read."""

  def __init__(self, *increments):
    self.increments, self.calls, self.now = increments or (1,), 0, 0.0

  def __call__(self):
    self.now += self.increments[self.calls % len(self.increments)] * TICK
    self.calls += 1
    return self.now


def test_benchmark_reports_every_figure(config_of):
  """The figures from injected times: every interval read is one TICK, so a timing of `steps` steps
  is TICK / steps a step; the input pipeline runs until 2.5 TICKs have passed (two batches, read
  over 4 TICKs). Values are rounded to the last digit shown."""
  import resource

  c = config_of("gan.py")
  rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  r = bench.benchmark(c, steps=2, repeats=2, warmup=1, clock=Clock(), data_seconds=2.5 * TICK)
  rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  assert r["example_shape"] == (8, 8, 1) and r["batch_size"] == c.batch_size == 8
  assert r["setup_s"] == pytest.approx(TICK, abs=5e-4)
  assert r["first_step_s"] == pytest.approx(2 * TICK, abs=5e-4)  # compilation, then the step
  assert r["time_to_first_step_s"] == pytest.approx(3 * TICK, abs=5e-4)
  assert r["ms_per_step_all"] == [pytest.approx(1e3 * TICK / 2, abs=5e-3)] * 2
  assert r["ms_per_step"] == pytest.approx(1e3 * TICK / 2, abs=5e-3)
  assert r["images_per_s"] == pytest.approx(8 / (TICK / 2), abs=0.05)
  assert r["data_images_per_s"] == pytest.approx(2 * 8 / (4 * TICK), abs=0.05)
  assert r["gflop_per_step"] > 0  # XLA's count (tested exactly in the next-but-one test); 0 when there is none
  assert r["achieved_gflop_per_s"] == pytest.approx(r["gflop_per_step"] / (TICK / 2), rel=1e-3)  # 4 digits each
  assert rss_before - 0.05 <= r["peak_rss_mib"] <= rss_after + 0.05  # this process's peak, in MiB (0.1 shown)


def test_seqgan_benchmark_times_the_adversarial_step_and_its_rollouts(config_of):
  """SeqGAN's token figures from injected times: a step takes one TICK, the rollouts alone one TICK."""
  c = config_of("seqgan.py")
  r = bench.benchmark(c, steps=1, repeats=1, warmup=0, clock=Clock(), data_seconds=0.5 * TICK)
  b, t, n = c.batch_size, c.data.seq_len, c.seqgan.num_rollouts
  assert r["ms_per_step"] == pytest.approx(1e3 * TICK, abs=5e-3)
  assert r["rollout_ms"] == pytest.approx(1e3 * TICK, abs=5e-3)
  assert r["tokens_per_s"] == pytest.approx(b * t / TICK, abs=0.05)
  assert r["rollout_tokens_per_s"] == pytest.approx(b * n * (t - 1) * t / TICK, abs=0.05)
  assert r["rollout_alone_tokens_per_s"] == pytest.approx(b * n * (t - 1) * t / TICK, abs=0.05)
  assert r["config"].model.vocab_size == 50 and r["config"].seqgan.pretrain_g_steps == 0  # read from the data; adversarial


def test_torch_reference_times_the_same_step(config_of):
  pytest.importorskip("torch")  # optional: `pip install -e '.[bench]'`
  from ganjax.tools import bench_torch

  for name, shape in (("gan.py", (8, 8, 1)), ("dcgan.py", (8, 8, 1)), ("vae.py", (8, 8, 1)), ("infogan.py", (8, 8, 1)),
                      ("sngan.py", (8, 8, 1)), ("dann.py", (28, 28, 3)), ("simgan.py", (8, 8, 1)), ("seqgan.py", (8,))):
    c = config_of(name)
    if name == "seqgan.py":  # as bench.main passes it: the sizes read from the data
      c.model.vocab_size, c.model.seq_len = 50, 8
    r = bench_torch.reference(c, shape, steps=1, repeats=1, warmup=1)
    assert r["torch_ms_per_step"] > 0 and r["torch_images_per_s"] > 0


def test_torch_references_have_the_adaptation_networks_parameter_counts():
  pytest.importorskip("torch")
  import jax
  import jax.numpy as jnp
  from torch import nn
  import torch

  from ganjax.tools import bench_torch
  from ganjax.networks import adaptation, resnet_generator
  from tiny import load_config

  count = lambda module, x: sum(p.size for p in jax.tree.leaves(module.init(jax.random.key(0), x, train=False)["params"]))  # noqa: E731
  torch_count = lambda *ms: sum(p.numel() for m in ms for p in m.parameters())  # noqa: E731
  c = load_config("simgan.py")
  for size in (28, 8):  # VALID and SAME convolutions
    x = jnp.zeros((1, size, size, 3))
    features, label, _ = bench_torch._ganin(torch, nn, 3, size, 10)
    assert torch_count(features, label) == count(adaptation.Classifier(10), x)
  x = jnp.zeros((1, 28, 28, 1))
  r = bench_torch._resnet_generator(torch, nn, c, 1, 1, c.simgan.blocks, downsamplings=0, edge=3, norm="none")
  assert torch_count(r) == count(resnet_generator.ResnetGenerator(1, c.model.width, c.simgan.blocks, 0, "none", 3), x)
  assert torch_count(bench_torch._patch_discriminator(nn, 1, 96)) == count(adaptation.PatchDiscriminator(96), x)


def test_step_flops_counts_a_convolution_as_2_macs_per_output_tap():
  import jax
  import jax.numpy as jnp

  x, w = jnp.ones((2, 16, 16, 3)), jnp.ones((3, 3, 3, 8))
  conv = jax.jit(lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                                           dimension_numbers=("NHWC", "HWIO", "NHWC")))
  lowered = conv.lower(x, w)
  expected = 2 * 2 * 14 * 14 * 8 * 3 * 3 * 3  # 2 * batch * output pixels * output channels * taps
  assert bench.step_flops(lowered, lowered.compile()) == expected


def test_malloc_settings_restart_only_when_wanted(tmp_path):
  """The entry points restart once with glibc's malloc set to reuse freed memory; not elsewhere,
  not when opted out or set by the user, and the restarted process sees the settings."""
  import os
  import subprocess
  import sys

  from ganjax import malloc

  assert malloc.wanted({}, "linux")
  assert not malloc.wanted({}, "darwin")
  assert not malloc.wanted({"GANJAX_MALLOC": "0"}, "linux")
  assert not malloc.wanted({"MALLOC_ARENA_MAX": "4"}, "linux")  # the user's own choice is kept
  assert not malloc.wanted(dict(malloc.SETTINGS), "linux")  # already restarted: no loop
  probe = tmp_path / "probe.py"
  probe.write_text("import os, sys\nfrom ganjax import malloc\nif __name__ == '__main__':\n"
                   "  malloc.reexec_with_malloc_settings('probe')\n"
                   "  print(sys.argv[1:], [os.environ.get(k) for k in malloc.SETTINGS])\n")
  env = {k: v for k, v in os.environ.items() if k not in malloc.SETTINGS and k != "GANJAX_MALLOC"}
  env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), os.getcwd(), env.get("PYTHONPATH", "")])
  out = subprocess.run([sys.executable, "-m", "probe", "--flag=1"], env=env, capture_output=True, text=True,
                       check=True, timeout=120).stdout
  expected = list(malloc.SETTINGS.values()) if sys.platform.startswith("linux") else [None] * len(malloc.SETTINGS)
  assert out.strip() == f"{['--flag=1']} {expected}"


def test_cpu_compiler_options_keep_convolutions_out_of_ynnpack():
  """On CPU the train step is compiled with convolutions left to XLA's own path and matrix products
  still in YNNPACK (the faster split on this CPU, README Performance); `cpu_ynn_convolutions=True`
  gives XLA's defaults, and an option this XLA lacks is dropped with a warning, not an error."""
  import jax
  import jax.numpy as jnp
  from ml_collections import ConfigDict

  from ganjax import xla

  x, k = jnp.ones((8, 16, 16, 32)), jnp.ones((4, 4, 32, 64))
  a, b = jnp.ones((256, 128)), jnp.ones((128, 256))

  def f(x, k, a, b):
    y = jax.lax.conv_general_dilated(x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y, a @ b

  def ynn_ops(options):
    """The ops of `f` that the compiled program runs inside YNNPACK fusions."""
    hlo = jax.jit(f, compiler_options=options).lower(x, k, a, b).compile().as_text()
    kinds = set()
    for m in re.finditer(r"%(\S+) = \S+ fusion\([^\n]*calls=%([\w.\-]+)[^\n]*__ynn_fusion", hlo):
      body = hlo[hlo.find("\n%" + m.group(2) + " ("):]
      body = body[:body.find("\n}")]
      kinds |= {op for op in ("convolution", "dot") if f" {op}(" in body}
    return kinds

  if jax.default_backend() != "cpu" or "convolution" not in ynn_ops(None):
    pytest.skip("this XLA does not hand convolutions to YNNPACK")
  options = xla.compiler_options(ConfigDict({"cpu_ynn_convolutions": False}))
  assert ynn_ops(options) == {"dot"}
  assert xla.compiler_options(ConfigDict({"cpu_ynn_convolutions": True})) is None
  assert not xla._compiler_accepts("xla_cpu_experimental_ynn_fusion_type", "NO_SUCH_FUSION_TYPE")


def test_ab_times_a_config_against_one_changed_field(config_of):
  """A and B are timed alternately; injected times give A's repeats 1, 5 and 2 TICKs and B's 3, 9
  and 4 (each clock read pair: start, end), so the medians are 2 and 4 TICKs, not the means."""
  from absl import app

  c = config_of("gan.py")
  clock = Clock(1, 1, 1, 3, 1, 5, 1, 9, 1, 2, 1, 4)  # A start, A end, B start, B end, ...
  r = bench.ab_benchmark(c, "cpu_ynn_convolutions=true", steps=2, repeats=3, warmup=1, clock=clock)
  ms = lambda ticks: pytest.approx(1e3 * ticks * TICK / 2, abs=5e-3)  # noqa: E731  (2 steps a timing)
  assert r["a_ms_per_step_all"] == [ms(1), ms(5), ms(2)] and r["b_ms_per_step_all"] == [ms(3), ms(9), ms(4)]
  assert r["a_ms_per_step"] == ms(2) and r["b_ms_per_step"] == ms(4)
  assert r["b_speedup_vs_a"] == 0.5
  width = c.model.width
  assert bench.with_field(c, f"model.width={width + 4}").model.width == width + 4
  assert c.model.width == width  # the original is left as it was
  assert bench.with_field(c, "cpu_ynn_convolutions=true").cpu_ynn_convolutions is True
  with pytest.raises(app.UsageError, match="is a bool"):
    bench.with_field(c, "cpu_ynn_convolutions=maybe")
  with pytest.raises(app.UsageError, match="FIELD=VALUE"):
    bench.with_field(c, "cpu_ynn_convolutions")
