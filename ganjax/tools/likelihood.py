"""AIS log-likelihood of a trained workdir (Wu, Burda, Salakhutdinov & Grosse 2017, Sec. 4): the
run's latest checkpoint, its first held-out images, and the annealed importance sampling of
`ganjax.metrics.ais`. Observation models: the VAE's own decoder likelihood, and for GAN generators a
Gaussian p(x | z) = N(x; G(z), sigma^2 I) (sigma a hyperparameter, `--sigma`; `--observation=gaussian`
puts a VAE's decoder mean under the same model, so that a VAE and a GAN are compared on one footing,
as Wu et al. do). Only methods whose `Sampler` declares density_decoder=True -- generate(state, None, n, z) a
deterministic, continuous function of z ~ N(0, I) alone, N(0, I) being the prior the model was trained
under -- are accepted: a label- or code-conditioned generator (cGAN, AC-GAN, InfoGAN), discrete
samples (the discrete BGAN) or a decoder without a prior on its codes (the plain and denoising
autoencoder) give no such p(x).

  python -m ganjax.tools.likelihood --config=configs/vae.py --workdir=/tmp/vae_mnist --num_images=100 --iwae_samples=5000
  python -m ganjax.tools.likelihood --config=configs/dcgan.py --workdir=/tmp/dcgan_mnist --num_images=100 --sigma=0.1
writes `ais.json` (per-image estimates, their mean and the standard error over images) to the workdir,
or to `ais_<observation>.json` with `--observation=gaussian`. With `--iwae_samples=k` a VAE's IWAE bound
L_k is computed on the very same (binarised) images: the check that AIS and IWAE agree.
"""

from __future__ import annotations

import json
import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from ganjax import algorithms, parallel
from ganjax.errors import CheckpointError, ConfigError, GanjaxError
from ganjax.metrics.ais import ais, gaussian_observation
from ganjax.run import Run


def evaluate_workdir(config, workdir, num_images=100, steps=1000, chains=16, sigma=0.1, batch=25,
                     observation="auto", iwae_samples=0) -> dict:
  """AIS log-likelihood of the first `num_images` held-out images under the run's latest checkpoint.
  observation: "auto" (the model's own p(x | z) where it has one, else Gaussian) or "gaussian"."""
  sampler = algorithms.get(config.algorithm).sampler
  if sampler is None or not sampler.density_decoder:
    raise ConfigError(f"AIS estimates log p(x) = log E_z p(x | z) for a generator trained to map z ~ N(0, I) alone "
                      f"to continuous samples; algorithm {config.algorithm!r} does not declare density_decoder=True in "
                      "its Sampler (its generator is conditioned on labels or codes, its samples are discrete, or its "
                      "codes have no N(0, I) prior, as an autoencoder's)")
  if config.model.latent_dist != "normal":
    raise ConfigError(f"AIS's prior is N(0, I), but model.latent_dist={config.model.latent_dist!r}")
  run = Run(config, workdir, need_data_iterator=False)
  if run.restored_step is None:
    raise CheckpointError(f"no checkpoint in {run.checkpoints.directory}: train first")
  method, state = run.method, run.state
  test = run.split.test.get(np.arange(min(num_images, run.split.test.size)))["image"]
  key = jax.random.fold_in(jax.random.key(config.seed), 7)
  if observation not in ("auto", "gaussian"):
    raise ValueError(f"observation must be auto or gaussian, got {observation!r}")
  likelihood = method.likelihood  # the model's own p(x | z), or None
  own = observation == "auto" and likelihood is not None
  if iwae_samples and not (own and likelihood.iwae_bound is not None):
    raise ValueError("--iwae_samples needs a model with its own likelihood and an IWAE bound (the VAE)")
  if own:  # the model's own p(x | z) (the VAE)
    observation = "model"
    prepare = likelihood.ais_targets
    make_ll = lambda s: (lambda z, x: likelihood.decoder_log_likelihood(s, z, x))  # noqa: E731
  else:
    observation = f"gaussian(sigma={sigma})"
    prepare = lambda cfg, x, k: x  # noqa: E731
    make_ll = lambda s: gaussian_observation(lambda z: sampler.generate(s, None, z.shape[0], z=z), sigma)  # noqa: E731

  @jax.jit
  def estimate(state, x, k):
    targets = prepare(state.config, x, jax.random.fold_in(k, 1))
    log_p = ais(make_ll(state), targets, k, state.config.model.latent_dim, steps, chains)
    iwae = likelihood.iwae_bound(state, targets, jax.random.fold_in(k, 2), iwae_samples) if iwae_samples else log_p
    return log_p, iwae

  values, iwaes = [], []
  for i in range(0, len(test), batch):
    log_p, iwae = parallel.local_copy(estimate(state, jnp.asarray(test[i:i + batch]), jax.random.fold_in(key, i)))
    values.append(log_p)
    iwaes.append(iwae)
  values = np.concatenate(values).astype(np.float64)
  sem = lambda v: float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0  # noqa: E731
  result = {"step": run.restored_step, "observation_model": observation, "ais_steps": steps, "chains": chains,
            "num_images": int(len(values)), "log_likelihood": float(values.mean()), "standard_error": sem(values)}
  if iwae_samples:
    iwaes = np.concatenate(iwaes).astype(np.float64)
    result.update({"iwae_samples": iwae_samples, "iwae_log_likelihood": float(iwaes.mean()),
                   "iwae_standard_error": sem(iwaes), "ais_minus_iwae": float((values - iwaes).mean()),
                   "ais_minus_iwae_standard_error": sem(values - iwaes)})
  result["per_image"] = values.tolist()
  # a VAE scored under the Gaussian model keeps its own-likelihood ais.json beside it
  name = "ais_gaussian.json" if not own and likelihood is not None else "ais.json"
  if jax.process_index() == 0:
    with open(os.path.join(run.workdir, name), "w") as fh:
      json.dump(result, fh, indent=2)
  run.checkpoints.close()
  return result


def main(argv):
  from absl import app, flags
  from ml_collections import config_flags

  config_flags.DEFINE_config_file("config", None, "the run's config file")
  flags.DEFINE_string("workdir", None, "a trained run's workdir")
  flags.DEFINE_integer("num_images", 100, "held-out images to evaluate (the first ones)")
  flags.DEFINE_integer("steps", 1000, "AIS intermediate distributions")
  flags.DEFINE_integer("chains", 16, "AIS chains per image")
  flags.DEFINE_float("sigma", 0.1, "std of the Gaussian observation model for GAN generators (images in [-1, 1])")
  flags.DEFINE_enum("observation", "auto", ["auto", "gaussian"],
                    "auto: the model's own p(x | z) (VAE) or Gaussian (GANs); gaussian: N(x; decoder mean, sigma^2 I)")
  flags.DEFINE_integer("iwae_samples", 0, "VAE: also the IWAE bound with this many samples on the same images")

  def run(_):
    f = flags.FLAGS
    try:
      result = evaluate_workdir(f.config, f.workdir, f.num_images, f.steps, f.chains, f.sigma,
                                observation=f.observation, iwae_samples=f.iwae_samples)
    except (GanjaxError, ValueError) as e:
      print(f"ganjax: error: {e}", file=sys.stderr)
      sys.exit(2)
    print(json.dumps({k: v for k, v in result.items() if k != "per_image"}, indent=2))

  app.run(run, argv)


if __name__ == "__main__":
  main(sys.argv)
