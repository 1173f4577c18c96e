"""python -m ganjax.tools.report: the README's tables and plot from finished workdirs."""

import json
import os

import numpy as np
import pytest

from ganjax.tools import report
from ganjax.errors import GanjaxError


def test_mode_table_averages_seeds_per_variant_and_dataset(tmp_path):
  values = {("ring8", "gan"): [1, 2, 3], ("ring8", "unrolled5"): [8, 8, 7], ("grid25", "gan"): [20, 22, 24]}
  for (data, variant), modes in values.items():
    for seed, m in enumerate(modes):
      d = tmp_path / f"{data}_{variant}_s{seed}"
      d.mkdir()
      (d / "eval.json").write_text(json.dumps({"modes_covered": m, "high_quality_fraction": 0.5 + 0.1 * seed}))
  table = report.mode_table(str(tmp_path)).splitlines()
  assert table[0] == "| variant | ring8 modes | ring8 high-quality | grid25 modes | grid25 high-quality |"
  gan = next(line for line in table if line.startswith("| gan |"))
  assert f"2.0 ± {np.std([1, 2, 3]):.1f} (1.0, 2.0, 3.0)" in gan and "22.0 ± 1.6" in gan
  assert "| unrolled5 | 7.7 ± 0.5 (8.0, 8.0, 7.0) | 0.600 ± 0.082" in report.mode_table(str(tmp_path))
  assert report.mode_table(str(tmp_path)).count("–") == 2  # unrolled5 has no grid25 runs
  with pytest.raises(GanjaxError, match="no <data>_<variant>_s<seed>/eval.json"):
    report.mode_table(str(tmp_path / "ring8_gan_s0"))


def test_wgan_curve_pairs_each_evaluation_with_the_estimates_before_it(tmp_path):
  rows = [{"step": 100, "d/wasserstein": 1.0}, {"step": 200, "d/wasserstein": 3.0}, {"step": 200, "eval/fid": 50.0},
          {"step": 300, "d/wasserstein": 0.5}, {"step": 400, "d/wasserstein": 0.7}, {"step": 400, "eval/fid": 20.0}]
  (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
  assert report.wgan_curve(str(tmp_path)) == [(200, 2.0, 50.0), (400, 0.6, 20.0)]
  (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 1, "g/loss": 0.1}))
  with pytest.raises(GanjaxError, match="needs d/wasserstein rows"):
    report.wgan_curve(str(tmp_path))
  assert report.main(["report", "wgan_curve", str(tmp_path)]) == 2


def test_seed_table_and_selected_eval_columns(tmp_path, capsys):
  for i, (acc, fid) in enumerate([(0.5, 10.0), (0.7, 30.0)]):
    os.makedirs(tmp_path / f"s{i}")
    with open(tmp_path / f"s{i}" / "eval.json", "w") as f:
      json.dump({"step": 5, "cluster_accuracy": acc, "fid": fid}, f)
  dirs = [str(tmp_path / "s0"), str(tmp_path / "s1")]
  row = report.seed_table(dirs, ["cluster_accuracy"]).splitlines()[-1]
  assert "0.6 ± 0.1 (0.5, 0.7)" in row and "fid" not in report.seed_table(dirs, ["cluster_accuracy"])
  assert report.main(["report", "evals", "--keys=fid", *dirs]) == 0
  out = capsys.readouterr().out
  assert "| s1 | 5 | 30 |" in out and "cluster_accuracy" not in out
  assert report.main(["report", "seeds", "--keys=nope", *dirs]) == 2  # a one-line error, not a traceback


def test_adaptation_table_gives_each_method_its_share_of_the_gap(tmp_path):
  accs = {"dann_source_only": (0.5, 0.6), "dann_target_only": (0.95, 0.97), "dann": (0.7, 0.8), "dtn": (0.9, 0.9)}
  for method, values in accs.items():
    for seed, acc in enumerate(values):
      os.makedirs(tmp_path / f"{method}_mnistm_s{seed}")
      e = {"target/test_accuracy": acc, **({"translation/class_accuracy": 0.5} if method == "dtn" else {})}
      json.dump(e, open(tmp_path / f"{method}_mnistm_s{seed}" / "eval.json", "w"))
  rows = report.adaptation_table(str(tmp_path)).splitlines()[2:]
  assert [r.split(" | ")[1] for r in rows] == ["dann_source_only", "dann", "dtn", "dann_target_only"]
  lower, upper = 0.55, 0.96
  assert f"| {(0.75 - lower) / (upper - lower):.0%} |" in rows[1] and "0.7500 ± 0.0500 (0.7000, 0.8000)" in rows[1]
  assert f"| {(0.9 - lower) / (upper - lower):.0%} | 0.5000 ± 0.0000 |" in rows[2]
  with pytest.raises(GanjaxError, match="no <method>_<pair>"):
    report.adaptation_table(str(tmp_path / "dann_mnistm_s0"))


def test_sequence_report_pairs_seqgan_with_mle_per_oracle_seed_and_plots_the_curve(tmp_path):
  nll = {("mle", 0): 9.0, ("seqgan", 0): 8.7, ("mle", 1): 9.2, ("seqgan", 1): 9.1}
  for (method, seed), value in nll.items():
    d = tmp_path / f"{method}_oracle_s{seed}"
    d.mkdir()
    (d / "eval.json").write_text(json.dumps({"sequence/nll_oracle": value, "test/nll": value - 1}))
    (d / "config.json").write_text(json.dumps({"eval_start": 100}))
    rows = [{"step": 100 + 5 * i, "eval/sequence/nll_oracle": value + 0.1 * (2 - i)} for i in range(3)]
    (d / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows + [{"step": 50, "g/loss": 1.0}]))
  g = tmp_path / "gsgan_grammar"
  (g / "samples").mkdir(parents=True)
  (g / "eval.json").write_text(json.dumps({"sequence/valid_fraction": 0.5, "sequence/distinct_valid": 7,
                                           "sequence/distinct_fraction": 0.1, "test/nll": 1.0}))
  (g / "samples" / "step_00000010.txt").write_text("x+x\n(x\n")
  text = report.sequence_report(str(tmp_path), str(tmp_path / "curve.png"))
  assert "| seqgan | 8.900 ± 0.200 (8.700, 9.100) |" in text
  assert "| SeqGAN − MLE | -0.200 ± 0.100 (-0.300, -0.100) |" in text
  assert "| gsgan_grammar | 0.500 | 7.000 | 0.100 | 1.000 |" in text and "`x+x` / `(x`" in text
  steps, values = zip(*report.oracle_curves(str(tmp_path))[("seqgan", 0)])
  assert steps == (0, 5, 10) and values == pytest.approx((8.9, 8.8, 8.7))
  assert (tmp_path / "curve.png").stat().st_size > 1000
  (tmp_path / "mle_oracle_s2").mkdir()  # a run still training: its periodic eval.json is left out
  (tmp_path / "mle_oracle_s2" / "eval.json").write_text(json.dumps({"step": 105, "sequence/nll_oracle": 1.0, "test/nll": 1.0}))
  (tmp_path / "mle_oracle_s2" / "config.json").write_text(json.dumps({"num_steps": 110}))
  text = report.sequence_report(str(tmp_path))
  assert "mle_oracle_s2 (evaluated at step 105 of 110)" in text and "(9.000, 9.200)" in text
  with pytest.raises(GanjaxError, match="no finished <job>/eval.json"):
    report.sequence_report(str(tmp_path / "gsgan_grammar" / "samples"))


def test_benchmark_table_averages_each_method_over_its_seeds(tmp_path):
  fids = {"dcgan": [10.0, 20.0, 30.0], "cgan": [40.0, 50.0]}
  for method, values in fids.items():
    for seed, fid in enumerate(values):
      d = tmp_path / f"{method}_s{seed}"
      d.mkdir()
      e = {"step": 1000, "fid": fid, "precision": 0.5 + 0.1 * seed, "train_seconds": 100.0 + seed}
      if method == "cgan":
        e["class_accuracy"] = 0.9
      (d / "eval.json").write_text(json.dumps(e))
  table = report.benchmark_table(str(tmp_path), ["fid", "precision", "class_accuracy", "train_seconds"])
  assert f"| dcgan | 3 | 1000 | 20.0 ± {np.std([10, 20, 30]):.1f} | 0.600 ± 0.082 | – | 101 ± 1 |" in table
  assert "| cgan | 2 | 1000 | 45.0 ± 5.0 | 0.550 ± 0.050 | 0.900 ± 0.000 |" in table
  assert "| dcgan | s0: 10.0, s1: 20.0, s2: 30.0 |" in table
  with pytest.raises(GanjaxError, match="no <method>_s<seed>/eval.json"):
    report.benchmark_table(str(tmp_path / "dcgan_s0"))


def test_quality_curve_reports_the_first_evaluation_reaching_the_target(tmp_path):
  rows = [{"step": 500, "g/loss": 1.0}, {"step": 500, "eval/cluster_accuracy": 0.8, "eval/train_seconds": 60.0},
          {"step": 1000, "eval/cluster_accuracy": 0.96, "eval/train_seconds": 118.4},
          {"step": 1500, "eval/cluster_accuracy": 0.97, "eval/train_seconds": 170.0}]
  (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
  text = report.quality_curve([str(tmp_path)], "cluster_accuracy", reach=0.95)
  assert f"| {tmp_path.name} | 1000 | 118 | 0.9600 |" in text
  assert f"| {tmp_path.name} | step 1000, 118 s |" in text
  assert "not reached" in report.quality_curve([str(tmp_path)], "cluster_accuracy", reach=0.99)
  with pytest.raises(GanjaxError, match="no eval/fid"):
    report.quality_curve([str(tmp_path)], "fid")
