"""ganjax: a functional JAX/Flax research codebase for GANs and VAEs."""

__version__ = "0.1.0"
