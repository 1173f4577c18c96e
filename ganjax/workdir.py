"""A workdir as the command line sees it: its default name, and the config it remembers.

A workdir that holds a checkpoint keeps the config it was trained with (`config.json`, written by the
loop). Every later command on it -- resuming, --mode=sample|eval|translate -- starts from that saved
config, with the command line's `--config.<field>=VALUE` overrides applied on top, so that the
checkpoint stays readable without repeating the overrides it was trained with. `--config` may then
be left out; a `--config` file whose values differ from the saved ones is named in one line, and the
saved values are used. A workdir without a checkpoint has nothing to stay compatible with: the
`--config` file (with its overrides) is used as given.

This file is also a config file for ml_collections: `--config=ganjax/workdir.py:WORKDIR` loads
WORKDIR's saved config. `ganjax.main` adds it when `--config` is left out, so that `--config.<field>`
overrides parse with the saved fields' types.
"""

from __future__ import annotations

import json
import os
import re

import ml_collections

from ganjax import base_config
from ganjax.errors import CheckpointError, ConfigError

RUNS = "runs"  # the default workdirs' folder, in the current directory
DIFFERENT_CONFIG = "written by a different config"  # how ganjax.checkpoint reports a tree it cannot restore


def default_workdir(config_arg: str) -> str:
  """runs/<config file name>[_<its argument>]: `configs/dann.py:source_only` -> runs/dann_source_only."""
  path, _, arg = config_arg.partition(":")
  name = os.path.splitext(os.path.basename(path))[0]
  if arg:
    name += "_" + re.sub(r"[^A-Za-z0-9.-]+", "_", arg).strip("_")
  return os.path.join(RUNS, name)


def saved_config_path(workdir) -> str:
  return os.path.join(os.path.expanduser(str(workdir)), "config.json")


def has_checkpoint(workdir) -> bool:
  """Whether the workdir holds a finished checkpoint (orbax renames a step's folder to its number when done)."""
  directory = os.path.join(os.path.expanduser(str(workdir)), "checkpoints")
  return os.path.isdir(directory) and any(name.isdigit() for name in os.listdir(directory))


def config_of_workdir(workdir):
  """The config a run trained with, read back from its `config.json` (sequences as tuples)."""
  path = saved_config_path(workdir)
  try:
    with open(path) as f:
      raw = json.load(f)
  except (OSError, ValueError) as e:
    raise CheckpointError(f"cannot read {path} ({type(e).__name__}): is {workdir} a trained workdir?") from None

  def merge(into, saved):  # today's defaults for fields newer than the run
    for k, v in saved.items():
      if isinstance(v, dict) and k in into and isinstance(into[k], ml_collections.ConfigDict):
        merge(into[k], v)
      else:
        into[k] = ml_collections.ConfigDict(v) if isinstance(v, dict) else v

  config = base_config.get_gan_config() if "gan" in raw else base_config.get_config()
  with config.unlocked():
    merge(config, _tuples(raw))
  return config


def get_config(workdir):
  """The config-file interface (`--config=ganjax/workdir.py:WORKDIR`): the workdir's saved config."""
  return config_of_workdir(workdir)


def is_saved_config_arg(config_arg: str) -> bool:
  """Whether `--config` names this file, i.e. a workdir's saved config."""
  return os.path.realpath(config_arg.partition(":")[0]) == os.path.realpath(__file__)


def with_saved_config(argv: list) -> list:
  """`argv` with `--config=<this file>:WORKDIR` added when it gives no --config and its --workdir holds
  a saved config."""
  if any(re.match(r"--?config(=|$)", a) for a in argv[1:]):
    return argv
  workdir = None
  for i, a in enumerate(argv[1:], 1):
    m = re.match(r"--?workdir(=(.*))?$", a)
    if m:
      workdir = m.group(2) if m.group(1) else (argv[i + 1] if i + 1 < len(argv) else None)
  if workdir and os.path.isfile(saved_config_path(workdir)):
    return [argv[0], f"--config={os.path.abspath(__file__)}:{workdir}", *argv[1:]]
  return argv


def _tuples(v):
  if isinstance(v, dict):
    return {k: _tuples(x) for k, x in v.items()}
  return tuple(_tuples(x) for x in v) if isinstance(v, (list, tuple)) else v


def flat(config) -> dict:
  """{dotted field: value} in the form config.json keeps them (sequences as tuples)."""
  def walk(d, prefix):
    for k, v in d.items():
      if isinstance(v, dict):
        yield from walk(v, f"{prefix}{k}.")
      else:
        yield prefix + k, v
  return dict(walk(_tuples(json.loads(config.to_json_best_effort())), ""))


def _as_saved(value):
  return _tuples(json.loads(json.dumps(value, default=str)))


def _filled_in(value) -> bool:
  """An integer 0 or an empty value in a config file: a field the run fills in from the data."""
  return (type(value) is int and value == 0) or value in ("", None, ())


def _listing(fields: dict, file: bool = False, limit: int = 8) -> str:
  """`field (file F, saved S)` or `field=V (saved S)` for {field: (value, saved value)}, at most `limit`."""
  shown = [f"{k} (file {v!r}, saved {s!r})" if file else f"{k}={v!r} (saved {s!r})"
           for k, (v, s) in list(fields.items())[:limit]]
  more = f" and {len(fields) - limit} more" if len(fields) > limit else ""
  return ", ".join(shown) + more


def resolve(workdir, given=None, overrides=None, source: str = "--config"):
  """(config, notes, changed) of a command on `workdir`.

  `given`: the --config file's config with the overrides applied (None: --config left out);
  `overrides`: {dotted field: value} from the command line. `notes` are the lines to show: the
  file's fields that differ from the saved config, the overrides that change saved values;
  `changed` = {field: (value used, saved value)} of those overrides."""
  overrides = dict(overrides or {})
  path = saved_config_path(workdir)
  if given is not None and not (os.path.isfile(path) and has_checkpoint(workdir)):
    return given, [], {}
  if not os.path.isfile(path):
    raise ConfigError(f"{workdir} holds no saved config (config.json): give --config=FILE to start a run there")
  config = config_of_workdir(workdir)
  saved = flat(config)
  notes = []
  if given is not None:
    # a field left at 0 / empty in the file is one the run fills in from the data (model.vocab_size, seq_len):
    # its saved value is what the run derived, not a difference the user made
    differ = {k: (v, saved[k]) for k, v in flat(given).items()
              if k in saved and k not in overrides and v != saved[k] and not _filled_in(v)}
    if differ:
      notes.append(f"{source} differs from the saved config of {workdir} in {_listing(differ, file=True)}; using "
                   "the saved values (change one with --config.FIELD=VALUE)")
  for field, value in overrides.items():
    *parents, leaf = field.split(".")
    node = config
    try:
      for p in parents:
        node = node[p]
      present = leaf in node
    except (KeyError, TypeError):
      present = False
    if not present:
      raise ConfigError(f"the saved config of {workdir} has no field {field}")
    try:
      node[leaf] = value
    except TypeError as e:
      raise ConfigError(f"--config.{field}={value!r}: {e}") from None
  changed = {k: (_as_saved(v), saved.get(k)) for k, v in overrides.items() if _as_saved(v) != saved.get(k)}
  if changed:
    notes.append(f"overriding the saved config of {workdir}: {_listing(changed)}")
  return config, notes, changed


def unreadable(workdir, changed: dict) -> str:
  """The one line for a checkpoint that the overrides `changed` make unreadable."""
  which, it = ("that field changes", "it") if len(changed) == 1 else ("one of these fields changes", "them")
  return (f"the checkpoint in {workdir} cannot be read with {_listing(changed)}: {which} the state's "
          f"structure; leave {it} out to use the saved values, or train into a new --workdir")
