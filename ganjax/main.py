"""Entry point, intentionally kept short: flags, optional jax.distributed, the workdir and its config
(`ganjax.workdir`), dispatch by --mode.

  python -m ganjax.main --config=configs/dcgan.py [--workdir=/tmp/dcgan] [--mode=train|sample|eval]
      [--config.<field>=<value> ...] [--distributed --coordinator=HOST:PORT --num_processes=N --process_id=I]
  python -m ganjax.main --workdir=/tmp/pix2pix --mode=translate --input=FILE_OR_DIR --output=DIR
      [--direction=BtoA  (CycleGAN, DiscoGAN)]

Without --workdir a run goes to runs/<config name> in the current directory. A workdir with a
checkpoint is run with the config it saved, the command line's --config.<field> overrides on top;
--config may then be left out.
"""

import sys

from absl import app, flags
from ml_collections import config_flags

from ganjax import malloc
from ganjax import workdir as workdir_lib
from ganjax.errors import CheckpointError, GanjaxError

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file, e.g. configs/dcgan.py[:arg]; optional for a workdir with a saved config.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Checkpoints, metrics, samples and eval.json go here "
                               "(default: runs/<config name>[_<arg>]).")
_MODE = flags.DEFINE_enum("mode", "train", ["train", "sample", "eval", "translate"], "What to do.")
_INPUT = flags.DEFINE_string("input", None, "--mode=translate: an image file or a folder of A-domain images.")
_DIRECTION = flags.DEFINE_enum("direction", "AtoB", ["AtoB", "BtoA"],
                                "--mode=translate: A -> B, or B -> A for methods that translate back (CycleGAN, DiscoGAN).")
_OUTPUT = flags.DEFINE_string("output", None, "--mode=translate: the folder the translated PNGs are written to.")
_DISTRIBUTED = flags.DEFINE_bool("distributed", False, "Call jax.distributed.initialize (multi-process).")
_COORDINATOR = flags.DEFINE_string("coordinator", None, "host:port of process 0 (auto-detected on TPU/SLURM).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Number of processes (auto-detected if unset).")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index (auto-detected if unset).")
_CPU_COLLECTIVES = flags.DEFINE_string("cpu_collectives", "gloo", "CPU collectives for multi-process CPU runs.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  import jax
  from absl import logging

  if not flags.FLAGS["verbosity"].present:  # orbax logs every save at INFO
    logging.set_verbosity(logging.WARNING)
  try:
    if _DISTRIBUTED.value:
      start_distributed()
    workdir, config, notes, changed = workdir_and_config()
    if not _DISTRIBUTED.value or jax.process_index() == 0:
      for line in notes:
        print(f"ganjax: {line}", flush=True)
    try:
      run_mode(config, workdir)
    except CheckpointError as e:  # name the override that made the checkpoint unreadable
      if changed and workdir_lib.DIFFERENT_CONFIG in str(e):
        raise CheckpointError(workdir_lib.unreadable(workdir, changed)) from None
      raise
  except GanjaxError as e:
    print(f"ganjax: error: {e}", file=sys.stderr)
    sys.exit(1)


def start_distributed():
  import jax

  jax.config.update("jax_cpu_collectives_implementation", _CPU_COLLECTIVES.value)
  try:
    jax.distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
  except (ValueError, TypeError) as e:  # jax's checks of what it could not detect, before connecting
    if "defined" in str(e):
      raise GanjaxError("--distributed found no cluster environment (Cloud TPU, SLURM, Open MPI, Kubernetes) "
                        "to detect the job from: pass --coordinator=HOST:PORT --num_processes=N --process_id=I "
                        "to each of its processes (launch/local.sh starts N on this machine), or leave out "
                        "--distributed to run one process") from None
    raise GanjaxError(f"--distributed: {e}") from None


def workdir_and_config():
  """(workdir, config, lines to show, overrides that change saved values) of this command: the
  workdir given or runs/<config name>, and its saved config or the --config file's (`ganjax.workdir`)."""
  config_arg = flags.FLAGS["config"].config_filename if _CONFIG.value is not None else None
  from_workdir = config_arg is not None and workdir_lib.is_saved_config_arg(config_arg)
  notes, workdir = [], _WORKDIR.value
  if workdir is None:
    if config_arg is None:
      raise GanjaxError("give --config=FILE for a new run, or --workdir=DIR of a trained run")
    workdir = workdir_lib.default_workdir(config_arg)
    notes.append(f"workdir {workdir} (the default for --config={config_arg}; --workdir=DIR chooses another)")
  overrides = flags.FLAGS["config"].override_values if config_arg is not None else {}
  config, more, changed = workdir_lib.resolve(workdir, None if from_workdir else _CONFIG.value, overrides,
                                              f"--config={config_arg}")
  return workdir, config, notes + more, changed


def run_mode(config, workdir):
  from ganjax import evaluation, sampling, train  # jax and the loop (~4 s) load after __main__'s malloc re-exec

  if _MODE.value == "train":
    train.train(config, workdir)
  elif _MODE.value == "translate":
    if not _INPUT.value or not _OUTPUT.value:
      raise GanjaxError("--mode=translate needs --input=FILE_OR_DIR and --output=DIR")
    paths = sampling.translate_files(config, workdir, _INPUT.value, _OUTPUT.value, _DIRECTION.value)
    print(f"translated {len(paths)} images into {_OUTPUT.value}")
  elif _MODE.value == "sample":
    for name, path in sampling.sample(config, workdir).items():
      print(f"{name}: {path}")
  else:
    import json

    print(json.dumps(evaluation.evaluate_checkpoint(config, workdir), indent=2))


def parse_flags(argv):
  """absl's parser, with config-file and override problems as one line instead of a stack trace."""
  try:
    rest = flags.FLAGS(workdir_lib.with_saved_config(argv))  # --config left out: the workdir's saved config
    if _CONFIG.value is not None:
      _CONFIG.value.get("algorithm")  # load the config file now, so that its errors are reported here
    return rest
  except GanjaxError as e:
    message = str(e)
  except AttributeError as e:  # an override of a field the config does not have
    message = f"unknown config field {str(e).strip(chr(34))}"
  except (flags.Error, KeyError, ValueError, TypeError, OSError) as e:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    message = lines[-1] if lines else type(e).__name__
  print(f"ganjax: error: {message}", file=sys.stderr)
  sys.exit(2)


if __name__ == "__main__":
  malloc.reexec_with_malloc_settings("ganjax.main")
  app.run(main, flags_parser=parse_flags)
