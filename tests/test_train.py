"""End-to-end: every config trains, checkpoints, resumes bitwise, samples and evaluates."""

import dataclasses
import json
import os
import signal
import subprocess
import sys

import chex
import jax
import numpy as np
import pytest

import golden
import test_golden
from tiny import CONFIGS, ROOT
from ganjax import algorithms, base_config, checkpoint, data, evaluation, evaluators, sampling, train
from ganjax.run import Run
from ganjax.state import SAMPLE_KEY
from ganjax.errors import CheckpointError, ConfigError, DataError, DivergenceError

CONFIG_ARGS = [(name, None) for name in CONFIGS] + [("gan.py", "ring8"), ("vae.py", "gaussian"), ("vae.py", "practical"), ("vae.py", "conv"), ("bgan.py", "discrete"),
                                                ("bgan.py", "tokens")]


def result_of(workdir):
  return json.load(open(workdir / "eval.json"))


def leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def _translate_mode_runs_on_a_file_and_a_folder(c, workdir):
  """--mode=translate of a trained image-to-image run (here pix2pix's, reused: one training)."""
  from PIL import Image

  (workdir / "in").mkdir()
  for i in range(3):  # any size and colour: converted to the A domain's channels and size
    Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 12, 3), dtype=np.uint8)).save(workdir / "in" / f"{i}.jpg")
  paths = sampling.translate_files(c, workdir, str(workdir / "in"), str(workdir / "out"))
  assert sorted(p.rsplit("/", 1)[1] for p in paths) == ["0.png", "1.png", "2.png"]
  assert np.asarray(Image.open(paths[0])).shape == (8, 8)  # the B domain's size and (grey) channels
  one = sampling.translate_files(c, workdir, str(workdir / "in" / "1.jpg"), str(workdir / "one"))
  assert [p.rsplit("/", 1)[1] for p in one] == ["1.png"]
  with pytest.raises(DataError, match="neither an image file nor a folder"):
    sampling.translate_files(c, workdir, str(workdir / "missing"), str(workdir / "x"))
  # report translations: runs side by side, rebuilt from config.json (one run here)
  picture = sampling.compare_translations([workdir], n=3)[::12, ::12]  # 8-pixel tiles are zoomed 12 times
  assert picture.shape[:2] == (3 * 9 + 1, 3 * 9 + 1)  # 3 rows of input | the run | target, 1-pixel padding
  from ganjax import images

  held_out = data.load(c).test.get(np.arange(3))
  np.testing.assert_array_equal(picture[1:9, 19:27], images.to_uint8(held_out["b"])[0])  # the first target


def assert_fraction(value, n):
  """`value` is k / n for a whole k in 0..n: a fraction of exactly the n examples it was meant to count."""
  assert 0 <= round(value * n) <= n and value * n == pytest.approx(round(value * n), abs=1e-6), (value, n)


def held_out(c):
  """A stand-in for the run as `evaluators.prediction_sets` and `domain_split` read it: its method and
  its streams' splits."""
  import types

  splits = data.load_streams(c)
  return types.SimpleNamespace(splits=splits, split=next(iter(splits.values())), single=list(splits) == [None],
                               method=algorithms.get(c.algorithm))


def _bicubic_baseline(c, result):
  """Super-resolution's baseline (Ledig et al. 2017, Table 2): PIL's bicubic upsampling of each channel
  of the held-out inputs, scored by PSNR = 10 log10(2^2 / MSE) per image, written out here."""
  from PIL import Image

  test = data.load(c).test
  rows = test.get(np.arange(min(test.size, c.eval.num_samples)))
  h, w = rows["b"].shape[1:3]
  resize = lambda plane: np.asarray(Image.fromarray(plane, mode="F").resize((w, h), Image.BICUBIC))  # noqa: E731
  up = np.array([[resize(np.asarray(img[..., ch], np.float32)) for ch in range(img.shape[-1])] for img in rows["a"]])
  up = up.transpose(0, 2, 3, 1)
  mse = ((np.clip(up, -1, 1).astype(np.float64) - rows["b"])**2).reshape(len(up), -1).mean(1)
  assert result["translation_bicubic/psnr"] == pytest.approx(np.mean(10 * np.log10(4 / mse)), rel=1e-6)
  assert result["translation_bicubic/ssim"] < 1 and 0 < result["translation_bicubic/l1"] <= 2


def _token_outputs(c, workdir, result):
  """Sequence methods: text samples (decoded with the vocabulary) and the data's own metrics."""
  assert sorted(os.listdir(workdir / "samples")) == ["step_00000002.txt", "step_00000004.txt"]
  lines = open(workdir / "samples" / "step_00000004.txt").read().splitlines()
  assert len(lines) == c.sample.num
  assert set(sampling.sample(c, workdir)) == {"samples"}
  assert len(open(workdir / "samples.txt").read().splitlines()) == c.sample.num
  n = c.eval.num_samples
  assert result["sequence/distinct_fraction"] > 0 and np.isfinite(result["test/nll"])
  assert_fraction(result["sequence/distinct_fraction"], n)  # distinct sequences among the n samples
  if c.data.name.startswith("oracle"):
    assert result["sequence/nll_oracle"] > 0
    assert all(w.isdigit() for w in lines[0].split())  # the oracle's ids, as numbers
  elif c.data.name == "grammar":
    assert_fraction(result["sequence/valid_fraction"], n)
    distinct = result["sequence/distinct_valid"]
    assert distinct == int(distinct) <= round(result["sequence/valid_fraction"] * n)  # distinct valid strings: valid
  else:
    words = set(data.load(c).train.vocabulary)
    assert all(w in words for line in lines for w in line.split())
    assert all(0 <= result[f"sequence/{k}{n}"] <= 1 for k in ("bleu", "self_bleu") for n in (2, 3, 4, 5))


@pytest.mark.parametrize("name,arg", CONFIG_ARGS)
def test_every_config_trains_and_writes_its_outputs(tmp_path, config_of, name, arg):
  import time

  c = config_of(name, arg, steps=4)
  c.sample_every = 2
  c.eval_every = 0
  started = time.perf_counter()
  state = train.train(c, tmp_path)
  elapsed = time.perf_counter() - started  # bounds each stage's own time in eval.json
  assert int(state.step) == 4
  rows = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert [r["step"] for r in rows if "eval/" not in "".join(r)] == [2, 4]
  key = f"config:{name}" + (f":{arg}" if arg else "")  # the steps reproduce the golden recording bitwise
  if key in test_golden.GOLD and key not in golden.CHANGED:
    test_golden.assert_rows_match(key, [r for r in rows if "eval/" not in "".join(r)])
  assert all(np.isfinite(v) for r in rows for v in r.values())
  method = algorithms.get(c.algorithm)
  if "tokens" in data.load(c).train.element_spec:
    _token_outputs(c, tmp_path, result_of(tmp_path))
    return
  if method.sampler is not None or method.translator is not None:
    assert sorted(os.listdir(tmp_path / "samples")) == ["step_00000002.png", "step_00000004.png"]
  else:  # a classifier (DANN): no pictures, its accuracies at evaluation
    assert not os.path.exists(tmp_path / "samples")
    for prefix, test, _ in evaluators.prediction_sets(held_out(c)):  # over each domain's held-out images
      assert_fraction(result_of(tmp_path)[f"{prefix}test_accuracy"], test.size)
    with pytest.raises(ConfigError, match="draws nothing"):
      sampling.sample(c, tmp_path)
    return
  assert os.listdir(tmp_path / "tensorboard")
  assert checkpoint.Checkpointer(tmp_path / "checkpoints").all_steps() == [2, 4]
  result = json.load(open(tmp_path / "eval.json"))
  assert result["step"] == 4
  if method.translator is not None:  # image-to-image: scored against the ground truth, both ways where it goes back
    assert 0 <= result["seconds/translations"] <= elapsed
    back = method.translator.translate_back is not None
    for side in ("translation", "translation_ba") if back else ("translation",):
      if c.data.name in ("ring8", "grid25"):  # DiscoGAN's mixtures: modes, not pixels
        assert 0 <= result[f"{side}/distinct_targets"] <= result[f"{side}/source_modes"]
        continue
      assert np.isfinite(result[f"{side}/fid"])
      src, dst = ("a", "b") if side == "translation" else ("b", "a")
      (source, _), (target, _) = evaluators.domain_split(held_out(c), src), evaluators.domain_split(held_out(c), dst)
      n = min(source.test.size, c.eval.num_samples)  # the held-out inputs translated
      n_real = n if dst in source.test.element_spec else min(n, target.test.size)  # their partners, or B's own
      if "source" not in c.data.streams or f"{side}/l1" in result:  # (unpaired domains: no ground truth)
        # against the partners, not themselves (l1 0, SSIM 1); images in [-1, 1] differ by at most 2
        assert 0 < result[f"{side}/l1"] <= 2 and result[f"{side}/ssim"] < 1
      if result[f"{side}/features"] == "classifier":  # labelled pairs: the "FCN-score" analogue
        assert_fraction(result[f"{side}/class_accuracy"], n)
        assert_fraction(result[f"{side}/class_accuracy_real"], n_real)
      if back:
        assert 0 < result[f"{side}/cycle_l1"] <= 2
    if c.algorithm == "srgan":  # super-resolution's bicubic baseline, scored alike
      _bicubic_baseline(c, result)
    if c.algorithm == "pix2pix":
      assert result["translation/fid_real_reference"] < result["translation/fid"]
      _translate_mode_runs_on_a_file_and_a_folder(c, tmp_path)
    if "source" in c.data.streams:  # domain adaptation: the task classifier on both domains, source | adapted rows
      sets = evaluators.prediction_sets(held_out(c))
      assert [prefix for prefix, _, _ in sets] == ["source/", "target/"]
      for prefix, test, _ in sets:
        assert_fraction(result[f"{prefix}test_accuracy"], test.size)
      assert set(sampling.sample(c, tmp_path)) == {"translations"}
      out = sampling.translate_files(c, tmp_path, str(tmp_path / "samples"), str(tmp_path / "adapted"))
      assert len(out) == 2
    if c.algorithm == "cyclegan":
      from PIL import Image

      paths = sampling.translate_files(c, tmp_path, str(tmp_path / "samples"), str(tmp_path / "back"), "BtoA")
      assert len(paths) == 2 and np.asarray(Image.open(paths[0])).shape == (8, 8, 3)  # B -> A
    return
  seconds = [v for k, v in result.items() if k.startswith("seconds/")]  # every stage reports its own time
  assert seconds and all(0 <= v <= elapsed for v in seconds)
  assert ("seconds/samples" in result) == (c.data.name != "signals")  # drawn once, for the metrics that score them
  n_test = data.load(c).test.size
  if c.data.name in ("ring8", "grid25"):
    assert result["modes_covered"] == int(result["modes_covered"]) <= result["modes_total"] == 8
  elif c.data.name == "signals":  # time series: no image metrics, the code's clustering accuracy
    assert_fraction(result["cluster_accuracy"], n_test)
    assert "fid" not in result
  elif c.algorithm == "vae":
    assert result["test/elbo"] < 0 and np.isfinite(result["fid"])
  else:
    assert np.isfinite(result["fid"]) and result["fid_real_reference"] < result["fid"]
  if "fid" in result:  # the rest of the image evaluation suite
    assert np.isfinite(result["kid"]) and result["kid_std"] > 0  # a spread over random subsets
    assert_fraction(result["precision"], c.eval.num_samples)  # of the generated samples
    assert_fraction(result["recall"], n_test)  # of the held-out images
    assert_fraction(result["coverage"], n_test)
    assert result["nn_ratio"] == pytest.approx(result["nn_distance_generated"] / result["nn_distance_heldout"])
    assert result["distinct_classes_in_100"] in range(1, 11)  # classes among the first 100 samples' argmaxes
    assert (tmp_path / "nearest_neighbours.png").exists()
  # each method's own metric: accuracies of the generated samples (their requested classes) or of the held-out images
  n = c.eval.num_samples
  extra = {"cgan": ("class_accuracy", n), "acgan": ("class_accuracy", n), "infogan": ("cluster_accuracy", n_test),
           "sgan": ("test_accuracy", n_test), "vae": ("linear_probe/latent_accuracy", n_test)}
  if c.algorithm in extra:
    assert_fraction(result[extra[c.algorithm][0]], extra[c.algorithm][1])
  if c.algorithm == "ali":
    assert 0 < result["test/reconstruction_mse"] <= 4  # images in [-1, 1]
  if c.algorithm in ("ali", "vae"):  # accuracies over the held-out images; the classifier on G(E(x)) too
    for k in ("linear_probe/pixel_accuracy", "nearest_neighbour/latent_accuracy", "reconstruction/class_accuracy",
              "reconstruction/class_accuracy_real"):
      assert_fraction(result[k], n_test)


def _sigterm_at(step_to_stop):
  def hook(step, state):
    if step == step_to_stop:
      os.kill(os.getpid(), signal.SIGTERM)
  return hook


@pytest.mark.parametrize("name", ["gan.py+replay", "dcgan.py", "vae.py", "wgan_gp.py+ema+noise"])
def test_sigterm_then_resume_is_bitwise_identical(tmp_path, config_of, name):
  name, *options = name.split("+")
  c = config_of(name, steps=6)
  if "ema" in options:  # method extras (the EMA) and step-dependent stabilizers survive the resume too
    c.gan.ema_decay, c.gan.instance_noise, c.gan.historical_averaging = 0.9, 0.3, 0.01
  if "replay" in options:  # the replay memory (sharded over the 4 devices) too
    c.gan.replay_size, c.gan.replay_fraction = 32, 0.5
  c.checkpoint_every = 100  # only the preemption save and the final save
  straight = train.train(c, tmp_path / "straight")
  stopped = train.train(c, tmp_path / "resumed", hooks=[_sigterm_at(3)])
  assert int(stopped.step) == 3
  assert not (tmp_path / "resumed" / "eval.json").exists()  # a stopped run is not evaluated
  assert checkpoint.Checkpointer(tmp_path / "resumed" / "checkpoints").all_steps() == [3]
  resumed = train.train(c, tmp_path / "resumed")
  assert int(resumed.step) == 6
  for a, b in zip(leaves(straight), leaves(resumed), strict=True):
    np.testing.assert_array_equal(a, b)


def test_step_compiles_once(tmp_path, config_of, monkeypatch):
  """Once in a run, and once in the process for two runs of one config (another workdir, a fresh copy
  of the config, other loop settings: how often to log and sample): the second finds its step traced
  and compiled (`state.ModuleApply`, the optimizers built once, the loop's fields left out of the
  state's config), and trains bitwise as the first."""
  gan = algorithms.get("gan")  # the loop reads the record: the counted step goes into a copy of it
  monkeypatch.setitem(algorithms.ALGORITHMS, "gan",
                      dataclasses.replace(gan, train_step=chex.assert_max_traces(gan.train_step, n=1)))
  c = config_of("dcgan.py", steps=6)
  first = train.train(c, tmp_path / "a")
  other = c.copy_and_resolve_references()
  other.log_every, other.sample_every, other.eval.num_samples = 3, 3, 32
  second = train.train(other, tmp_path / "b")
  assert not set(base_config.LOOP_FIELDS) & set(second.config)  # what a step cannot read
  chex.assert_trees_all_equal(first.players, second.players)
  assert first.g.apply_fn == second.g.apply_fn and first.g.tx is second.g.tx


def test_divergence_stops_naming_step_and_player_and_keeps_the_last_good_checkpoint(tmp_path, config_of):
  c = config_of("gan.py", steps=4)
  train.train(c, tmp_path)
  c.num_steps = 10
  c.optim.d.lr = 1e30  # D's parameters explode in step 5's D update; G's gradient through D is NaN
  with pytest.raises(DivergenceError, match=r"diverged at step 5: g/grad_norm = nan \(player 'g'\); last good checkpoint: step 4"):
    train.train(c, tmp_path)
  ckpts = checkpoint.Checkpointer(tmp_path / "checkpoints")
  assert ckpts.all_steps() == [2, 4]
  c.optim.d.lr = 2e-4
  c.num_steps = 6
  assert int(train.train(c, tmp_path).step) == 6  # the kept checkpoint resumes


def test_corrupt_checkpoint_is_one_clear_error_and_is_left_alone(tmp_path, config_of):
  c = config_of("gan.py", steps=2)
  train.train(c, tmp_path)
  state_dir = tmp_path / "checkpoints" / "2" / "state"
  corrupted = 0
  for root, _, files in os.walk(state_dir):
    for f in files:
      p = os.path.join(root, f)
      with open(p, "wb") as fh:
        fh.write(b"garbage")
      corrupted += 1
  assert corrupted
  with pytest.raises(CheckpointError, match="checkpoint step 2 .* is unreadable or was written by a different config.*left untouched"):
    train.train(c, tmp_path)
  assert os.path.isdir(state_dir) and checkpoint.Checkpointer(tmp_path / "checkpoints").all_steps() == [2]


@pytest.mark.parametrize("name", ["dcgan.py", "gan.py+replay32", "gan.py+replay50"])
def test_four_devices_match_one(tmp_path, config_of, name):
  """Batch norm over the global batch; a replay memory serves and stores the same samples on 1 and 4
  devices, its rows split over them, or replicated when they do not divide (CycleGAN's pool of 50)."""
  assert jax.device_count() == 4
  name, *options = name.split("+")
  c = config_of(name, steps=3)
  if options:
    c.gan.replay_size = int(options[0].removeprefix("replay"))
  c.mesh.num_devices = 1
  one = train.train(c, tmp_path / "one")
  c.mesh.num_devices = 4
  four = train.train(c, tmp_path / "four")
  if options:
    held = four.extra["replay"].sharding
    assert held.spec == jax.sharding.PartitionSpec("data") if c.gan.replay_size % 4 == 0 else held.is_fully_replicated
  for a, b in zip(leaves(one), leaves(four), strict=True):
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
  rows = lambda d: [json.loads(line) for line in open(tmp_path / d / "metrics.jsonl")]
  for r1, r4 in zip(rows("one"), rows("four"), strict=True):
    for k in r1:
      if k != "steps_per_sec":
        assert r1[k] == pytest.approx(r4[k], rel=1e-4, abs=1e-5), k


def test_sample_and_eval_modes(tmp_path, config_of):
  c = config_of("dcgan.py", steps=2)
  with pytest.raises(CheckpointError, match="train first"):
    sampling.sample(c, tmp_path)
  train.train(c, tmp_path)
  paths = sampling.sample(c, tmp_path)
  from PIL import Image

  tile = 4 * (8 + 1)  # an 8 x 8 image and its 1-pixel border, zoomed 4 times (pictures under 200 pixels)
  n, rows, steps = c.sample.num, c.sample.interpolation_rows, c.sample.interpolation_steps
  side = int(np.ceil(np.sqrt(n)))  # sample.num images in a square grid
  assert Image.open(paths["samples"]).size == (side * tile + 4, side * tile + 4)
  assert Image.open(paths["interpolation"]).size == (steps * tile + 4, rows * tile + 4)  # a row per pair of ends
  result = evaluation.evaluate_checkpoint(c, tmp_path)
  assert result["step"] == 2 and json.load(open(tmp_path / "eval.json")) == result


def run_cli(*args, env=None, timeout=300):
  return subprocess.run([sys.executable, "-m", "ganjax.main", *args], cwd=ROOT, capture_output=True,
                        text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("override,message", [
    ("--config.algorithm=nope", "unknown algorithm 'nope'; valid: acgan, ae, ali, bgan, bgan_tokens, cartoongan, cgan, cyclegan, dann, discogan, dtn, ebgan, gan, gman, gsgan, infogan, pix2pix, pixelda, seqgan, sgan, simgan, srgan, textgan, unrolled_gan, vae"),
    ("--config.data.name=idx:/does/not/exist", "idx: /does/not/exist is not a directory"),
    ("--config.model.generator=resnet9", "unknown generator 'resnet9'; valid: dcgan, infogan, mlp, resnet, salimans"),
])
def test_cli_bad_input_is_one_line(tmp_path, override, message):
  r = run_cli("--config=configs/gan.py", f"--workdir={tmp_path}", "--config.num_steps=2", override)
  assert r.returncode == 1
  lines = [l for l in r.stderr.splitlines() if l.strip()]
  assert lines[-1] == f"ganjax: error: {message}", r.stderr[-2000:]
  assert "Traceback" not in r.stderr


# The CLI's entry point, announcing readiness (a file) from its first step's hook: hooks run inside
# `train.train`'s signal handlers, so from then on a SIGTERM is honoured, not fatal.
SIGTERM_WORKER = """
import os, pathlib
from absl import app
from ganjax import main, train

_train = train.train

def announced(config, workdir, hooks=None):
  ready = pathlib.Path(os.environ["GANJAX_TEST_READY"])
  return _train(config, workdir, [*(hooks or []), lambda step, state: ready.exists() or ready.write_text(str(step))])

train.train = announced
app.run(main.main, flags_parser=main.parse_flags)
"""


def test_a_signal_during_an_evaluation_or_the_setup_ends_it_at_once(tmp_path, config_of, monkeypatch, capsys):
  """An evaluation (or building the run) that trains a feature network takes minutes: SIGTERM then
  ends it at once instead of when it finishes. Stand-ins that signal the process and then would work
  for 60 s must return within seconds; mid-run the step's checkpoint is saved and the run stops there;
  at the end the final checkpoint is kept and eval.json is not written; during the setup nothing is."""
  import time

  began = []

  def signalled_then_slow(*args, **kwargs):
    began.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(600):
      time.sleep(0.1)
    return {}

  def cut_short():  # the stand-in just called was interrupted well before its 60 s
    return time.perf_counter() - began[-1] < 30

  c = config_of("gan.py", steps=4)
  c.eval_every, c.checkpoint_every = 2, 100
  monkeypatch.setattr(evaluation, "evaluate", signalled_then_slow)
  state = train.train(c, tmp_path)
  assert cut_short() and int(state.step) == 2 and checkpoint.Checkpointer(tmp_path / "checkpoints").all_steps() == [2]
  assert "stopped by a signal at step 2" in capsys.readouterr().out
  c.eval_every = 0  # resume to the end: the final evaluation is interrupted, the final checkpoint kept
  state = train.train(c, tmp_path)
  assert cut_short() and int(state.step) == 4 and 4 in checkpoint.Checkpointer(tmp_path / "checkpoints").all_steps()
  assert "during the final evaluation" in capsys.readouterr().out and not (tmp_path / "eval.json").exists()
  monkeypatch.setattr(train, "Run", signalled_then_slow)
  assert train.train(c, tmp_path / "new") is None and cut_short()
  assert "before the first step" in capsys.readouterr().out and len(began) == 3


def test_cli_sigterm_saves_and_exits_cleanly(tmp_path):
  import time

  (tmp_path / "sigterm_worker.py").write_text(SIGTERM_WORKER)
  workdir, ready = tmp_path / "run", tmp_path / "ready"
  args = [sys.executable, str(tmp_path / "sigterm_worker.py"), "--config=configs/gan.py", f"--workdir={workdir}",
          "--config.num_steps=100000", "--config.log_every=5", "--config.checkpoint_every=100000",
          "--config.progress=False", "--config.compilation_cache=" + os.environ.get("GANJAX_TEST_XLA_CACHE", "")]
  env = {**os.environ, "GANJAX_TEST_READY": str(ready), "PYTHONPATH": os.pathsep.join(
      [str(ROOT), os.environ.get("PYTHONPATH", "")])}
  with open(tmp_path / "out", "w") as out, open(tmp_path / "err", "w") as err:
    proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, text=True, env=env)
    try:
      deadline = time.time() + 600  # a bound for a stuck worker only: the wait ends at its announcement
      while not ready.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
      assert ready.exists(), f"the worker never announced readiness: {(tmp_path / 'err').read_text()[-2000:]}"
      proc.send_signal(signal.SIGTERM)
      proc.wait(timeout=300)
    finally:
      if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=60)
  stdout, stderr = (tmp_path / "out").read_text(), (tmp_path / "err").read_text()
  assert proc.returncode == 0, stderr[-2000:]
  steps = checkpoint.Checkpointer(workdir / "checkpoints").all_steps()
  assert len(steps) == 1 and int(ready.read_text()) <= steps[0] < 100000  # saved where it stopped
  assert f"ganjax: stopped by a signal at step {steps[0]}; checkpoint saved" in stdout
  rows = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  assert rows[-1]["step"] == steps[0]  # the steps since the last log row are logged before it stops


def test_training_on_tfds_under_mock_data(tmp_path, config_of):
  import tensorflow_datasets as tfds

  c = config_of("gan.py", steps=2)
  c.data.name = "tfds:mnist"
  c.eval_every = 0
  with tfds.testing.mock_data(num_examples=40):
    state = train.train(c, tmp_path)
  assert int(state.step) == 2 and "fid" in json.load(open(tmp_path / "eval.json"))


def test_checkpoint_of_another_config_is_one_clear_error(tmp_path, config_of):
  c = config_of("gan.py", steps=2)
  train.train(c, tmp_path)
  c.model.g_hidden = (32,)
  with pytest.raises(CheckpointError, match="written by a different config"):
    sampling.sample(c, tmp_path)


@pytest.mark.parametrize("name", ["gan.py", "dcgan.py"])
def test_stabilizers_train_end_to_end(tmp_path, config_of, name):
  c = config_of(name, steps=2)
  c.gan.spectral_norm = True
  c.gan.minibatch_features = (4, 3)
  c.gan.g_objective = "feature_matching"
  c.gan.real_label = 0.9
  c.gan.ema_decay = 0.99
  c.gan.historical_averaging = 0.1
  state = train.train(c, tmp_path)
  assert int(state.step) == 2 and {"g_ema", "hist_g", "hist_d"} <= set(state.extra)
  assert all(np.isfinite(v) for r in map(json.loads, open(tmp_path / "metrics.jsonl")) for v in r.values())


@pytest.mark.parametrize("config,override,message", [
    ("configs/gan.py", "--config.nonexistent=1", "unknown config field 'nonexistent'"),
    ("configs/gan.py", "--config.batch_size=abc", "flag --config.batch_size=abc: invalid literal for int() with base 10: 'abc'"),
    ("configs/nope.py", "--config.seed=1", "[Errno 2] No such file or directory: 'configs/nope.py'"),
    ("configs/gan.py:foo", "--config.seed=1", "unknown configs/gan.py argument 'foo'; valid: (no argument), ring8, grid25"),
])
def test_cli_bad_config_is_one_line(tmp_path, config, override, message):
  r = run_cli(f"--config={config}", f"--workdir={tmp_path}", override)
  assert r.returncode == 2
  assert r.stderr.strip().splitlines() == [f"ganjax: error: {message}"], r.stderr[-2000:]


def test_latent_arithmetic_decodes_mean_a_minus_b_plus_c(tmp_path, config_of, monkeypatch):
  from ganjax import metrics
  from ganjax.algorithms.common import sample_latent
  from ganjax.errors import ConfigError

  c = config_of("gan.py", steps=1)
  train.train(c, tmp_path)
  c.sample.arithmetic = "3,1,4"
  # A stand-in classifier: sample i is of class i % 10, with confidence growing with i.
  def fake_classifier(split, config, progress=False):
    def net(x):
      n = len(x)
      probs = np.full((n, 10), 0.0)
      probs[np.arange(n), np.arange(n) % 10] = np.linspace(0.5, 1.0, n)
      return None, probs
    return net
  monkeypatch.setattr(metrics, "classifier_for", fake_classifier)
  paths = sampling.sample(c, tmp_path)
  assert os.path.exists(paths["arithmetic"])
  run = Run(c, tmp_path, need_data_iterator=False)
  key = jax.random.fold_in(jax.random.fold_in(run.base_key, SAMPLE_KEY), 3)
  grid = sampling.latent_arithmetic(run, key)
  assert grid.shape[0] == 32
  z = np.asarray(sample_latent(key, 2000, c.model))
  mean = lambda g: z[np.arange(2000)[np.arange(2000) % 10 == g][-7:]].mean(0)  # noqa: E731  the 7 most confident
  expected = run.generate(key, 1, z=(mean(3) - mean(1) + mean(4))[None])
  np.testing.assert_allclose(grid[24], expected[0], rtol=1e-5, atol=1e-6)
  c.sample.arithmetic = "3,1"
  with pytest.raises(ConfigError, match="give three class labels"):
    sampling.latent_arithmetic(Run(c, tmp_path, need_data_iterator=False), key)
