from ganjax import bench


def test_benchmark_reports_every_figure(config_of):
  c = config_of("gan.py")
  r = bench.benchmark(c, steps=2, repeats=2, warmup=1)
  assert r["example_shape"] == (8, 8, 1)
  for k in ("first_step_s", "ms_per_step", "images_per_s", "gflop_per_step", "achieved_gflop_per_s",
            "peak_rss_mib", "data_images_per_s"):
    assert r[k] > 0, k
  assert len(r["ms_per_step_all"]) == 2
  assert r["images_per_s"] == round(c.batch_size / (r["ms_per_step"] / 1e3), 1) or abs(
      r["images_per_s"] - c.batch_size / (r["ms_per_step"] / 1e3)) / r["images_per_s"] < 0.01


def test_torch_reference_times_the_same_step(config_of):
  import pytest

  pytest.importorskip("torch")  # optional: `pip install -e '.[bench]'`
  from ganjax import bench_torch

  for name, shape in (("gan.py", (8, 8, 1)), ("dcgan.py", (8, 8, 1)), ("vae.py", (8, 8, 1)), ("infogan.py", (8, 8, 1)),
                      ("sngan.py", (8, 8, 1))):
    r = bench_torch.reference(config_of(name), shape, steps=1, repeats=1, warmup=1)
    assert r["torch_ms_per_step"] > 0 and r["torch_images_per_s"] > 0


def test_step_flops_counts_a_convolution_as_2_macs_per_output_tap():
  import jax
  import jax.numpy as jnp

  x, w = jnp.ones((2, 16, 16, 3)), jnp.ones((3, 3, 3, 8))
  conv = jax.jit(lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                                           dimension_numbers=("NHWC", "HWIO", "NHWC")))
  lowered = conv.lower(x, w)
  expected = 2 * 2 * 14 * 14 * 8 * 3 * 3 * 3  # 2 * batch * output pixels * output channels * taps
  assert bench.step_flops(lowered, lowered.compile()) == expected
