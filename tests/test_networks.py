import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import networks
from ganjax.errors import ConfigError


def jit_init(module, key, x):
  """module.init(key, x, train=False) as one jitted program (op by op: one compile per operation)."""
  return jax.jit(lambda k, x: module.init(k, x, train=False))(key, x)


@pytest.mark.parametrize("name,kw", [("mlp", {"hidden": (8,)}), ("dcgan", {"width": 4})])
@pytest.mark.parametrize("shape", [(8, 8, 1), (32, 32, 3)])
def test_generators_discriminators_encoders_shapes(name, kw, shape):
  z = jnp.zeros((3, 5))
  g = networks.generator(name, out_shape=shape, **kw)
  d = networks.discriminator(name, **kw)
  e = networks.encoder(name, latent_dim=5, **kw)

  @jax.jit  # one program: op-by-op dispatch would compile every primitive on its own
  def run(z):
    x = g.apply(g.init(jax.random.key(0), z, train=False), z, train=False)
    dv = d.init(jax.random.key(1), x, train=False)
    inter = d.apply(dv, x, train=False, mutable=["intermediates"])[1]["intermediates"]["features"][0]
    return x, d.apply(dv, x, train=False), inter, e.apply(e.init(jax.random.key(2), x, train=False), x, train=False)

  x, logits, inter, (mean, logvar) = run(z)
  assert x.shape == (3, *shape) and float(jnp.abs(x).max()) <= 1.0
  assert logits.shape == (3,) and inter.shape[0] == 3
  assert mean.shape == logvar.shape == (3, 5)


def test_dcgan_follows_radford_et_al():
  g = networks.generator("dcgan", out_shape=(32, 32, 1), width=8)
  z = jnp.zeros((2, 10))
  v = jit_init(g, jax.random.key(0), z)
  assert "batch_stats" in v  # batch norm in G
  kinds = jax.tree_util.tree_map_with_path(lambda p, x: p, v["params"])
  names = {p[0].key for p in jax.tree.leaves(kinds, is_leaf=lambda x: isinstance(x, tuple))}
  assert sum(n.startswith("ConvTranspose") for n in names) == 3  # 4 -> 8 -> 16 -> 32
  stds = [float(np.std(x)) for x in jax.tree.leaves(v["params"]) if x.ndim == 4]
  assert all(0.01 < s < 0.03 for s in stds)  # N(0, 0.02) init
  d = networks.discriminator("dcgan", width=8)
  dv = jax.eval_shape(lambda x: d.init(jax.random.key(1), x, train=False), jnp.zeros((2, 32, 32, 1)))
  bn = [k for k in dv["params"]["_ConvTrunk_0"] if k.startswith("BatchNorm")]
  assert len(bn) == 2  # every conv layer but the input one
  no_bn = networks.discriminator("dcgan", width=8, batch_norm=False)
  assert "batch_stats" not in jax.eval_shape(lambda x: no_bn.init(jax.random.key(1), x, train=False),
                                             jnp.zeros((2, 32, 32, 1)))
  with pytest.raises(ValueError, match="power-of-two"):
    jax.eval_shape(lambda z: networks.generator("dcgan", out_shape=(28, 28, 1)).init(jax.random.key(0), z, train=False), z)


def test_unknown_network_lists_the_valid_ones():
  with pytest.raises(ConfigError, match="unknown discriminator 'vgg'; valid: dcgan, infogan, mlp"):
    networks.discriminator("vgg")


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("shape,features", [((2, 4, 4, 8), 6), ((3, 6, 10, 2), 1), ((2, 5, 7, 3), 4),
                                            ((2, 12, 10, 17), 18)])
def test_subpixel_convs_equal_flax_values_and_gradients(transpose, shape, features):
  """The sub-pixel layers and their hand-written gradients against flax's own layers (XLA's
  convolutions and autodiff): values, gradients for the input, kernel and bias, and the gradients of
  the input gradient's squared norm (second derivatives, as in a gradient penalty). Odd sizes:
  the transposed conv keeps the sub-pixel path, the strided conv falls back to XLA's. The last shape
  takes the sub-pixel upsample (more than 16 input pixels and output channels) in both layers, the
  others its GEMM + overlap-add form."""
  from flax import linen as nn

  from ganjax.networks.layers import Conv, ConvTranspose

  x = jax.random.normal(jax.random.key(0), shape)
  if transpose:
    reference, ours = nn.ConvTranspose(features, (4, 4), (2, 2), padding="SAME"), ConvTranspose(features, impl="subpixel")
  else:
    reference, ours = nn.Conv(features, (4, 4), (2, 2), padding="SAME"), Conv(features, impl="subpixel")
  v = reference.init(jax.random.key(1), x)
  v = jax.tree.map(lambda p: p + 0.1 * jax.random.normal(jax.random.key(2), p.shape), v)  # non-zero bias
  assert jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape, v)
  ref_out = jax.jit(reference.apply)(v, x)
  np.testing.assert_allclose(jax.jit(ours.apply)(v, x), ref_out, rtol=1e-5, atol=1e-5)

  def loss(module):
    return lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)))

  g_ref = jax.jit(jax.grad(loss(reference), argnums=(0, 1)))(v, x)
  g_ours = jax.jit(jax.grad(loss(ours), argnums=(0, 1)))(v, x)
  for a, b in zip(jax.tree.leaves(g_ref), jax.tree.leaves(g_ours), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  # second derivatives (gradient penalties differentiate the input gradient again)
  def penalty(module):
    return lambda v, x: jnp.sum(jax.grad(loss(module), argnums=1)(v, x)**2)

  h_ref = jax.jit(jax.grad(penalty(reference), argnums=(0, 1)))(v, x)
  h_ours = jax.jit(jax.grad(penalty(ours), argnums=(0, 1)))(v, x)
  for a, b in zip(jax.tree.leaves(h_ref), jax.tree.leaves(h_ours), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  xla = (ConvTranspose if transpose else Conv)(features, impl="xla")
  np.testing.assert_allclose(jax.jit(xla.apply)(v, x), ref_out, rtol=1e-6, atol=1e-6)
  # bfloat16 computation runs through the same path (parameters stay float32)
  low = (ConvTranspose if transpose else Conv)(features, impl="subpixel", dtype=jnp.bfloat16)
  g_low = jax.jit(jax.grad(loss(low)))(v, x)
  assert jax.tree.map(lambda p: p.dtype, g_low) == jax.tree.map(lambda p: p.dtype, v)
  np.testing.assert_allclose(jax.jit(low.apply)(v, x).astype(jnp.float32), ref_out, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("shape,features", [((2, 4, 4, 8), 6), ((2, 5, 7, 3), 20), ((1, 1, 1, 2), 3)])
def test_upsample_forms_equal_conv_transpose(shape, features):
  """Both forms of the 4x4 stride-2 upsample (sub-pixel convolution; GEMM + overlap-add) equal XLA's
  transposed convolution, whichever one `upsample_4x4_s2` picks for the shape."""
  from ganjax.networks import layers

  x = jax.random.normal(jax.random.key(0), shape)
  k = jax.random.normal(jax.random.key(1), (4, 4, shape[-1], features))
  ref = jax.lax.conv_transpose(x, k, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  for form in (layers._upsample_subpixel, layers._upsample_gemm, layers.upsample_4x4_s2):
    np.testing.assert_allclose(form(x, k), ref, rtol=1e-5, atol=1e-5)


def test_conv_impl_auto_is_subpixel_only_on_cpu():
  from ganjax.networks import layers

  assert layers.use_subpixel("auto") == (jax.default_backend() == "cpu")
  assert layers.use_subpixel("subpixel") and not layers.use_subpixel("xla")
  with pytest.raises(ValueError, match="auto | xla | subpixel"):
    layers.use_subpixel("fast")


def test_minibatch_discrimination_is_salimans_l1_kernel():
  from ganjax.networks.layers import MinibatchDiscrimination

  layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
  f = jax.random.normal(jax.random.key(0), (5, 4))
  v = layer.init(jax.random.key(1), f)
  out = layer.apply(v, f)
  assert out.shape == (5, 4 + 3)
  np.testing.assert_allclose(out[:, :4], f)
  m = np.asarray(f @ v["params"]["T"]).reshape(5, 3, 2)
  expected = np.exp(-np.abs(m[:, None] - m[None]).sum(-1)).sum(1)
  np.testing.assert_allclose(out[:, 4:], expected, rtol=1e-5)
  same = layer.apply(v, jnp.repeat(f[:1], 5, 0))
  np.testing.assert_allclose(same[:, 4:], 5.0, rtol=1e-6)  # identical samples: every kernel sums to n


@pytest.mark.parametrize("name,kw", [("mlp", {"hidden": (8,)}), ("dcgan", {"width": 4}), ("resnet", {"width": 4})])
def test_minibatch_discrimination_makes_d_see_the_whole_batch(name, kw):
  x = jax.random.normal(jax.random.key(0), (4, 8, 8, 1))
  for features, coupled in (((), False), ((3, 2), True)):
    d = networks.discriminator(name, minibatch_features=features, **kw)
    v = d.init(jax.random.key(1), x, train=False)
    other = x.at[1:].set(jax.random.normal(jax.random.key(2), (3, 8, 8, 1)))
    changed = not np.allclose(d.apply(v, x, train=False)[0], d.apply(v, other, train=False)[0])
    assert changed == coupled  # D(x_0) depends on the other samples only with the layer


@pytest.mark.parametrize("name,kw", [("mlp", {"hidden": (8,)}), ("dcgan", {"width": 4}), ("resnet", {"width": 4}),
                                     ("infogan", {"width": 4, "fc_width": 16})])
def test_spectral_norm_divides_every_d_weight_by_its_top_singular_value(name, kw):
  from ganjax.networks.layers import commit_power_iteration

  x = jax.random.normal(jax.random.key(0), (4, 8, 8, 1))
  d = networks.discriminator(name, spectral_norm=True, **kw)
  v = jax.jit(d.init, static_argnames="train")(jax.random.key(1), x, train=False)
  model_state = {k: c for k, c in v.items() if k != "params"}

  @jax.jit
  def iterate(model_state):  # one power iteration per update (training call, then commit)
    _, new = d.apply({"params": v["params"], **model_state}, x, train=True, mutable=list(model_state))
    return commit_power_iteration(dict(new))

  for _ in range(60):
    model_state = iterate(model_state)
  stats = model_state["spectral"]
  flat_stats = jax.tree_util.tree_flatten_with_path(stats)[0]
  sigmas = {jax.tree_util.keystr(p): float(s) for p, s in flat_stats if "sigma" in jax.tree_util.keystr(p)}
  kernels = [k for k in jax.tree.leaves(v["params"]) if k.ndim >= 2]
  assert len(sigmas) == len(kernels) >= 2
  true = sorted(float(np.linalg.svd(np.asarray(k).reshape(-1, k.shape[-1]), compute_uv=False)[0]) for k in kernels)
  np.testing.assert_allclose(sorted(sigmas.values()), true, rtol=1e-3)
  plain = networks.discriminator(name, **kw)
  pv = jax.jit(plain.init, static_argnames="train")(jax.random.key(1), x, train=False)
  assert not np.allclose(jax.jit(d.apply, static_argnames="train")({"params": v["params"], **model_state}, x, train=False),
                         jax.jit(plain.apply, static_argnames="train")(pv, x, train=False))  # the normalised weights change D


@pytest.mark.parametrize("layer", ["dense", "conv"])
def test_spectral_norm_layer_computes_with_w_over_sigma(layer):
  """Miyato et al. 2018, Eq. 8 and Algorithm 1: the layer computes with W / sigma(W), W reshaped to (in, out),
  sigma from one power iteration on the stored u, written here in numpy: v = u W^T / ||u W^T||,
  u' = v W / ||v W||, sigma = v W u'^T (a training call and an inference call of one update alike). With u
  the top right singular vector of an SVD, sigma is W's largest singular value."""
  from flax import linen as nn

  from ganjax.networks.layers import SpectralNorm

  rng = np.random.default_rng(0)
  base = nn.Dense(5) if layer == "dense" else nn.Conv(3, (3, 3))
  x = jnp.asarray(rng.normal(size=(4, 6) if layer == "dense" else (2, 5, 5, 2)), jnp.float32)
  sn = SpectralNorm(base)
  variables = sn.init(jax.random.key(0), x, update_stats=False)
  params = variables["params"]["layer_instance"]
  kernel = np.asarray(params["kernel"], np.float64)
  w = kernel.reshape((-1, kernel.shape[-1]))

  def one_power_iteration(u):
    v = u @ w.T
    v = v / np.linalg.norm(v)
    u_next = v @ w
    u_next = u_next / np.linalg.norm(u_next)
    return float((v @ w @ u_next.T)[0, 0])

  def with_kernel(k):  # the plain layer's output with kernel k: x k + b (the conv: flax's own convolution)
    if layer == "dense":
      return np.asarray(x, np.float64) @ k + np.asarray(params["bias"], np.float64)
    return base.apply({"params": {**params, "kernel": jnp.asarray(k, jnp.float32)}}, x)

  top = np.linalg.svd(w, compute_uv=True)
  for u in (np.asarray(variables["spectral"]["layer_instance/kernel/u"], np.float64), top[2][:1]):
    sigma = one_power_iteration(u)
    spectral = {**variables["spectral"], "layer_instance/kernel/u": jnp.asarray(u, jnp.float32)}
    state = {"params": variables["params"], "spectral": spectral}
    want = with_kernel(kernel / sigma)
    np.testing.assert_allclose(sn.apply(state, x, update_stats=False), want, rtol=1e-4, atol=1e-5)
    trained = sn.apply(state, x, update_stats=True, mutable=["spectral"])[0]
    np.testing.assert_allclose(trained, want, rtol=1e-4, atol=1e-5)
    assert sigma <= top[1][0] * (1 + 1e-6)  # one iteration from any u bounds sigma_max from below ...
  np.testing.assert_allclose(sigma, top[1][0], rtol=1e-6)  # ... and from the top singular vector is sigma_max


def test_minibatch_discrimination_in_groups_is_the_layer_on_each_group():
  from ganjax.networks.layers import MinibatchDiscrimination

  f = jnp.asarray(np.random.default_rng(0).normal(size=(12, 5)), jnp.float32)
  whole = MinibatchDiscrimination(3, 2)
  grouped = MinibatchDiscrimination(3, 2, group_size=4)
  params = whole.init(jax.random.key(0), f)
  out = grouped.apply(params, f)
  for i in range(3):  # each group of 4 sees only itself
    np.testing.assert_allclose(out[4 * i:4 * i + 4], whole.apply(params, f[4 * i:4 * i + 4]), rtol=1e-6)
  assert not np.allclose(out, whole.apply(params, f))


@pytest.mark.parametrize("size,blocks", [(8, 1), (32, 3)])
def test_resnet_players_are_residual_and_scale_with_the_image(size, blocks):
  from ganjax.networks import resnet

  z = jax.random.normal(jax.random.key(0), (3, 5))
  g = networks.generator("resnet", out_shape=(size, size, 3), width=4)
  gv = jax.jit(g.init, static_argnames="train")(jax.random.key(0), z, train=False)
  x = jax.jit(g.apply, static_argnames="train")(gv, z, train=False)
  assert x.shape == (3, size, size, 3) and float(jnp.abs(x).max()) <= 1.0
  assert sum(k.startswith("UpBlock") for k in gv["params"]) == blocks
  d = networks.discriminator("resnet", width=4)
  dv = jax.jit(d.init, static_argnames="train")(jax.random.key(1), x, train=False)
  assert jax.eval_shape(lambda x: d.apply(dv, x, train=False), x).shape == (3,) and "batch_stats" not in dv
  assert sum(k.startswith("DownBlock") for k in dv["params"]) == blocks
  # a block is h(x) + shortcut(x): with the residual branch's last conv zeroed, only the shortcut remains
  block = resnet.DownBlock(8, first=False)
  h = jax.random.normal(jax.random.key(2), (2, 8, 8, 4))
  bv = jax.jit(block.init)(jax.random.key(3), h)
  zeroed = jax.tree_util.tree_map_with_path(
      lambda p, v: jnp.zeros_like(v) if "Conv_1" in jax.tree_util.keystr(p) else v, bv)
  shortcut = nn_avg_pool(jax.lax.conv_general_dilated(h, bv["params"]["Conv_2"]["kernel"], (1, 1), "SAME",
                                                      dimension_numbers=("NHWC", "HWIO", "NHWC"))
                         + bv["params"]["Conv_2"]["bias"])
  np.testing.assert_allclose(jax.jit(block.apply)(zeroed, h), shortcut, rtol=1e-5, atol=1e-5)


def nn_avg_pool(x):
  return x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2] // 2, 2, x.shape[3]).mean(axis=(2, 4))


def test_infogan_networks_take_the_authors_initialisation_and_slope():
  """weight_init="normal" is openai/InfoGAN's custom_ops: kernels N(0, 0.02^2), zero biases, batch-norm
  scales N(1, 0.02^2); "lecun" keeps Flax's defaults; "torch" PyTorch's; `leak` is the leaky ReLUs' slope."""
  x = jax.random.normal(jax.random.key(0), (64, 8, 8, 1))
  d_normal = networks.discriminator("infogan", width=16, fc_width=256, weight_init="normal", leak=0.01)
  v = jit_init(d_normal, jax.random.key(1), x)["params"]
  for path, leaf in jax.tree_util.tree_flatten_with_path(v)[0]:
    name, leaf = jax.tree_util.keystr(path), np.asarray(leaf)
    if "kernel" in name and leaf.size >= 1000:
      assert 0.018 < leaf.std() < 0.022 and abs(leaf.mean()) < 0.002, name
    elif "bias" in name:
      assert not leaf.any(), name
    elif "scale" in name:
      assert 0.9 < leaf.min() and leaf.max() < 1.1 and 0.01 < leaf.std() < 0.03, name
  d_lecun = networks.discriminator("infogan", width=16, fc_width=256)
  kernel = np.asarray(jit_init(d_lecun, jax.random.key(1), x)["params"]["Dense_0"]["kernel"])
  assert abs(kernel.std() * np.sqrt(kernel.shape[0]) - 1.0) < 0.05  # variance 1/fan_in
  # D's FC features are leaky_relu(batch norm(...)) with unit-scale batch norm in training: their
  # negative part is about -slope * 3 at the smallest
  for leak, lo, hi in ((0.01, -0.06, -0.01), (0.1, -0.6, -0.15)):
    d = networks.discriminator("infogan", width=16, fc_width=256, leak=leak)
    _, inter = jax.jit(lambda v, x: d.apply(v, x, train=True, mutable=["batch_stats", "intermediates"]))(
        jit_init(d, jax.random.key(1), x), x)
    smallest = float(np.min(inter["intermediates"]["features"][0]))
    assert lo < smallest < hi, (leak, smallest)
  # "torch": PyTorch's defaults, U(+-1/sqrt(fan)) kernels and biases (a transposed convolution's fan
  # is out_channels * 16, as torch computes it)
  g = networks.generator("infogan", out_shape=(8, 8, 1), width=16, fc_width=256, weight_init="torch")
  gv = jit_init(g, jax.random.key(2), jnp.zeros((2, 12)))["params"]
  dv = jit_init(networks.discriminator("infogan", width=16, fc_width=256, weight_init="torch"),
              jax.random.key(1), x)["params"]
  for leaf, fan in ((gv["Dense_0"]["kernel"], 12), (gv["Dense_0"]["bias"], 12), (gv["ConvTranspose_1"]["kernel"], 1 * 16),
                    (gv["ConvTranspose_0"]["bias"], 16 * 16), (dv["Conv_0"]["kernel"], 1 * 16),
                    (dv["Dense_0"]["kernel"], 32 * 2 * 2), (dv["Dense_0"]["bias"], 32 * 2 * 2), (dv["Dense_1"]["kernel"], 256)):
    bound, leaf = 1.0 / np.sqrt(fan), np.asarray(leaf)
    assert np.abs(leaf).max() <= bound and np.abs(leaf).max() > 0.8 * bound, (fan, np.abs(leaf).max(), bound)
  with pytest.raises(ValueError, match="unknown weight_init 'xavier'"):
    networks.discriminator("infogan", width=4, weight_init="xavier").init(jax.random.key(0), x[:2], train=False)


def test_infogan_unit_pixels_are_the_authors_sigmoid_and_zero_background():
  """pixel_range="unit" (openai/InfoGAN: [0, 1] images, G's MeanBernoulli sigmoid): G returns
  2 sigmoid(a) - 1 where the signed G returns tanh(a), same parameters; D reads (x + 1) / 2, so a
  [-1, 1] background is 0 inside it, like the zero padding."""
  import ml_collections

  from ganjax.algorithms import common

  z = jax.random.normal(jax.random.key(0), (4, 12))
  kw = dict(out_shape=(8, 8, 1), width=8, fc_width=32)
  signed, unit = networks.generator("infogan", **kw), networks.generator("infogan", unit_pixels=True, **kw)
  apply = lambda m, v, x: jax.jit(lambda v, x: m.apply(v, x, train=False))(v, x)  # noqa: E731  (one program each)
  v = jit_init(signed, jax.random.key(1), z)
  a = np.arctanh(np.clip(np.asarray(apply(signed, v, z), np.float64), -1 + 1e-7, 1 - 1e-7))  # G's last pre-activation
  np.testing.assert_allclose(apply(unit, v, z), 2 / (1 + np.exp(-a)) - 1, atol=1e-5)
  x = jax.random.uniform(jax.random.key(2), (4, 8, 8, 1), minval=-1, maxval=1)
  d_signed = networks.discriminator("infogan", width=8, fc_width=32)
  d_unit = networks.discriminator("infogan", width=8, fc_width=32, unit_pixels=True)
  dv = jit_init(d_signed, jax.random.key(3), x)
  np.testing.assert_allclose(apply(d_unit, dv, x), apply(d_signed, dv, (x + 1) / 2), rtol=1e-6)
  c = ml_collections.ConfigDict({"weight_init": "normal", "pixel_range": "unit", "leak": 0.1})
  assert common.infogan_network_options(c, pixels=True)["unit_pixels"] is True
  assert "unit_pixels" not in common.infogan_network_options(c)  # Q's head reads D's features, not pixels
  c.pixel_range = "bytes"
  with pytest.raises(ConfigError, match="unknown model.pixel_range 'bytes'; valid: signed, unit"):
    common.infogan_network_options(c, pixels=True)
