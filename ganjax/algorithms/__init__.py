"""Methods, chosen by `config.algorithm` from the plain dict below.

Each module provides `init(config, key, example_batch) -> TrainState`,
`train_step(state, batch, key) -> (state, metrics)` and `generate(state, key, n, z=None)`, and,
where the method has them (the loop looks for them):
  encode(state, images), reconstruct(state, images)   codes; linear probes at evaluation
  evaluate(state, images, key)       per-example metrics on held-out images (the VAE's ELBO)
  generate_labeled(state, key, n)    (samples, requested labels): class accuracy at evaluation
  predict_class(state, images) + CLASS_MATCHING ("identity" | "hungarian"): accuracy at evaluation
  sample_grids(state, key, test)     {name: (samples, columns)}: extra pictures of --mode=sample
  example_batch(config, train)       what init sees of the data (default: two rows)
  SHARDED_EXTRA                      names in state.extra whose rows are split over devices
"""

from ganjax.algorithms import acgan, ae, ali, bgan, cgan, ebgan, gan, infogan, sgan, vae
from ganjax.errors import choose

ALGORITHMS = {"gan": gan, "ebgan": ebgan, "bgan": bgan, "cgan": cgan, "acgan": acgan, "infogan": infogan,
              "sgan": sgan, "ali": ali, "vae": vae, "ae": ae}


def get(name: str):
  return choose("algorithm", name, ALGORITHMS)
