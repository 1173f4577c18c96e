"""Host memory allocation for the command-line entry points (`ganjax.main`, `ganjax.bench`).

XLA:CPU allocates a step's large intermediate buffers with glibc's malloc, and glibc hands large
allocations (above its mmap threshold, and any too large for a worker thread's arena) to mmap and
returns them with munmap when freed: every step page-faults its working set in afresh. Measured on
this repository's 2-core machine (minor page faults from getrusage over 35 timed steps):

  DCGAN step, batch 256   52,000 faults (200 MiB) per step, 641 ms  ->  21,700 faults, 476-480 ms
  DCGAN step, batch 64    14,100 faults per step, 109-122 ms       ->  360-820 faults, 97-117 ms

with the settings below, which keep freed memory in a few arenas for reuse:

  MALLOC_ARENA_MAX=4  MALLOC_MMAP_MAX_=0  MALLOC_TRIM_THRESHOLD_=<1 TiB>

(One arena removed every fault at batch 256 but slowed the 4 ms MLP GAN step to 6-7 ms, the
worker threads queueing on its lock; four kept it at 4.1 ms.) glibc reads the variables once, when
the process starts (`mallopt` later was not enough), so `reexec_with_malloc_settings` restarts the
command once with them set. The cost: the process keeps its peak heap instead of returning it to
the system. Opt out with `GANJAX_MALLOC=0`, or set any of the variables yourself (then they are
left as they are). Other C libraries ignore them.
"""

from __future__ import annotations

import os
import sys

SETTINGS = {"MALLOC_ARENA_MAX": "4", "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)}


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
