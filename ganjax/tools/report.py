"""Tables and plots for the README's results, from finished workdirs (nothing is trained here).

  python -m ganjax.tools.report modes DIR          # DIR/<data>_<variant>_s<seed>/eval.json -> mean +- std table
  python -m ganjax.tools.report evals [--keys=fid,kid,...] WORKDIR...   # one row per workdir: its eval.json
  python -m ganjax.tools.report seeds [--keys=...] WORKDIR...   # one row: mean +- std (and each value) over runs
  python -m ganjax.tools.report adaptation DIR     # DIR/<method>_<pair>_s<seed>/eval.json -> target accuracy table
      # with the source-only / target-only bounds (dann_source_only_<pair>, dann_target_only_<pair>) and
      # the fraction of the gap between them each method closes
  python -m ganjax.tools.report translations --png=PATH WORKDIR...
      # trained image-to-image runs side by side on the same held-out inputs: input | (bicubic) |
      # each run's output | target, rebuilt from each workdir's config.json and checkpoint
  python -m ganjax.tools.report sequences DIR [--png=PATH]
      # launch/sequences.sh's runs: SeqGAN vs MLE on the oracle over seeds (NLL_oracle, NLL_test, the
      # difference per seed) and the NLL_oracle curve over the adversarial steps (--png), the
      # Gumbel-softmax GAN vs MLE on the grammar, TextGAN / BGAN vs MLE on the corpus, with samples
  python -m ganjax.tools.report benchmark DIR [--keys=...]
      # DIR/<method>_s<seed>/eval.json (launch/fashion_benchmark.sh) -> one row per method: mean +- std
      # over its seeds of each metric, then every seed's FID
  python -m ganjax.tools.report curve --key=cluster_accuracy [--reach=0.95] WORKDIR...
      # time to quality: each run's eval rows of metrics.jsonl (step, training seconds, the metric) and
      # the first evaluation where the metric reaches --reach
  python -m ganjax.tools.report wgan_curve WORKDIR [--png=PATH]
      # the critic's Wasserstein estimate (metrics.jsonl) against classifier FID (eval/fid rows, written
      # when the run had --config.eval_every > 0): a table, their Pearson correlation, and a PNG plot.
"""

from __future__ import annotations

import collections
import json
import os
import re
import sys

import numpy as np

from ganjax import images
from ganjax.errors import GanjaxError

_RUN = re.compile(r"^(?P<data>ring8|grid25)_(?P<variant>.+)_s(?P<seed>\d+)$")


def _read_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise GanjaxError(f"cannot read {path}: {e}") from e


def _seeded_evals(directory: str, pattern, group, layout: str) -> dict:
  """{group(match): {seed: eval.json}} of the runs DIR/<name> whose name matches `pattern` (a
  `seed` group) and that have finished; `layout` names the expected runs in the error if none has."""
  runs = collections.defaultdict(dict)
  for name in sorted(os.listdir(directory)):
    m = pattern.match(name)
    path = os.path.join(directory, name, "eval.json")
    if m and os.path.exists(path):
      runs[group(m)][int(m["seed"])] = _read_json(path)
  if not runs:
    raise GanjaxError(f"no {layout}/eval.json under {directory}")
  return runs


def _rows(workdir):
  path = os.path.join(workdir, "metrics.jsonl")
  try:
    with open(path) as f:
      return [json.loads(line) for line in f if line.strip()]
  except (OSError, ValueError) as e:
    raise GanjaxError(f"cannot read {path}: {e}") from e


def mode_table(directory: str) -> str:
  """Markdown: one row per variant, mean +- std (and the per-seed values) of modes covered and the
  high-quality fraction, per dataset."""
  runs = _seeded_evals(directory, _RUN, lambda m: (m["variant"], m["data"]), "<data>_<variant>_s<seed>")
  datasets = sorted({d for _, d in runs}, key=lambda d: (d != "ring8", d))
  variants = sorted(dict.fromkeys(v for v, _ in runs), key=lambda v: (v != "gan", v))  # the baseline first
  head = ["variant"] + [f"{d} {k}" for d in datasets for k in ("modes", "high-quality")]
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for v in variants:
    cells = [v]
    for d in datasets:
      evals = runs.get((v, d), {})
      for key, fmt in (("modes_covered", "{:.1f}"), ("high_quality_fraction", "{:.3f}")):
        vals = [evals[s][key] for s in sorted(evals)]
        if not vals:
          cells.append("–")
          continue
        each = ", ".join(fmt.format(x) for x in vals)
        cells.append(f"{fmt.format(np.mean(vals))} ± {fmt.format(np.std(vals))} ({each})")
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


_ADAPTED = re.compile(r"^(?P<method>.+?)_(?P<pair>mnistm|digits_mnist|fonts_mnist|fashion_m)_s(?P<seed>\d+)$")
LOWER, UPPER = "dann_source_only", "dann_target_only"


def adaptation_table(directory: str) -> str:
  """Markdown: per domain pair, one row per method with the target test accuracy (mean +- std over
  the seeds, and each seed's), the fraction of the source-only -> target-only gap its mean closes,
  (acc - lower) / (upper - lower), and for the pixel-level methods the target classifier's accuracy
  on their adapted source images (DTN's transfer metric, `translation/class_accuracy`)."""
  runs = _seeded_evals(directory, _ADAPTED, lambda m: (m["pair"], m["method"]), "<method>_<pair>_s<seed>")
  lines = ["| pair | method | seeds | target accuracy | gap closed | classifier on adapted source |",
           "|---|---|---|---|---|---|"]
  order = {LOWER: 0, "dann": 1, UPPER: 9}
  for pair in sorted({p for p, _ in runs}):
    def accs(method):
      return [e["target/test_accuracy"] for _, e in sorted(runs.get((pair, method), {}).items())]

    lower, upper = accs(LOWER), accs(UPPER)
    for method in sorted({m for p, m in runs if p == pair}, key=lambda m: (order.get(m, 5), m)):
      vals = accs(method)
      each = ", ".join(f"{v:.4f}" for v in vals)
      gap = "–"
      if lower and upper and method not in (LOWER, UPPER) and np.mean(upper) != np.mean(lower):
        gap = f"{(np.mean(vals) - np.mean(lower)) / (np.mean(upper) - np.mean(lower)):.0%}"
      transfer = [e["translation/class_accuracy"] for e in runs[(pair, method)].values()
                  if "translation/class_accuracy" in e]
      cell = f"{np.mean(transfer):.4f} ± {np.std(transfer):.4f}" if transfer else "–"
      lines.append(f"| {pair} | {method} | {len(vals)} | {np.mean(vals):.4f} ± {np.std(vals):.4f} ({each}) | {gap} "
                   f"| {cell} |")
  return "\n".join(lines)


def _keys(evals, keys):
  found = list(dict.fromkeys(k for _, e in evals for k in e if k != "step"))
  missing = [k for k in keys or () if k not in found]
  if missing:
    raise GanjaxError(f"no {', '.join(missing)} in these eval.json files (they have: {', '.join(found)})")
  return list(keys) if keys else found


def eval_table(workdirs, keys=None) -> str:
  evals = [(w, _read_json(os.path.join(w, "eval.json"))) for w in workdirs]
  keys = _keys(evals, keys)
  lines = ["| workdir | step | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 2)]
  for w, e in evals:
    cells = [f"{e[k]:.4g}" if isinstance(e.get(k), (int, float)) else str(e[k]) if isinstance(e.get(k), str) else "–"
             for k in keys]
    lines.append(f"| {os.path.basename(os.path.normpath(w))} | {e.get('step')} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def seed_table(workdirs, keys=None) -> str:
  """One row: for each metric, mean +- population std over the runs (e.g. seeds) and each value."""
  evals = [(w, _read_json(os.path.join(w, "eval.json"))) for w in workdirs]
  keys = _keys(evals, keys)
  cells = []
  for k in keys:
    vals = [float(e[k]) for _, e in evals if isinstance(e.get(k), (int, float))]
    each = ", ".join(f"{v:.4g}" for v in vals)
    cells.append(f"{np.mean(vals):.4g} ± {np.std(vals):.2g} ({each})" if vals else "–")
  names = ", ".join(os.path.basename(os.path.normpath(w)) for w, _ in evals)
  return ("| runs | " + " | ".join(keys) + " |\n|" + "---|" * (len(keys) + 1) + f"\n| {names} | "
          + " | ".join(cells) + " |")


_SEEDED = re.compile(r"^(?P<method>.+)_s(?P<seed>\d+)$")
BENCHMARK_KEYS = ("fid", "fid_real_reference", "kid", "precision", "recall", "density", "coverage",
                  "classifier_score", "class_accuracy", "train_seconds")


def benchmark_table(directory: str, keys=None) -> str:
  """Markdown: one row per method (runs DIR/<method>_s<seed>), each metric's mean +- std over the
  seeds ("–" where the method has none, e.g. class accuracy of unconditional generators); then a
  row per method with every seed's FID."""
  runs = _seeded_evals(directory, _SEEDED, lambda m: m["method"], "<method>_s<seed>")
  keys = list(keys or BENCHMARK_KEYS)
  lines = ["| method | seeds | step | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 3)]
  for method, evals in sorted(runs.items()):
    cells = []
    for k in keys:
      vals = [float(e[k]) for e in evals.values() if isinstance(e.get(k), (int, float))]
      digits = 0 if k.endswith("seconds") else 1 if k.startswith(("fid", "kid")) else 3
      cells.append(f"{np.mean(vals):.{digits}f} ± {np.std(vals):.{digits}f}" if vals else "–")
    steps = sorted({e.get("step") for e in evals.values()})
    lines.append(f"| {method} | {len(evals)} | {', '.join(map(str, steps))} | " + " | ".join(cells) + " |")
  lines += ["", "| method | FID of each seed |", "|---|---|"]
  for method, evals in sorted(runs.items()):
    each = ", ".join(f"s{s}: {e['fid']:.1f}" for s, e in sorted(evals.items()) if isinstance(e.get("fid"), (int, float)))
    lines.append(f"| {method} | {each or '–'} |")
  return "\n".join(lines)


def quality_curve(workdirs, key: str, reach=None) -> str:
  """Markdown: for each run, its evaluations (metrics.jsonl rows with eval/<key>): step, training
  seconds (eval/train_seconds: compilation included, evaluations excluded) and the metric; with
  `reach`, the first evaluation at or above it per run."""
  lines = ["| run | step | training seconds | " + key + " |", "|---|---|---|---|"]
  firsts = []
  for w in workdirs:
    rows = [r for r in _rows(w) if f"eval/{key}" in r]
    if not rows:
      raise GanjaxError(f"no eval/{key} in {os.path.join(w, 'metrics.jsonl')}")
    name = os.path.basename(os.path.normpath(w))
    for r in rows:
      secs = r.get("eval/train_seconds")
      lines.append(f"| {name} | {r['step']} | {'–' if secs is None else f'{secs:.0f}'} | {r[f'eval/{key}']:.4f} |")
    if reach is not None:
      hit = next((r for r in rows if r[f"eval/{key}"] >= reach), None)
      firsts.append(f"| {name} | " + ("not reached |" if hit is None else
                                      f"step {hit['step']}, {hit.get('eval/train_seconds', float('nan')):.0f} s |"))
  if reach is not None:
    lines += ["", f"| run | first evaluation with {key} >= {reach} |", "|---|---|", *firsts]
  return "\n".join(lines)


def wgan_curve(workdir: str, window: int = 1):
  """[(step, mean critic estimate over the log rows since the previous evaluation, FID)]."""
  rows = _rows(workdir)
  estimates = [(r["step"], r["d/wasserstein"]) for r in rows if "d/wasserstein" in r]
  fids = [(r["step"], r["eval/fid"]) for r in rows if "eval/fid" in r]
  if not estimates or not fids:
    raise GanjaxError(f"{workdir}/metrics.jsonl needs d/wasserstein rows (a WGAN) and eval/fid rows "
                      "(train with --config.eval_every > 0)")
  out, prev = [], 0
  for step, fid in fids:
    est = [e for s, e in estimates if prev < s <= step]
    if est:
      out.append((step, float(np.mean(est)), float(fid)))
    prev = step
  return out


def _mean_std(values):
  v = np.asarray(values, np.float64)
  return f"{v.mean():.3f} ± {v.std():.3f} ({', '.join(f'{x:.3f}' for x in v)})"


def _last_samples(workdir, n: int = 5):
  folder = os.path.join(workdir, "samples")
  files = sorted(f for f in os.listdir(folder) if f.endswith(".txt")) if os.path.isdir(folder) else []
  if not files:
    return []
  with open(os.path.join(folder, files[-1]), encoding="utf-8") as f:
    return [line.rstrip("\n") for line in f][:n]


def oracle_curves(directory: str):
  """{(method, seed): [(adversarial step, NLL_oracle)]} from the eval rows of SeqGAN and MLE runs,
  the steps counted from the end of SeqGAN's pre-training (its config's eval_start)."""
  curves = {}
  for name in sorted(os.listdir(directory)):
    m = re.match(r"^(seqgan|mle)_oracle_s(\d+)$", name)
    if not m or not os.path.exists(os.path.join(directory, name, "metrics.jsonl")):
      continue
    start = _read_json(os.path.join(directory, name, "config.json")).get("eval_start", 0)
    rows = [(r["step"] - start, r["eval/sequence/nll_oracle"]) for r in _rows(os.path.join(directory, name))
            if "eval/sequence/nll_oracle" in r]
    curves[(m[1], int(m[2]))] = rows
  return curves


def sequence_report(directory: str, png: str = "") -> str:
  """Markdown tables of launch/sequences.sh's finished runs (and the NLL_oracle curve as a PNG)."""
  evals, unfinished = {}, []
  for n in sorted(os.listdir(directory)):
    if os.path.exists(os.path.join(directory, n, "eval.json")):
      e = _read_json(os.path.join(directory, n, "eval.json"))
      config = os.path.join(directory, n, "config.json")
      steps = _read_json(config).get("num_steps") if os.path.exists(config) else None
      if steps is not None and e.get("step", steps) < steps:  # a periodic evaluation of a run still training
        unfinished.append(f"{n} (evaluated at step {e['step']} of {steps})")
      else:
        evals[n] = e
  if not evals:
    raise GanjaxError(f"no finished <job>/eval.json under {directory} (run launch/sequences.sh)")
  out = [f"not finished, left out: {', '.join(unfinished)}\n"] if unfinished else []
  seeds = sorted({int(n.rsplit("_s", 1)[1]) for n in evals if n.startswith("seqgan_oracle_s")}
                 & {int(n.rsplit("_s", 1)[1]) for n in evals if n.startswith("mle_oracle_s")})
  if seeds:
    out.append(f"SeqGAN vs MLE on the oracle, oracle seeds {', '.join(map(str, seeds))} (mean ± std (each seed)):\n")
    out.append("| method | NLL_oracle | NLL_test |\n| --- | --- | --- |")
    for method in ("mle", "seqgan"):
      e = [evals[f"{method}_oracle_s{s}"] for s in seeds]
      out.append(f"| {method} | {_mean_std([x['sequence/nll_oracle'] for x in e])} | {_mean_std([x['test/nll'] for x in e])} |")
    diff = [evals[f"seqgan_oracle_s{s}"]["sequence/nll_oracle"] - evals[f"mle_oracle_s{s}"]["sequence/nll_oracle"]
            for s in seeds]
    out.append(f"| SeqGAN − MLE | {_mean_std(diff)} | |\n")
  curves = oracle_curves(directory)
  if png and curves:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for (method, seed), rows in sorted(curves.items()):
      if rows:
        ax.plot(*zip(*rows), color="tab:red" if method == "seqgan" else "tab:blue", marker="o", markersize=3,
                linestyle="-" if seed == 0 else ("--" if seed == 1 else ":"), label=f"{method}, oracle seed {seed}")
    ax.set_xlabel("steps after pre-training (SeqGAN: adversarial steps, each one G update)")
    ax.set_ylabel("NLL_oracle (lower is better)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    out.append(f"wrote {png}\n")
  for title, jobs, keys in (
      ("Gumbel-softmax GAN vs MLE on the grammar", ("gsgan_grammar", "gsgan_pretrained_grammar", "mle_grammar"),
       ("sequence/valid_fraction", "sequence/distinct_valid", "sequence/distinct_fraction", "test/nll")),
      ("TextGAN and BGAN vs MLE on the corpus", ("textgan_fortunes", "bgan_fortunes", "mle_fortunes"),
       tuple(f"sequence/bleu{n}" for n in (2, 3, 4, 5)) + tuple(f"sequence/self_bleu{n}" for n in (2, 3, 4, 5))
       + ("test/nll",))):
    present = [j for j in jobs if j in evals]
    if not present:
      continue
    out.append(f"{title}:\n")
    out.append("| run | " + " | ".join(k.split("/")[-1] for k in keys) + " |")
    out.append("| --- |" + " --- |" * len(keys))
    for j in present:
      out.append(f"| {j} | " + " | ".join(f"{evals[j].get(k, float('nan')):.3f}" for k in keys) + " |")
    out.append("")
    for j in present:
      lines = _last_samples(os.path.join(directory, j))
      if lines:
        out.append(f"{j} samples: " + " / ".join(f"`{x}`" for x in lines))
    out.append("")
  return "\n".join(out)


def main(argv):
  if len(argv) < 3 or argv[1] not in ("modes", "adaptation", "evals", "seeds", "translations", "wgan_curve", "sequences",
                                      "benchmark", "curve"):
    print(__doc__.strip(), file=sys.stderr)
    return 2
  try:
    if argv[1] == "modes":
      print(mode_table(argv[2]))
    elif argv[1] == "adaptation":
      print(adaptation_table(argv[2]))
    elif argv[1] in ("benchmark", "curve"):
      opts = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in argv[2:] if a.startswith("--") and "=" in a}
      dirs = [a for a in argv[2:] if not a.startswith("--")]
      if argv[1] == "benchmark":
        keys = opts["--keys"].split(",") if "--keys" in opts else None
        print(benchmark_table(dirs[0], keys))
      else:
        if "--key" not in opts or not dirs:
          raise GanjaxError("report curve needs --key=METRIC and at least one WORKDIR")
        print(quality_curve(dirs, opts["--key"], float(opts["--reach"]) if "--reach" in opts else None))
    elif argv[1] == "sequences":
      print(sequence_report(argv[2], next((a.split("=", 1)[1] for a in argv[3:] if a.startswith("--png=")), "")))
    elif argv[1] in ("evals", "seeds"):
      keys = [a.split("=", 1)[1].split(",") for a in argv[2:] if a.startswith("--keys=")]
      dirs = [a for a in argv[2:] if not a.startswith("--keys=")]
      table = eval_table if argv[1] == "evals" else seed_table
      print(table(dirs, keys[-1] if keys else None))
    elif argv[1] == "translations":
      from ganjax import sampling  # JAX and the trained runs, for this command alone: the tables start without them

      png = next((a.split("=", 1)[1] for a in argv[2:] if a.startswith("--png=")), "")
      dirs = [a for a in argv[2:] if not a.startswith("--")]
      if not png or not dirs:
        raise GanjaxError("report translations needs --png=PATH and at least one WORKDIR")
      images.save_png(png, sampling.compare_translations(dirs))
      print(f"wrote {png}: columns input | (bicubic, for super-resolution) | {' | '.join(dirs)} | target")
    else:
      png = next((a.split("=", 1)[1] for a in argv[3:] if a.startswith("--png=")), "")
      curve = wgan_curve(argv[2])
      print("| step | critic estimate | classifier FID |\n|---|---|---|")
      for step, est, fid in curve:
        print(f"| {step} | {est:.4f} | {fid:.1f} |")
      if len(curve) > 2:
        r = np.corrcoef([c[1] for c in curve], [c[2] for c in curve])[0, 1]
        print(f"\nPearson correlation of the estimate and FID over {len(curve)} evaluations: {r:.3f}")
      if png:
        steps = [c[0] for c in curve]
        picture = images.line_plot(steps, {"critic estimate": [c[1] for c in curve],
                                           "classifier FID": [c[2] for c in curve]})
        images.save_png(png, picture)
        print(f"wrote {png}")
  except GanjaxError as e:
    print(f"ganjax: error: {e}", file=sys.stderr)
    return 2
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
