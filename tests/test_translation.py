"""pix2pix (Isola et al. 2017) against the paper's definitions: the PatchGAN's receptive fields,
Eq. 4's generator objective from the networks' outputs, D's halved objective, the L1-only ablation,
and dropout as the test-time noise."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import train
from ganjax.algorithms import pix2pix
from ganjax.networks.patchgan import PatchGAN, receptive_field


@pytest.mark.parametrize("layers,size", [(1, 16), (2, 34)])
def test_patchgan_sees_the_papers_patch_sizes(layers, size):
  """Sec. 3.2.2 / Table 2: one logit of the 1- / 2-layer PatchGAN depends on a 16 / 34 px patch
  (measured by the gradient's support); the same count gives the 3-layer default's 70 x 70."""
  assert receptive_field(3) == 70 and receptive_field(layers) == size
  d = PatchGAN(width=2, layers=layers)
  x = jnp.zeros((1, 48, 48, 1))
  v = d.init(jax.random.key(0), x, train=False)
  centre = d.apply(v, x, train=False).shape[1] // 2
  grad = jax.jit(jax.grad(lambda x: d.apply(v, x, train=False)[0, centre, centre, 0]))(
      jax.random.normal(jax.random.key(1), x.shape))
  rows, cols = np.nonzero(np.abs(np.asarray(grad[0, :, :, 0])) > 0)
  assert rows.max() - rows.min() + 1 <= size and cols.max() - cols.min() + 1 <= size
  assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 >= size - 3  # SAME padding trims a border


def test_generator_objective_is_eq_4_and_d_objective_is_halved(config_of, tmp_path):
  c = config_of("pix2pix.py", steps=1)
  run = train.Run(c, tmp_path)
  batch, key = run.next_batch(), jax.random.key(5)
  new, m = jax.jit(pix2pix.train_step)(run.state, batch, key)
  g, d = run.state.g, new.d
  x, y = np.asarray(batch["a"]), np.asarray(batch["b"])

  @jax.jit
  def outputs(x):
    out = g.apply(g.params, x, train=True, rngs={"dropout": jax.random.fold_in(key, 0)})[0]  # z: G's dropout
    judge = lambda inp: d.apply(d.params, jnp.concatenate([inp, out], -1), train=True)[0]  # noqa: E731
    return out, judge(x), judge(-x)  # D after its update on (x, G(x)), and on another input

  out, logits, other = (np.asarray(v, np.float64) for v in outputs(x))
  l1 = np.mean(np.abs(y - out))  # E||y - G(x, z)||_1 per pixel
  adversarial = np.mean(np.log1p(np.exp(-logits)))  # -log D(x, G(x, z)), averaged over the patches
  np.testing.assert_allclose(float(m["g/l1"]), l1, rtol=1e-5)
  np.testing.assert_allclose(float(m["g/adversarial"]), adversarial, rtol=1e-4)
  # Eq. 4 with the config's weights: lambda = 100; the :l1 ablation sets the cGAN weight to 0, :cgan lambda
  assert (c.pix2pix.l1_weight, c.pix2pix.gan_weight) == (100.0, 1.0)
  np.testing.assert_allclose(float(m["g/loss"]), adversarial + 100.0 * l1, rtol=1e-4)
  np.testing.assert_allclose(float(m["d/loss"]), 0.5 * float(m["d/adversarial"]), rtol=1e-6)  # Sec. 3.3: D's / 2
  assert not np.allclose(other, logits)  # D is conditional on the input
  # dropout stays on at test time: two noise draws, two translations
  translate = jax.jit(pix2pix.translate)
  assert not np.allclose(np.asarray(translate(new, x, jax.random.key(1))), np.asarray(translate(new, x, jax.random.key(2))))

