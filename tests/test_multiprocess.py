"""Two processes on 127.0.0.1 (gloo collectives, 2 CPU devices each) train one model on one 4-device
mesh, launched exactly as launch/local.sh does, and log the same losses as one process with 4 devices."""

import contextlib
import json
import os
import socket
import subprocess

import pytest

from ganjax import train
from tiny import ROOT

TESTS = os.path.dirname(os.path.abspath(__file__))

CONFIG = f"""
import sys
sys.path.insert(0, {TESTS!r})
from tiny import load_config, tiny

def get_config(arg=None):
  c = tiny(load_config("dcgan.py"), steps=4)
  c.checkpoint_every = 2
  c.sample_every = 2
  c.eval_every = 0
  return c
"""


@contextlib.contextmanager
def reserved_port():
  """A port for the coordinator, held for the whole test: bound here with SO_REUSEPORT (as gRPC, the
  coordination service's server, binds its own), so the coordinator can bind it too while no other
  program can take it in between, as it could a port found free and released."""
  try:
    s, host = socket.socket(socket.AF_INET6), "::"  # where the coordinator binds, [::]
  except OSError:  # no IPv6 here: the coordinator binds 0.0.0.0
    s, host = socket.socket(socket.AF_INET), ""
  with s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, 0))
    yield s.getsockname()[1]


def test_two_processes_form_one_mesh_and_match_one_process(tmp_path, config_of):
  cfg_file = tmp_path / "tiny_dcgan.py"
  cfg_file.write_text(CONFIG)
  flags = os.environ["XLA_FLAGS"].replace("device_count=4", "device_count=2")  # (and conftest.py's others)
  workdir = tmp_path / "multi"
  with reserved_port() as port:
    with socket.socket() as other, pytest.raises(OSError, match="Address already in use"):
      other.bind(("127.0.0.1", port))  # held: no other program takes it before the coordinator binds it
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu",
           "GANJAX_PROCESSES": "2", "GANJAX_COORDINATOR": f"127.0.0.1:{port}"}
    r = subprocess.run(["bash", str(ROOT / "launch" / "local.sh"), f"--config={cfg_file}", f"--workdir={workdir}"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
  assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
  multi = [json.loads(line) for line in open(workdir / "metrics.jsonl")]

  c = config_of("dcgan.py", steps=4)
  c.checkpoint_every = 2
  c.sample_every = 2
  c.eval_every = 0
  train.train(c, tmp_path / "single")
  single = [json.loads(line) for line in open(tmp_path / "single" / "metrics.jsonl")]
  multi = [r for r in multi if "eval/fid" not in r]
  single = [r for r in single if "eval/fid" not in r]
  assert [r["step"] for r in multi] == [r["step"] for r in single] == [2, 4]
  for a, b in zip(multi, single):
    for k in a:
      if k != "steps_per_sec":
        assert a[k] == pytest.approx(b[k], rel=1e-4, abs=1e-5), k
  # Sampling and evaluation run as one global computation; process 0 writes the files.
  assert sorted(os.listdir(workdir / "samples")) == ["step_00000002.png", "step_00000004.png"]
  multi_eval = json.load(open(workdir / "eval.json"))
  single_eval = json.load(open(tmp_path / "single" / "eval.json"))
  assert multi_eval.keys() == single_eval.keys()
  assert multi_eval["fid"] == pytest.approx(single_eval["fid"], rel=1e-3)
  # Both processes wrote their data-iterator state into the one checkpoint.
  assert sorted(os.listdir(workdir / "checkpoints" / "4" / "data")) == [
      "commit_success.txt", "process_0-of-2.json", "process_1-of-2.json"]
