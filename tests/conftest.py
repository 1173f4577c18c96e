"""Test setup: 4 simulated CPU devices, cheap compilation, caches in a temp dir, tiny configs."""

import os

# XLA:CPU's legacy loop emitters compile these tiny programs in about 2/3 of the fusion emitters' time
# (the goldens are equal either way); subprocesses inherit the flags.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
                           " --xla_cpu_use_fusion_emitters=false").strip()
# Cheap compilation for the suite's tiny programs, in this process and in the subprocesses it starts
# (the CLI, launch scripts and two-process tests): most of a tiny test's time is compiling.
os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "true"
os.environ.setdefault("GANJAX_CACHE", os.path.join(os.environ.get("TMPDIR", "/tmp"), "ganjax-test-cache"))
# One persistent XLA cache per test session, shared by the xdist workers: a program compiled again
# (the same tiny config trained straight, stopped and resumed) is loaded, not recompiled.
os.environ.setdefault("GANJAX_TEST_XLA_CACHE", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"ganjax-test-xla-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}"))

import jax  # noqa: E402
import pytest  # noqa: E402

# from the start, not only once a test builds a Run: the methods' jitted inits, shared by many tests
jax.config.update("jax_compilation_cache_dir", os.environ["GANJAX_TEST_XLA_CACHE"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

from tiny import CONFIGS, ROOT, load_config, tiny  # noqa: E402,F401


@pytest.fixture
def config_of():
  return lambda name, arg=None, steps=4: tiny(load_config(name, arg), steps)


def _config_of(item):
  """The config file a test trains: its `config` mark's, or a parametrized test's (`dcgan.py` of
  `[dcgan.py-None]`, of `gan.py+replay`); None for the rest."""
  mark = item.get_closest_marker("config")
  if mark is not None:
    return mark.args[0]
  for value in (item.callspec.params.values() if hasattr(item, "callspec") else ()):
    if isinstance(value, str) and value.split("+")[0].split(":")[0] in CONFIGS:
      return value.split("+")[0].split(":")[0]
  return None


def pytest_collection_modifyitems(items):
  """Each config's parametrized tests side by side, at the place of its first one: a worker takes a
  contiguous run of tests, so one config's tests mostly land in one process and share its traced and
  compiled programs (`ganjax.state.frozen`, `ganjax.train.make_step_fn`)."""
  names, first = [_config_of(item) for item in items], {}
  for i, name in enumerate(names):
    first.setdefault(name, i)
  place = {id(item): (first[name] if name else i, i) for i, (item, name) in enumerate(zip(items, names))}
  items.sort(key=lambda item: place[id(item)])
