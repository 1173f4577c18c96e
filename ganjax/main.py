"""Entry point, intentionally kept short: flags, optional jax.distributed, dispatch by --mode.

  python -m ganjax.main --config=configs/dcgan.py --workdir=/tmp/dcgan [--mode=train|sample|eval]
      [--config.<field>=<value> ...] [--distributed --coordinator=HOST:PORT --num_processes=N --process_id=I]
  python -m ganjax.main --config=configs/pix2pix.py --workdir=/tmp/pix2pix --mode=translate --input=FILE_OR_DIR --output=DIR
      [--direction=BtoA  (CycleGAN, DiscoGAN)]
"""

import sys

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file, e.g. configs/dcgan.py[:arg].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Checkpoints, metrics, samples and eval.json go here.")
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
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  import jax
  from absl import logging

  from ganjax import evaluation, sampling, train

  if not flags.FLAGS["verbosity"].present:  # orbax logs every save at INFO
    logging.set_verbosity(logging.WARNING)
  from ganjax.errors import GanjaxError

  if _DISTRIBUTED.value:
    jax.config.update("jax_cpu_collectives_implementation", _CPU_COLLECTIVES.value)
    jax.distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
  try:
    if _MODE.value == "train":
      train.train(_CONFIG.value, _WORKDIR.value)
    elif _MODE.value == "translate":
      if not _INPUT.value or not _OUTPUT.value:
        raise GanjaxError("--mode=translate needs --input=FILE_OR_DIR and --output=DIR")
      paths = sampling.translate_files(_CONFIG.value, _WORKDIR.value, _INPUT.value, _OUTPUT.value,
                                       _DIRECTION.value)
      print(f"translated {len(paths)} images into {_OUTPUT.value}")
    elif _MODE.value == "sample":
      for name, path in sampling.sample(_CONFIG.value, _WORKDIR.value).items():
        print(f"{name}: {path}")
    else:
      import json

      print(json.dumps(evaluation.evaluate_checkpoint(_CONFIG.value, _WORKDIR.value), indent=2))
  except GanjaxError as e:
    print(f"ganjax: error: {e}", file=sys.stderr)
    sys.exit(1)


def parse_flags(argv):
  """absl's parser, with config-file and override problems as one line instead of a stack trace."""
  try:
    rest = flags.FLAGS(argv)
    _CONFIG.value.get("algorithm")  # load the config file now, so that its errors are reported here
    return rest
  except AttributeError as e:  # an override of a field the config does not have
    message = f"unknown config field {str(e).strip(chr(34))}"
  except (flags.Error, KeyError, ValueError, TypeError, OSError) as e:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    message = lines[-1] if lines else type(e).__name__
  print(f"ganjax: error: {message}", file=sys.stderr)
  sys.exit(2)


if __name__ == "__main__":
  from ganjax import malloc

  malloc.reexec_with_malloc_settings("ganjax.main")
  app.run(main, flags_parser=parse_flags)
