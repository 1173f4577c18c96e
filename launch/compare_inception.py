"""Check ganjax's FID Inception-v3 against pytorch-fid's on the same weights and images.

  pip install pytorch-fid          # brings torch and torchvision; not a ganjax dependency
  python launch/compare_inception.py --weights=pt_inception-2015-12-05-6726825d.pth --real=DIR [--fake=DIR]
      [--num=200] [--image_size=0]

With pytorch-fid's weights file (the .pth it downloads; nothing is downloaded here: its loader is
handed this file), both networks embed the images of --real (and --fake; without it the second
half of --real), and the script prints the largest absolute and relative difference of the 2,048-d
pool features and both FIDs (pytorch-fid's `calculate_frechet_distance` on its features, ganjax's
`fid` on its own). Expected on a CPU in float32: features within 1e-3 relative (max abs difference
over max abs value), FIDs within 1e-3 relative; it exits 1 beyond those tolerances.

`--weights=random` builds random weights instead (pytorch-fid's own initialisation, random batch-norm
statistics): this checks the architectures, the weight mapping and the input pipeline (grey to RGB,
[0, 1] -> [-1, 1], bilinear resize to 299 x 299 without antialiasing) with no file at all.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

from ganjax.data import folders
from ganjax.metrics import fid as fid_lib
from ganjax.metrics import inception


def _random_state_dict(model):
  import torch

  gen = torch.Generator().manual_seed(0)
  sd = {}
  for k, v in model.state_dict().items():
    if k.endswith("running_mean"):
      v = 0.1 * torch.randn(v.shape, generator=gen)
    elif k.endswith("running_var"):
      v = 1.0 + torch.rand(v.shape, generator=gen)
    elif k.endswith("bn.weight"):
      v = 0.5 + torch.rand(v.shape, generator=gen)
    elif k.endswith("conv.weight") or (k.endswith(".weight") and v.ndim == 4):  # He-scaled, so that activations neither vanish nor explode over 94 layers
      fan_in = v[0].numel()
      v = torch.randn(v.shape, generator=gen) * (2.0 / fan_in) ** 0.5
    sd[k] = v.clone()
  return sd


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python launch/compare_inception.py")
  p.add_argument("--weights", required=True, help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth, or 'random'")
  p.add_argument("--real", required=True, help="a folder of images")
  p.add_argument("--fake", default="", help="a second folder (default: the second half of --real)")
  p.add_argument("--num", type=int, default=200, help="images per set")
  p.add_argument("--image_size", type=int, default=0, help="resize the images first (0: as they are)")
  p.add_argument("--tolerance", type=float, default=1e-3)
  args = p.parse_args(argv)

  import torch
  from pytorch_fid import fid_score
  from pytorch_fid import inception as pf_inception

  if args.weights == "random":  # pytorch-fid's model with its own init, then random weights and statistics
    import torchvision

    keep = torchvision.models.Inception3.load_state_dict
    torchvision.models.Inception3.load_state_dict = lambda self, *a, **k: None
    pf_inception.load_state_dict_from_url = lambda *a, **k: None
    try:
      torch_model = pf_inception.InceptionV3([3]).eval()
    finally:
      torchvision.models.Inception3.load_state_dict = keep
    torch_model.load_state_dict(_random_state_dict(torch_model))
  else:
    state = torch.load(args.weights, map_location="cpu")
    pf_inception.load_state_dict_from_url = lambda *a, **k: state  # hand pytorch-fid the file: no download
    torch_model = pf_inception.InceptionV3([3]).eval()  # block 3: the 2,048-d pool features
  with tempfile.TemporaryDirectory() as tmp:  # the conversion the README tells users to do
    path = os.path.join(tmp, "inception_fid.npz")
    np.savez(path, **{k: v.numpy() for k, v in _torchvision_names(torch_model).items()})
    ours = inception.load(path)

  def images(folder, part):
    src = folders.folder(folder, args.image_size)
    idx = np.arange(src.size)
    idx = idx[:args.num] if part == 0 else idx[-args.num:]
    return src.get(idx)["image"]  # NHWC in [-1, 1]

  a = images(args.real, 0)
  b = images(args.fake, 0) if args.fake else images(args.real, 1)

  def theirs(x):
    x01 = torch.from_numpy(np.repeat(x, 3, -1) if x.shape[-1] == 1 else x).permute(0, 3, 1, 2) * 0.5 + 0.5
    with torch.no_grad():
      return np.concatenate([torch_model(x01[i:i + 25])[0].squeeze(-1).squeeze(-1).numpy()
                             for i in range(0, len(x01), 25)])

  fa_t, fb_t = theirs(a), theirs(b)
  fa_o, fb_o = ours(a), ours(b)
  diff = max(np.abs(fa_t - fa_o).max(), np.abs(fb_t - fb_o).max())
  scale = max(np.abs(fa_t).max(), np.abs(fb_t).max())
  fid_t = fid_score.calculate_frechet_distance(fa_t.mean(0), np.cov(fa_t, rowvar=False), fb_t.mean(0),
                                               np.cov(fb_t, rowvar=False))
  fid_o = fid_lib.fid(fa_o, fb_o)
  rel_fid = abs(fid_t - fid_o) / max(abs(fid_t), 1e-12)
  print(f"images: {len(a)} + {len(b)} of shape {a.shape[1:]}; weights: {args.weights}")
  print(f"pool features: max |difference| {diff:.3g}, max |value| {scale:.3g}, relative {diff / scale:.3g}")
  print(f"FID: pytorch-fid {fid_t:.6f}, ganjax {fid_o:.6f}, relative difference {rel_fid:.3g}")
  ok = diff / scale <= args.tolerance and rel_fid <= args.tolerance
  print("equal within tolerance" if ok else f"NOT equal within {args.tolerance}")
  return 0 if ok else 1


def _torchvision_names(torch_model):
  """pytorch-fid's InceptionV3 wraps the torchvision layers in `blocks`; the .pth it loads (and the
  .npz ganjax reads) uses the torchvision names (`Mixed_5b.branch1x1.conv.weight`)."""
  modules = {
      "Conv2d_1a_3x3": (0, 0), "Conv2d_2a_3x3": (0, 1), "Conv2d_2b_3x3": (0, 2), "Conv2d_3b_1x1": (1, 0),
      "Conv2d_4a_3x3": (1, 1), "Mixed_5b": (2, 0), "Mixed_5c": (2, 1), "Mixed_5d": (2, 2), "Mixed_6a": (2, 3),
      "Mixed_6b": (2, 4), "Mixed_6c": (2, 5), "Mixed_6d": (2, 6), "Mixed_6e": (2, 7), "Mixed_7a": (3, 0),
      "Mixed_7b": (3, 1), "Mixed_7c": (3, 2)}
  out = {}
  for name, (block, index) in modules.items():
    layer = torch_model.blocks[block][index]
    for k, v in layer.state_dict().items():
      if not k.endswith("num_batches_tracked"):
        out[f"{name}.{k}"] = v.detach().cpu()
  return out


if __name__ == "__main__":
  sys.exit(main())
