"""The README's reproduction scripts (launch/figures.sh, launch/mode_coverage.sh) on tiny runs."""

import os
import subprocess

from tiny import ROOT

TINY = ("--config.batch_size=8 --config.eval.num_samples=32 --config.eval.batch_size=32 "
        "--config.eval.classifier_steps=10 --config.eval.kid_subsets=3 --config.sample.num=32 "
        f"--config.compilation_cache={os.environ.get('GANJAX_TEST_XLA_CACHE', '')} --config.model.width=4 "
        "--config.model.fc_width=32")


def run(script, tmp_path, **env):
  env = {**os.environ, "OUT": str(tmp_path), "STEPS": "2", "EXTRA": TINY, "JAX_DISABLE_MOST_OPTIMIZATIONS": "1",
         **env}
  return subprocess.run(["bash", f"launch/{script}"], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=600)


def test_figures_script_trains_reports_and_resumes(tmp_path):
  r = run("figures.sh", tmp_path, JOBS="timeseries_infogan_s0", PARALLEL="2")
  assert r.returncode == 0, r.stderr[-3000:]
  assert (tmp_path / "timeseries_infogan_s0" / "eval.json").exists()
  assert "| timeseries_infogan_s0 | 2 |" in r.stdout  # the eval table of the finished runs
  log = tmp_path / "logs" / "timeseries_infogan_s0.log"
  stamp = log.stat().st_mtime_ns
  again = run("figures.sh", tmp_path, JOBS="timeseries_infogan_s0")
  assert again.returncode == 0 and log.stat().st_mtime_ns == stamp  # finished jobs are skipped
  bad = run("figures.sh", tmp_path, JOBS="nope")
  assert bad.returncode == 2 and "unknown job nope" in bad.stderr


def test_mode_coverage_script_runs_a_variant_and_prints_the_table(tmp_path):
  r = run("mode_coverage.sh", tmp_path, SEEDS="0", DATASETS="ring8", VARIANTS="unrolled5",
          EXTRA=TINY + " --config.data.holdout=0.01")
  assert r.returncode == 0, r.stderr[-3000:]
  assert (tmp_path / "ring8_unrolled5_s0" / "eval.json").exists()
  assert "| unrolled5 |" in r.stdout and "| gan |" not in r.stdout  # the table of the runs it made
  # launch/unrolled_lookahead.py on that run: K = 0 is f itself; one unrolled step is one step of D's
  # Adam, lr times a direction that does not depend on lr, so 10x the rate moves D exactly 10x as far
  import importlib.util

  import numpy as np
  spec = importlib.util.spec_from_file_location("lookahead", ROOT / "launch" / "unrolled_lookahead.py")
  lookahead = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(lookahead)
  wd = str(tmp_path / "ring8_unrolled5_s0")
  (f, one), (_, ten) = lookahead.lookahead(wd, 1.0, 64, ks=(0, 1)), lookahead.lookahead(wd, 10.0, 64, ks=(0, 1))
  assert f["d_change_rel"] == 0.0 and f["g_grad_norm_ratio"] == 1.0 and abs(f["g_grad_cos"] - 1) < 1e-6
  assert one["d_change_rel"] > 0 and np.isclose(ten["d_change_rel"], 10 * one["d_change_rel"], rtol=1e-4)
  assert ten["unroll_lr"] == 10 * one["unroll_lr"] and 0 < one["d_k_p_fake"] < 1


def test_adaptation_script_names_its_jobs(tmp_path):
  """launch/adaptation.sh shares figures.sh's runner (tested above); here its job table: an unknown
  job is refused with the list of jobs, which holds every method and bound on each pair."""
  bad = run("adaptation.sh", tmp_path, JOBS="nope")
  assert bad.returncode == 2 and "unknown job nope" in bad.stderr
  for job in ("dann_source_only_fonts_mnist_s2", "dann_mnistm_s0", "dann_target_only_digits_mnist_s1",
              "pixelda_mnistm_s0", "dtn_digits_mnist_s0", "simgan_fonts_mnist_s0", "dann_fashion_m_s1", "dann_fonts_mnist_s0",
              "dann_target_only_fashion_m_s2"):
    assert job in bad.stderr


def test_sequences_script_names_its_jobs(tmp_path):
  """launch/sequences.sh shares figures.sh's runner (tested above) and `report sequences` (tested in
  test_report.py); here its job table: every method, baseline and oracle seed."""
  bad = run("sequences.sh", tmp_path, JOBS="nope")
  assert bad.returncode == 2 and "unknown job nope" in bad.stderr
  for job in ("seqgan_oracle_s2", "mle_oracle_s0", "gsgan_grammar", "gsgan_pretrained_grammar", "mle_grammar",
              "textgan_fortunes", "bgan_fortunes", "mle_fortunes"):
    assert job in bad.stderr


def test_fashion_benchmark_script_trains_and_tables_and_refuses_bad_input(tmp_path):
  r = run("fashion_benchmark.sh", tmp_path, DATA="digits", METHODS="gan", SEEDS="0", SAMPLES="64",
          EXTRA=TINY + " --config.data.image_size=8")  # the suite's 8 x 8 images: its metric networks
  assert r.returncode == 0, r.stderr[-3000:]
  assert (tmp_path / "gan_s0" / "eval.json").exists()
  assert "| gan | 1 | 2 |" in r.stdout and "| gan | s0: " in r.stdout  # the table and every seed's FID
  bad = run("fashion_benchmark.sh", tmp_path, METHODS="nope")
  assert bad.returncode == 2 and "unknown method nope" in bad.stderr
  assert run("fashion_benchmark.sh", tmp_path, BUDGET="tpu").returncode == 2
