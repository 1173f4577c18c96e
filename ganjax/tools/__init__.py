"""Tools beside the library, each a command of its own: the library does not import them (but the
benchmark CLI, `ganjax.bench`, loads bench_torch for --reference=torch).

  report.py       python -m ganjax.tools.report: the docs' tables and plots from finished workdirs
  likelihood.py   python -m ganjax.tools.likelihood: AIS log-likelihood bounds of a trained workdir
  bench_torch.py  the PyTorch reference networks and steps `python -m ganjax.bench --reference=torch` times
"""
