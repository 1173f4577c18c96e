"""Denoising autoencoder (Vincent et al. 2008): the autoencoder of configs/ae.py fed a corrupted
input and trained to reconstruct the clean one. The argument picks the noise model:
masking (default, p = 0.25), gaussian (sigma = 0.3), salt_pepper (p = 0.2), uniform_mix
(the seeds' 0.5 x + 0.5 U(0, 1)).

  python -m ganjax.main --config=configs/dae.py --workdir=/tmp/dae
  python -m ganjax.main --config=configs/dae.py:uniform_mix --workdir=/tmp/dae_mix
  python -m ganjax.main --config=configs/dae.py:gaussian --workdir=/tmp/dae_g --config.ae.noise_level=0.5
"""

import importlib.util
import pathlib

from ganjax import base_config

LEVELS = {"masking": 0.25, "gaussian": 0.3, "salt_pepper": 0.2, "uniform_mix": 0.0}


def get_config(arg=None):
  spec = importlib.util.spec_from_file_location("ae_config", pathlib.Path(__file__).with_name("ae.py"))
  ae = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(ae)
  c = ae.get_config()
  noise = base_config.argument("dae.py", arg, tuple(LEVELS)) or "masking"
  c.ae.noise = noise
  c.ae.noise_level = LEVELS[noise]
  return c
