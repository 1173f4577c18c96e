"""The one exception type the CLI turns into a one-line message instead of a stack trace."""


class GanjaxError(Exception):
  """A user-facing error: bad config, bad data, corrupt checkpoint, diverged training."""


class ConfigError(GanjaxError):
  pass


class DataError(GanjaxError):
  pass


class CheckpointError(GanjaxError):
  pass


class DivergenceError(GanjaxError):
  pass


class MetricError(GanjaxError):
  """A metric that cannot be computed faithfully on these inputs (e.g. FID's matrix square root)."""


def choose(kind: str, name: str, table: dict):
  """Looks `name` up in a plain dict; an unknown name is an error that lists the valid ones."""
  try:
    return table[name]
  except KeyError:
    valid = ", ".join(sorted(table))
    raise ConfigError(f"unknown {kind} {name!r}; valid: {valid}") from None
