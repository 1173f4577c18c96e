"""Flax linen networks, chosen by name from the plain dicts below.

Every generator maps latents `z` (B, latent_dim) to samples of `out_shape`; every discriminator
maps samples to logits (B,) — or (B, num_outputs) when `num_outputs > 1` — and `sow`s its last
hidden features under ("intermediates", "features") for feature-based objectives and metrics.
`infogan` players take images (H, W, C) or time-series windows (T, C); `salimans` are Salimans et
al.'s weight-normalised, noisy MNIST MLPs (D takes an rng named "noise" in training). Every encoder maps samples to the mean and log-variance of a diagonal Gaussian.
"""

from ganjax.errors import choose
from ganjax.networks import dcgan, infogan, mlp, resnet, salimans

GENERATORS = {"mlp": mlp.Generator, "dcgan": dcgan.Generator, "infogan": infogan.Generator,
              "resnet": resnet.Generator, "salimans": salimans.Generator}
DISCRIMINATORS = {"mlp": mlp.Discriminator, "dcgan": dcgan.Discriminator, "infogan": infogan.Discriminator,
                  "resnet": resnet.Discriminator, "salimans": salimans.Discriminator}
ENCODERS = {"mlp": mlp.Encoder, "dcgan": dcgan.Encoder}


def generator(name: str, **kw):
  return choose("generator", name, GENERATORS)(**kw)


def discriminator(name: str, **kw):
  return choose("discriminator", name, DISCRIMINATORS)(**kw)


def encoder(name: str, **kw):
  return choose("encoder", name, ENCODERS)(**kw)
