"""The Inception-v3 FID network and its weight loader, with random weights (no real ones offline);
with pytorch-fid's weights, `GANJAX_INCEPTION_PTH=FILE.pth python -m pytest tests/test_inception.py`
also compares it with pytorch-fid (`launch/compare_inception.py`)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.errors import ConfigError
from ganjax.metrics import inception
from tiny import ROOT


def test_weights_load_from_pytorch_names_and_give_2048_pool_features(tmp_path):
  model = inception.InceptionV3()
  template = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
  rng = np.random.default_rng(0)
  variables = jax.tree_util.tree_map_with_path(  # random weights, positive variances; nothing compiled
      lambda p, leaf: (np.abs(rng.normal(1, 0.2, leaf.shape)) if p[-1].key == "var" else
                       rng.normal(0, (2 / np.prod(leaf.shape[:-1])) ** 0.5 if p[-1].key == "kernel" else 0.1,
                                  leaf.shape)).astype(np.float32), template)
  state_dict = inception.state_dict_from_variables(variables)
  assert state_dict["Mixed_5b.branch1x1.conv.weight"].shape == (64, 192, 1, 1)  # PyTorch OIHW
  assert "Mixed_7c.branch_pool.bn.running_var" in state_dict and len(state_dict) == 94 * 5  # 94 convs: weight + 4 batch-norm arrays
  back = inception.variables_from_state_dict(state_dict, template)  # the mapping is a bijection
  assert jax.tree_util.tree_all(jax.tree_util.tree_map(np.array_equal, back, variables))
  np.savez(tmp_path / "w.npz", **state_dict)
  features = inception.load(str(tmp_path / "w.npz"))
  x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
  f = features(x)
  assert f.shape == (2, 2048) and np.all(np.isfinite(f)) and np.all(f >= 0)  # after ReLU + average pooling
  assert f.std() > 0
  del state_dict["Mixed_6b.branch7x7_2.conv.weight"]
  np.savez(tmp_path / "bad.npz", **state_dict)
  with pytest.raises(ConfigError, match="missing Mixed_6b.branch7x7_2.conv.weight"):
    inception.load(str(tmp_path / "bad.npz"))


def test_resize_is_pytorch_fids_bilinear_without_antialiasing():
  """F.interpolate(bilinear, align_corners=False) shrinking 4 -> 2 samples at source 0.5 and 2.5:
  the mean of pixel pairs. (Antialiasing would blend in the neighbours: 4% off FID on photos.)"""
  x = jnp.arange(16.0).reshape(1, 4, 4, 1)
  out = inception.preprocess(x, size=2)
  np.testing.assert_allclose(out[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
  assert out.shape == (1, 2, 2, 3)


@pytest.mark.skipif(not os.environ.get("GANJAX_INCEPTION_PTH"),
                    reason="needs pytorch-fid's weights: GANJAX_INCEPTION_PTH=pt_inception-2015-12-05-6726825d.pth")
def test_features_and_fid_equal_pytorch_fids_on_its_weights(tmp_path):
  """With the real weights (and `pip install pytorch-fid`): launch/compare_inception.py within 1e-3."""
  pytest.importorskip("pytorch_fid")
  import importlib.util

  from PIL import Image
  from sklearn.datasets import load_digits

  for i, img in enumerate((load_digits().images[:40] * 15.9).astype(np.uint8)):
    Image.fromarray(img).resize((32, 32)).save(tmp_path / f"{i:02d}.png")
  spec = importlib.util.spec_from_file_location("compare_inception", ROOT / "launch" / "compare_inception.py")
  script = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(script)
  assert script.main([f"--weights={os.environ['GANJAX_INCEPTION_PTH']}", f"--real={tmp_path}", "--num=20"]) == 0
