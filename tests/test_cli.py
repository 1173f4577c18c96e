"""The command line's promises: a default workdir, --distributed outside a cluster as one line, a
method fork named by its file or module, and a workdir that remembers its config."""

import json
import os
import re
import subprocess
import sys

import pytest

from tiny import CONFIGS, ROOT, load_config
from ganjax import algorithms
from ganjax import workdir as workdir_lib
from ganjax.errors import ConfigError

# A copy of gan.py whose train_step also reports g/forked = 1.0, and whose record points at it.
FORK_SUFFIX = """

import dataclasses

_original_train_step = train_step


def train_step(state, batch, key):
  state, metrics = _original_train_step(state, batch, key)
  return state, {**metrics, "g/forked": 1.0}


METHOD = dataclasses.replace(METHOD, train_step=train_step)
"""

TINY_CONFIG = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
from tiny import load_config, tiny


def get_config():
  return tiny(load_config("gan.py"), 2)
"""


def write_fork(folder, name="my_gan.py"):
  path = folder / name
  path.write_text((ROOT / "ganjax" / "algorithms" / "gan.py").read_text() + FORK_SUFFIX)
  return path


def cli(cwd, *args, env=None):
  env = dict(os.environ if env is None else env)
  env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
  return subprocess.run([sys.executable, "-m", "ganjax.main", *args], cwd=cwd, capture_output=True, text=True,
                        timeout=300, env=env)


@pytest.fixture(scope="module")
def forked_run(tmp_path_factory):
  """A 2-step run of the gan.py fork, trained from the command line with a structure-changing
  override and no --workdir: (folder it ran in, its tiny config file, the fork, the CLI's result)."""
  folder = tmp_path_factory.mktemp("cli")
  config = folder / "tiny_gan.py"
  config.write_text(TINY_CONFIG)
  fork = write_fork(folder)
  result = cli(folder, f"--config={config}", f"--config.algorithm={fork}", "--config.model.g_hidden=24")
  assert result.returncode == 0, result.stderr[-2000:]
  return folder, config, fork, result


def test_default_workdir_is_named_after_the_config():
  assert workdir_lib.default_workdir("configs/infogan.py") == os.path.join("runs", "infogan")
  assert workdir_lib.default_workdir("configs/dann.py:source_only") == os.path.join("runs", "dann_source_only")
  assert workdir_lib.default_workdir("/x/gan.py:a b/c") == os.path.join("runs", "gan_a_b_c")


def test_a_fork_runs_from_the_command_line_into_the_default_workdir(forked_run):
  folder, config, fork, result = forked_run
  assert result.stdout.splitlines()[0] == (f"ganjax: workdir {os.path.join('runs', 'tiny_gan')} (the default for "
                                           f"--config={config}; --workdir=DIR chooses another)")
  workdir = folder / "runs" / "tiny_gan"
  rows = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  assert [r["step"] for r in rows] == [2] and rows[0]["g/forked"] == 1.0
  assert json.load(open(workdir / "config.json"))["algorithm"] == str(fork)


def test_a_trained_workdir_samples_with_its_saved_config(forked_run):
  # the training command's config file without its g_hidden override: the saved value is used
  from ganjax import sampling
  from tiny import tiny

  folder, config_file, fork, _ = forked_run
  workdir = folder / "runs" / "tiny_gan"
  given = tiny(load_config("gan.py"), 2)
  config, notes, changed = workdir_lib.resolve(workdir, given, {"sample.num": 4}, f"--config={config_file}")
  assert notes == [f"--config={config_file} differs from the saved config of {workdir} in algorithm (file 'gan', "
                   f"saved {str(fork)!r}), model.g_hidden (file {given.model.g_hidden!r}, saved (24,)); using the "
                   "saved values (change one with --config.FIELD=VALUE)",
                   f"overriding the saved config of {workdir}: sample.num=4 (saved {given.sample.num})"]
  assert changed == {"sample.num": (4, given.sample.num)} and config.model.g_hidden == (24,) and config.sample.num == 4
  paths = sampling.sample(config, workdir)
  assert os.path.exists(paths["samples"])


def test_an_override_the_checkpoint_cannot_read_is_named(forked_run):
  # --config left out: the saved config, with one override that changes the state's structure
  folder, *_ = forked_run
  r = cli(folder, "--workdir=runs/tiny_gan", "--mode=eval", "--config.model.g_hidden=32")
  assert r.returncode == 1
  assert r.stdout.splitlines() == ["ganjax: overriding the saved config of runs/tiny_gan: model.g_hidden=(32,) "
                                   "(saved (24,))"]
  error = ("ganjax: error: the checkpoint in runs/tiny_gan cannot be read with model.g_hidden=(32,) (saved (24,)): "
           "that field changes the state's structure; leave it out to use the saved values, or train into a new "
           "--workdir")
  assert [line for line in r.stderr.splitlines() if line.startswith("ganjax")] == [error]
  # orbax's reads abandoned by the failed restore may print asyncio tracebacks from its threads; none is ganjax's
  assert "ganjax" not in r.stderr.replace(error, ""), r.stderr[-2000:]


def test_saved_config_is_the_base_and_overrides_apply_on_top(tmp_path):
  given = load_config("pix2pix.py")  # the file without the run's overrides, and one override
  c = given.copy_and_resolve_references()
  c.data.image_size, c.batch_size = 2 * given.data.image_size, given.batch_size + 3  # the run's overrides
  (tmp_path / "config.json").write_text(c.to_json_best_effort())
  given.seed = 7
  # no checkpoint yet: the given config is used as it is
  assert workdir_lib.resolve(tmp_path, given, {"seed": 7}) == (given, [], {})
  (tmp_path / "checkpoints" / "2").mkdir(parents=True)
  config, notes, changed = workdir_lib.resolve(tmp_path, given, {"seed": 7}, "--config=configs/pix2pix.py")
  assert config.data.image_size == 2 * given.data.image_size
  assert (config.batch_size, config.seed) == (given.batch_size + 3, 7)
  assert notes[0].startswith(f"--config=configs/pix2pix.py differs from the saved config of {tmp_path} in ")
  assert f"data.image_size (file {given.data.image_size}, saved {2 * given.data.image_size})" in notes[0]
  assert f"batch_size (file {given.batch_size}, saved {given.batch_size + 3})" in notes[0]
  assert notes[1] == f"overriding the saved config of {tmp_path}: seed=7 (saved 0)" and changed == {"seed": (7, 0)}
  with pytest.raises(ConfigError, match="has no field model.nope"):
    workdir_lib.resolve(tmp_path, None, {"model.nope": 1})


def test_every_config_reads_back_from_its_workdir_unchanged(tmp_path):
  (tmp_path / "checkpoints" / "1").mkdir(parents=True)
  for name in CONFIGS:
    c = load_config(name)
    (tmp_path / "config.json").write_text(c.to_json_best_effort())
    config, notes, changed = workdir_lib.resolve(tmp_path, c, {}, name)
    assert not notes and not changed, (name, notes)
    assert workdir_lib.flat(c).items() <= workdir_lib.flat(config).items(), name


def test_fields_the_run_fills_in_from_the_data_are_not_reported_as_differences(tmp_path):
  """A token config leaves model.vocab_size and model.seq_len at 0 and the run writes the data's values
  into config.json: resuming with the same file must not list them, while a real change (a batch
  size) still is."""
  (tmp_path / "checkpoints" / "1").mkdir(parents=True)
  given = load_config("gsgan.py")
  c = given.copy_and_resolve_references()
  c.model.vocab_size, c.model.seq_len = 8, 13  # what the run derived from the grammar
  (tmp_path / "config.json").write_text(c.to_json_best_effort())
  assert workdir_lib.resolve(tmp_path, given, {}, "--config=configs/gsgan.py")[1] == []
  c.batch_size = given.batch_size + 1
  (tmp_path / "config.json").write_text(c.to_json_best_effort())
  notes = workdir_lib.resolve(tmp_path, given, {}, "--config=configs/gsgan.py")[1]
  assert len(notes) == 1 and "batch_size" in notes[0] and "vocab_size" not in notes[0], notes


def test_distributed_outside_a_cluster_is_one_line(tmp_path):
  cluster = ("SLURM_", "OMPI_", "KUBERNETES_", "JAX_COORDINATOR", "TPU_WORKER")  # what jax detects a job from
  env = {k: v for k, v in os.environ.items() if not k.startswith(cluster)}
  r = cli(ROOT, "--distributed", "--config=configs/gan.py", f"--workdir={tmp_path}", env=env)
  assert r.returncode == 1
  assert r.stderr.strip().splitlines() == [
      "ganjax: error: --distributed found no cluster environment (Cloud TPU, SLURM, Open MPI, Kubernetes) to detect "
      "the job from: pass --coordinator=HOST:PORT --num_processes=N --process_id=I to each of its processes "
      "(launch/local.sh starts N on this machine), or leave out --distributed to run one process"]
  assert not os.listdir(tmp_path)


def test_algorithm_by_module_path(tmp_path, monkeypatch):
  package = tmp_path / "cli_fork_project"
  package.mkdir()
  (package / "__init__.py").write_text("")
  write_fork(package, "my_gan.py")
  (package / "no_step.py").write_text("from ganjax.algorithms.method import Method\n\n\n"
                                      "def init(config, key, example_batch):\n  return None\n\n\n"
                                      "METHOD = Method(init=init)\n")
  (package / "no_record.py").write_text("def init(config, key, example_batch):\n  return None\n\n\n"
                                        "def train_step(state, batch, key):\n  return state, {}\n")
  monkeypatch.syspath_prepend(str(tmp_path))
  method = algorithms.get("cli_fork_project.my_gan")
  assert method.train_step.__module__ == "cli_fork_project.my_gan" and method.train_step.__name__ == "train_step"
  assert method.adversarial == algorithms.get("gan").adversarial and method.sharded_extra == ("replay",)
  with pytest.raises(ConfigError, match=r"^cannot load algorithm 'cli_fork_project.no_step': ConfigError: Method needs "
                                        r"train_step: Method\(init=\.\.\., train_step=\.\.\.\) \(.*no_step.py, line 8\)$"):
    algorithms.get("cli_fork_project.no_step")
  with pytest.raises(ConfigError, match=r"^algorithm 'cli_fork_project.no_record' defines no METHOD: end the module "
                                        r"with METHOD = Method\(init=\.\.\., train_step=\.\.\.\)"):
    algorithms.get("cli_fork_project.no_record")
  with pytest.raises(ConfigError, match=r"^algorithm 'cli_fork_project.nope': no module named 'cli_fork_project.nope'"):
    algorithms.get("cli_fork_project.nope")


def test_algorithm_by_file_and_its_errors(tmp_path):
  fork = write_fork(tmp_path)
  assert algorithms.get(str(fork)) is algorithms.get(str(fork))  # executed once: its jitted functions are reused
  (tmp_path / "empty.py").write_text("X = 1\n")
  with pytest.raises(ConfigError, match=r"defines no METHOD: end the module with METHOD = Method"):
    algorithms.get(str(tmp_path / "empty.py"))
  (tmp_path / "broken.py").write_text("import jax\n\nraise RuntimeError('no GPU here')\n")
  where = re.escape(f"({os.path.realpath(tmp_path / 'broken.py')}, line 3)")
  with pytest.raises(ConfigError, match=rf"^cannot load algorithm .*broken.py': RuntimeError: no GPU here {where}$"):
    algorithms.get(str(tmp_path / "broken.py"))
  with pytest.raises(ConfigError, match="no such file"):
    algorithms.get(str(tmp_path / "absent.py"))
  with pytest.raises(ConfigError, match=r"^unknown algorithm 'my_gan'; valid: acgan, ae, "):
    algorithms.get("my_gan")  # a plain name is never a file
