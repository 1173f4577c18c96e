"""VGG-19 (Simonyan & Zisserman 2015) as a fixed feature network for content, perceptual and texture
losses (SRGAN's phi_{5,4}, EnhanceNet's conv1.1 / conv2.1 / conv3.1, CartoonGAN's conv4_4).

Nothing is downloaded: the weights come from an .npz the user converts once from torchvision's
ImageNet checkpoint, on any machine with PyTorch:

  python -m ganjax.networks.vgg --convert=vgg19-dcbb9e9d.pth --out=vgg19.npz

which stores torchvision's tensors under their own names (`features.<i>.weight` OIHW,
`features.<i>.bias`); `load(path)` maps them to this module (kernels to HWIO). Inputs are ganjax
images in [-1, 1] (grey images are repeated to 3 channels), mapped to [0, 1] and normalised with
ImageNet's mean and std as torchvision's models expect. `features(params, x, layers)` returns the
named activations (after ReLU: "relu5_4"; before: "conv5_4"), stopping at the deepest one asked for.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ganjax.errors import ConfigError

# Convolution channels per block; "M" is a 2x2 max-pool (torchvision's `cfgs["E"]`).
CHANNELS = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
MEAN, STD = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)


def layers():
  """[(name, torchvision index of its convolution or None, kind)], in order: conv / relu / pool."""
  out, block, conv, index = [], 1, 1, 0
  for ch in CHANNELS:
    if ch == "M":
      out.append((f"pool{block}", None, "pool"))
      block, conv, index = block + 1, 1, index + 1
      continue
    out.append((f"conv{block}_{conv}", index, "conv"))
    out.append((f"relu{block}_{conv}", None, "relu"))
    conv, index = conv + 1, index + 2
  return out


def random_params(key, dtype=jnp.float32) -> dict:
  """He-initialised weights in `load`'s structure (for tests and for shape checks)."""
  params, cin = {}, 3
  for name, index, kind in layers():
    if kind == "conv":
      cout = CHANNELS[[n for n, _, k in layers() if k in ("conv", "pool")].index(name)]
      key, sub = jax.random.split(key)
      params[name] = {"kernel": jax.random.normal(sub, (3, 3, cin, cout), dtype) * np.sqrt(2.0 / (9 * cin)),
                      "bias": jnp.zeros((cout,), dtype)}
      cin = cout
  return params


def from_torch_names(arrays: dict) -> dict:
  """torchvision's `features.<i>.weight` (O, I, 3, 3) / `.bias` -> {convB_C: {kernel (3, 3, I, O), bias}}."""
  params = {}
  for name, index, kind in layers():
    if kind != "conv":
      continue
    w, b = f"features.{index}.weight", f"features.{index}.bias"
    if w not in arrays or b not in arrays:
      raise ConfigError(f"VGG-19 weights lack {w} / {b}: convert torchvision's vgg19 checkpoint with "
                        "`python -m ganjax.networks.vgg --convert=... --out=...`")
    params[name] = {"kernel": jnp.asarray(np.transpose(np.asarray(arrays[w], np.float32), (2, 3, 1, 0))),
                    "bias": jnp.asarray(np.asarray(arrays[b], np.float32))}
  return params


def load(path: str) -> dict:
  import os

  path = os.path.expanduser(str(path))
  try:
    with np.load(path) as f:
      arrays = {k: f[k] for k in f.files}
  except (OSError, ValueError) as e:
    raise ConfigError(f"cannot read VGG-19 weights {path} ({type(e).__name__}): an .npz from "
                      "`python -m ganjax.networks.vgg --convert=vgg19.pth --out=vgg19.npz`") from None
  return from_torch_names(arrays)


def preprocess(x):
  x = jnp.repeat(x, 3, -1) if x.shape[-1] == 1 else x
  return ((x + 1.0) * 0.5 - MEAN) / STD


def features(params, x, wanted) -> list:
  """The activations named in `wanted` (e.g. ["relu5_4"]), in that order, of images x in [-1, 1]."""
  names = [n for n, _, _ in layers()]
  unknown = [w for w in wanted if w not in names]
  if unknown:
    raise ConfigError(f"VGG-19 has no layer {unknown[0]!r}; its layers are conv1_1, relu1_1, ..., pool5")
  last = max(names.index(w) for w in wanted)
  h, got = preprocess(x), {}
  for name, _, kind in layers()[:last + 1]:
    if kind == "conv":
      p = params[name]
      h = jax.lax.conv_general_dilated(h, p["kernel"].astype(h.dtype), (1, 1), "SAME",
                                       dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["bias"].astype(h.dtype)
    elif kind == "relu":
      h = jax.nn.relu(h)
    else:
      h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    got[name] = h
  return [got[w] for w in wanted]


def _convert(src: str, out: str):
  import torch  # only here: converting needs PyTorch, using the weights does not

  state = torch.load(src, map_location="cpu")
  state = state.get("state_dict", state)
  arrays = {k: v.numpy() for k, v in state.items() if k.startswith("features.")}
  from_torch_names(arrays)  # refuses a checkpoint that is not VGG-19's
  np.savez(out, **arrays)
  print(f"wrote {len(arrays)} VGG-19 arrays to {out}")


if __name__ == "__main__":
  import argparse

  parser = argparse.ArgumentParser(description="Convert torchvision's VGG-19 checkpoint to ganjax's .npz.")
  parser.add_argument("--convert", required=True, help="torchvision's vgg19 .pth (e.g. vgg19-dcbb9e9d.pth)")
  parser.add_argument("--out", required=True, help="the .npz to write")
  args = parser.parse_args()
  _convert(args.convert, args.out)
