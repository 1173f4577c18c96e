"""Methods, chosen by `config.algorithm` from the plain dict below.

Each module provides `init(config, key, example_batch) -> TrainState`,
`train_step(state, batch, key) -> (state, metrics)` and `generate(state, key, n, z=None)`, and,
where the method has them, `encode`, `reconstruct` and `evaluate(state, images, key)` (per-example
method-specific metrics such as the VAE's ELBO).
"""

from ganjax.algorithms import bgan, ebgan, gan, vae
from ganjax.errors import choose

ALGORITHMS = {"gan": gan, "ebgan": ebgan, "bgan": bgan, "vae": vae}


def get(name: str):
  return choose("algorithm", name, ALGORITHMS)
