"""Host memory allocation for the command-line entry points (`ganjax.main`, `ganjax.bench`).

XLA:CPU allocates every large intermediate buffer of a step with glibc's malloc, and glibc hands
allocations above its mmap threshold (at most 32 MiB) — and any large one made from a worker
thread's arena — straight to mmap, returning them with munmap when freed. Every step then
page-faults its working set in afresh: measured on this repository's 2-core machine, the DCGAN
step at batch 256 took 52,000 minor page faults (200 MiB) per step and ran 27% slower than with the
settings below, which keep freed memory in one arena for reuse (0 page faults per step):

  MALLOC_ARENA_MAX=1  MALLOC_MMAP_MAX_=0  MALLOC_TRIM_THRESHOLD_=<1 TiB>

glibc reads them once, when the process starts (`mallopt` later was not enough: 10,000 faults
per step remained), so `reexec_with_malloc_settings` restarts the command once with them set. The
cost: the process keeps its peak heap instead of returning it to the system. Opt out with
`GANJAX_MALLOC=0`, or set any of the variables yourself (then they are left as they are). Other C
libraries ignore the variables.
"""

from __future__ import annotations

import os
import sys

SETTINGS = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)}


def wanted(environ=os.environ, platform: str = sys.platform) -> bool:
  """Whether to restart with SETTINGS: on Linux, unless opted out or any variable is already set."""
  return (platform.startswith("linux") and environ.get("GANJAX_MALLOC", "1") != "0"
          and not any(k in environ for k in SETTINGS))


def reexec_with_malloc_settings(module: str):
  """Restarts `python -m <module> <args>` with SETTINGS in the environment (never returns), if
  wanted. Interpreter options (`-u`, `-X ...`) are not carried over: use their environment variables."""
  if not wanted():
    return
  os.environ.update(SETTINGS)
  sys.stdout.flush()
  sys.stderr.flush()
  os.execv(sys.executable, [sys.executable, "-m", module, *sys.argv[1:]])
