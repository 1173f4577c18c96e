"""pix2pix (Isola et al. 2017) against the paper's definitions and the authors' released code: the
PatchGAN's receptive fields and padding, the U-Net's skip wiring, Eq. 4's generator objective from
the networks' outputs, D's halved objective, dropout as the test-time noise and per-image test
statistics, --mode=translate's input conversion; and the other image-to-image methods' objectives
(CycleGAN, DiscoGAN, SRGAN, CartoonGAN)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax import train
from ganjax.algorithms import pix2pix
from ganjax.errors import ConfigError
from ganjax.networks.patchgan import PatchGAN, receptive_field
from ganjax.run import Run


def loop_step(c, workdir):
  """(Run, step): the loop's own compiled step for config `c` (the tiny 4-step config the all-configs
  test trains, so that the session's XLA cache compiles it once for both; one program per phase of a
  method with phases) as step(state, batch) -> (a copy of state, new state, metrics); the state
  passed in is donated, the copy is not."""
  from ganjax import xla

  run = Run(c, workdir)
  fns = {}

  def step(state, batch):
    state = jax.device_put(state, run.state_sharding)  # as the loop's (an uncommitted step array: another program)
    phase = train.phase_of(run.method, c, int(state.step))
    if phase not in fns:
      fns[phase] = train.make_step_fn(run.method, run.mesh, run.state_sharding, xla.compiler_options(c), phase)
    before = jax.tree.map(jnp.copy, state)
    new, metrics = fns[phase](state, batch, run.step_key)
    return before, new, metrics

  return run, step


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
  assert rows.max() - rows.min() + 1 == size and cols.max() - cols.min() + 1 == size


def test_patchgan_pads_1_as_the_released_nlayer_discriminator():
  """The authors' NLayerDiscriminator pads every 4x4 convolution by 1: at 256 x 256 the 70 x 70
  PatchGAN's logit map is 30 x 30 (PyTorch's size formula (s + 2 - 4) / stride + 1 per layer, written
  out here), and an interior logit sees exactly a 70 x 70 window; an image too small for it is one line."""
  from ganjax.errors import DataError

  size = 256
  for stride in (2, 2, 2, 1, 1):
    size = (size + 2 * 1 - 4) // stride + 1
  assert size == 30
  d = PatchGAN(width=2, layers=3)
  x = jax.random.normal(jax.random.key(1), (1, 256, 256, 1))
  v = d.init(jax.random.key(0), x, train=False)
  assert jax.eval_shape(lambda x: d.apply(v, x, train=False), x).shape == (1, 30, 30, 1)
  grad = jax.jit(jax.grad(lambda x: d.apply(v, x, train=False)[0, 15, 15, 0]))(x)
  rows, cols = np.nonzero(np.abs(np.asarray(grad[0, :, :, 0])) > 0)
  first = 15
  for stride in (1, 1, 2, 2, 2):  # back through the layers: input index = output index * stride - padding
    first = first * stride - 1
  assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (first, first + 70, first, first + 70)
  with pytest.raises(DataError, match="needs images of at least 24 px, got 16 x 16"):
    d.init(jax.random.key(0), jnp.zeros((1, 16, 16, 1)), train=False)


def test_non_square_images_through_the_translation_networks():
  """Non-square images (Cityscapes' 256 x 512) keep their shape through the U-Net (levels down to the
  shorter side: 8 x 16 ends at 1 x 2), the ResNet-block generator and the PatchGAN; a U-Net input it
  cannot halve to 1 pixel is one clear line."""
  from ganjax.errors import DataError
  from ganjax.networks.resnet_generator import ResnetGenerator
  from ganjax.networks.unet import UNet, levels

  assert (levels(8, 16), levels(256, 512), levels(32, 32)) == (3, 8, 5)
  x = jnp.ones((1, 8, 16, 3))
  for net, out in ((UNet(1, width=2), (1, 8, 16, 1)), (ResnetGenerator(2, width=2, blocks=1), (1, 8, 16, 2)),
                   (PatchGAN(width=2, layers=1), (1, 2, 6, 1))):
    assert jax.eval_shape(lambda x: net.init_with_output(jax.random.key(0), x, train=False)[0], x).shape == out
  with pytest.raises(DataError, match="shorter side is a power of two"):
    levels(16, 24)


def test_unet_decoder_convolutions_take_relu_of_the_skip_concatenation():
  """The authors' UnetSkipConnectionBlock: a block returns torch.cat([x, model(x)]) and the next
  block's up-convolution is applied to uprelu (ReLU) of it, so each decoder convolution's input is
  ReLU([encoder output before its LeakyReLU, decoder output]) and each encoder convolution's input is
  LeakyReLU(0.2) of the previous encoder output. Recomputed for a 3-level U-Net from its layers'
  captured outputs, each convolution written out with lax (4x4, stride 2, padded 1 / SAME)."""
  from ganjax.networks.unet import UNet

  net = UNet(1, width=2, dropout_layers=0)
  x = jax.random.normal(jax.random.key(0), (2, 8, 8, 1))
  v = jax.jit(net.init)(jax.random.key(1), x)  # jitted: one program, not one per operation
  _, st = jax.jit(lambda v, x: net.apply(v, x, train=True, capture_intermediates=True,
                                         mutable=["intermediates", "batch_stats"]))(v, x)
  out = {k: np.asarray(t["__call__"][0], np.float64) for k, t in st["intermediates"].items() if k != "__call__"}
  p = v["params"]
  dn = ("NHWC", "HWIO", "NHWC")

  def conv(name, h):
    h = jnp.asarray(h, jnp.float32)
    return np.asarray(jax.lax.conv_general_dilated(h, p[name]["kernel"], (2, 2), ((1, 1), (1, 1)), dimension_numbers=dn)
                      + p[name]["bias"])

  def up(name, h):
    return np.asarray(jax.lax.conv_transpose(jnp.asarray(h, jnp.float32), p[name]["kernel"], (2, 2), "SAME",
                                             dimension_numbers=dn) + p[name]["bias"])

  leaky, relu = (lambda h: np.where(h > 0, h, 0.2 * h)), (lambda h: np.maximum(h, 0.0))  # noqa: E731
  skip1 = out["BatchNorm_0"]  # down1 after its batch norm, before any activation
  assert (skip1 < 0).any()  # (where ReLU and LeakyReLU differ)
  np.testing.assert_allclose(out["down1"], conv("down1", leaky(out["down0"])), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(out["down2"], conv("down2", leaky(skip1)), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(out["up0"], up("up0", relu(out["down2"])), rtol=1e-4, atol=1e-5)
  expected = relu(np.concatenate([skip1, out["BatchNorm_1"]], -1))  # [skip, decoder]: the skip first
  np.testing.assert_allclose(out["up1"], up("up1", expected), rtol=1e-4, atol=1e-5)
  expected = relu(np.concatenate([out["down0"], out["BatchNorm_2"]], -1))
  np.testing.assert_allclose(out["out"], up("out", expected), rtol=1e-4, atol=1e-5)


def tiny_config(config_of, name, *arg):
  """The tiny config of an image-to-image method, with the 16 x 16 PatchGAN where it has one (the
  70 x 70 one needs images of at least 24 px; the tiny images are 8 px)."""
  c = config_of(name, *arg)
  block = name.split(".")[0]
  if "patch_layers" in c.get(block, {}):
    c[block].patch_layers = 1
  return c


@pytest.mark.config("pix2pix.py")
def test_generator_objective_is_eq_4_and_d_objective_is_halved(config_of, tmp_path):
  c = tiny_config(config_of, "pix2pix.py")
  run, step = loop_step(c, tmp_path)
  batch, key = run.next_batch(), jax.random.fold_in(run.step_key, 0)  # the loop's key of step 0
  start, new, m = step(run.state, batch)
  g, d = start.g, new.d
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


def test_unet_dropout_sits_where_the_paper_or_the_released_generator_puts_it():
  """Paper (App. 6.1.1): dropout in the first 3 decoder layers, the innermost included. Released
  `UnetGenerator(num_downs)`: the innermost block has none, then `for i in range(num_downs - 5)`
  blocks of ngf*8 with `use_dropout`, then the ngf*4, ngf*2, ngf and outermost blocks without. At
  64 x 64 (num_downs = 6) that is decoder layer 1 alone. Found from outside: the number of dropout
  layers, and the first decoder convolution whose output changes with the dropout key (the one after
  the first dropped layer)."""
  from ganjax.networks.unet import UNet

  x = jax.random.normal(jax.random.key(0), (1, 64, 64, 1))
  num_downs = 6
  released = [j for j in range(num_downs - 1) if 1 <= j < 1 + (num_downs - 5)]  # the ngf*8 blocks' layers
  for placement, dropped in (("paper", [0, 1, 2]), ("released", released)):
    net = UNet(1, width=2, dropout_placement=placement)
    v = jax.jit(net.init)({"params": jax.random.key(1), "dropout": jax.random.key(2)}, x)
    apply = jax.jit(lambda v, x, key: net.apply(v, x, train=True, capture_intermediates=True,
                                                mutable=["intermediates", "batch_stats"], rngs={"dropout": key})[1])

    def ups(seed):
      inter = apply(v, x, jax.random.key(seed))["intermediates"]
      return inter, [np.asarray(inter[f"up{j}"]["__call__"][0]) for j in range(num_downs - 1)]

    inter, a = ups(3)
    _, b = ups(4)
    assert sum(k.startswith("Dropout") for k in inter) == len(dropped), placement
    changed = [j for j in range(num_downs - 1) if not np.allclose(a[j], b[j])]
    assert changed[0] == dropped[0] + 1, (placement, changed)
  assert released == [1]
  with pytest.raises(ConfigError, match="dropout_placement"):
    UNet(1, width=2, dropout_placement="torch").init(jax.random.key(1), x[:, :8, :8])


def test_pix2pix_translates_each_image_on_its_own_statistics(config_of):
  """The authors test with batches of one image (batch norm on that image's statistics, dropout on):
  an image translated alone equals the same image translated first in a batch of other images (the
  same noise), whatever the others are; without dropout, at any position."""
  c = tiny_config(config_of, "pix2pix.py")
  images = jax.random.uniform(jax.random.key(0), (6, 8, 8, 1), minval=-1, maxval=1)
  translate = jax.jit(pix2pix.translate)
  key = jax.random.key(3)
  for dropout_layers in (3, 0):
    c.pix2pix.dropout_layers = dropout_layers
    state = pix2pix.init(c, jax.random.key(1), {"a": images[:2], "b": images[:2]})
    alone = np.asarray(translate(state, images[:1], key))[0]
    for batch in (images[:4], jnp.concatenate([images[:1], images[4:]])):
      np.testing.assert_allclose(np.asarray(translate(state, batch, key))[0], alone, rtol=1e-5, atol=1e-6)
  fourth = np.asarray(translate(state, images[3:4], key))[0]
  np.testing.assert_allclose(np.asarray(translate(state, images, key))[3], fourth, rtol=1e-5, atol=1e-6)


def test_translate_mode_converts_inputs_as_the_released_loader_and_says_so(tmp_path, monkeypatch, capsys):
  """--mode=translate for a model of 8 x 8 grey images, given 5 x 5 colour ones: each is read as the
  authors' test loader reads it (PIL: convert('RGB'), torchvision's Grayscale = convert('L'),
  Resize = bicubic), here with an identity model so that the written PNGs are the model's inputs, and
  one line says how many were converted from what."""
  from types import SimpleNamespace

  from PIL import Image

  from ganjax import sampling

  (tmp_path / "in").mkdir()
  rng = np.random.default_rng(0)
  colour = [rng.integers(0, 256, (5, 5, 3), dtype=np.uint8) for _ in range(3)]
  for i, arr in enumerate(colour):
    Image.fromarray(arr).save(tmp_path / "in" / f"{i}.png")
  Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / "in" / "3.png")  # already the model's
  run = SimpleNamespace(config=SimpleNamespace(eval=SimpleNamespace(batch_size=2)), base_key=jax.random.key(0),
                        state=None, checkpoints=SimpleNamespace(close=lambda: None))
  monkeypatch.setattr(sampling, "trained_translator", lambda config, workdir, direction: (run, lambda s, x, k: x, "a"))
  spec = SimpleNamespace(train=SimpleNamespace(element_spec={"a": ((8, 8, 1), np.float32)}))
  monkeypatch.setattr(sampling, "domain_split", lambda run, side: (spec, "a"))
  paths = sampling.translate_files(None, tmp_path, str(tmp_path / "in"), str(tmp_path / "out"))
  assert capsys.readouterr().out.strip().splitlines() == [
      "translate: converted 3 of 4 images to the model's 8 x 8 grey input (RGB, then luma, bicubic resize): "
      "3 from 5 x 5 RGB"]
  for path, arr in zip(paths, colour):
    expected = np.asarray(Image.fromarray(arr).convert("RGB").convert("L").resize((8, 8), Image.BICUBIC))
    np.testing.assert_array_equal(np.asarray(Image.open(path)), expected)



@pytest.mark.config("cyclegan.py")
def test_cyclegan_objective_is_eq_3_with_identity_loss_and_halved_lsgan_d(config_of, tmp_path):
  """Zhu et al. 2017, Eq. 1-3 and Sec. 5.2, recomputed from the four players' outputs:
  (D_B(G(a)) - 1)^2 + (D_A(F(b)) - 1)^2 + 10 (|F(G(a)) - a| + |G(F(b)) - b|) + 5 (|G(b) - b| + |F(a) - a|);
  each D: ((D(real) - 1)^2 + D(fake)^2) / 2 on its fakes, which the image history serves fresh while
  it fills (the first step: all of them); the step reads A from stream a and B from stream b."""
  c = tiny_config(config_of, "cyclegan.py")
  run, step = loop_step(c, tmp_path)
  batch = run.next_batch()
  s, new, m = step(run.state, batch)
  a, b = np.asarray(batch["a"]["a"]), np.asarray(batch["b"]["b"])
  run_ = lambda p, x: np.asarray(p.apply(p.params, x)[0], np.float64)  # noqa: E731
  fake_b, fake_a = run_(s.g, a), run_(s.f, b)
  l1 = lambda x, y: np.mean(np.abs(x - y))  # noqa: E731
  adversarial = np.mean((run_(s.d_b, fake_b) - 1) ** 2) + np.mean((run_(s.d_a, fake_a) - 1) ** 2)
  cycle = l1(run_(s.f, fake_b.astype(np.float32)), a) + l1(run_(s.g, fake_a.astype(np.float32)), b)
  identity = l1(run_(s.g, b), b) + l1(run_(s.f, a), a)
  assert (c.cyclegan.cycle_weight, c.cyclegan.identity_weight) == (10.0, 0.5)
  np.testing.assert_allclose(float(m["g/cycle"]), cycle, rtol=1e-5)
  np.testing.assert_allclose(float(m["g/loss"]), adversarial + 10 * cycle + 5 * identity, rtol=1e-4)
  assert c.gan.replay_size > len(b) and int(s.extra["replay_filled"]) == 0  # an empty history
  seen = fake_b.astype(np.float32)  # the pre-update G(a), served fresh: the history is filling
  d_b = 0.5 * (np.mean((run_(s.d_b, b) - 1) ** 2) + np.mean(run_(s.d_b, seen) ** 2))
  np.testing.assert_allclose(float(m["d_b/loss"]), d_b, rtol=1e-4)
  assert not np.allclose(np.asarray(batch["a"]["b"]), b)  # the streams are shuffled apart: unpaired
  run.checkpoints.close()


def test_lr_decay_is_constant_then_linear_to_zero():
  """CycleGAN's schedule: lr for the first half of the run, then linearly to 0 at num_steps."""
  import optax

  from ganjax import base_config, state

  cfg = base_config.adam(1.0)
  cfg.lr_decay_start = 0.5
  tx = state.optimizer(cfg, num_steps=8)
  opt = tx.init({"w": np.zeros(())})
  steps = []
  for _ in range(8):  # sgd-like probe: Adam's first update of a constant gradient is lr * sign(g)
    updates, opt = tx.update({"w": np.ones(())}, opt)
    steps.append(-float(updates["w"]))
  np.testing.assert_allclose(steps, [1, 1, 1, 1, 1, 0.75, 0.5, 0.25], rtol=1e-4)
  assert isinstance(state.optimizer(base_config.adam(1.0)), optax.GradientTransformation)


def test_weight_decay_adds_w_theta_to_the_gradient_of_weights_only():
  """optim.weight_decay (BiGAN's L2, coupled with the optimizer): the gradient the optimizer sees is
  g + w * theta for kernels, g for biases; with plain SGD the update is -lr (g + w theta)."""
  from ganjax import base_config, state
  from ganjax.errors import ConfigError

  cfg = base_config.adam(0.1)
  cfg.name, cfg.weight_decay = "sgd", 0.5
  params = {"kernel": np.full((2, 3), 2.0), "bias": np.full((3,), 2.0)}
  grads = {"kernel": np.ones((2, 3)), "bias": np.ones((3,))}
  tx = state.optimizer(cfg)
  updates, _ = tx.update(grads, tx.init(params), params)
  np.testing.assert_allclose(updates["kernel"], -0.1 * (1.0 + 0.5 * 2.0))
  np.testing.assert_allclose(updates["bias"], -0.1 * 1.0)
  cfg.weight_decay = -1.0
  with pytest.raises(ConfigError, match="weight_decay must be >= 0"):
    state.optimizer(cfg)


@pytest.mark.config("discogan.py")
def test_discogan_objective_is_sec_3_2s_l_g_and_l_d(config_of, tmp_path):
  """Kim et al. 2017, Sec. 3.2, recomputed from the players: L_D_B = -log D_B(x_B) - log(1 - D_B(x_AB));
  L_G = -log D_B(x_AB) - log D_A(x_BA) + ||x_ABA - x_A||^2 + ||x_BAB - x_B||^2 (MSE), after D's update;
  the :gan baseline drops the reconstructions."""
  c = config_of("discogan.py")
  run, step = loop_step(c, tmp_path)
  batch = run.next_batch()
  s, new, m = step(run.state, batch)
  a, b = np.asarray(batch["a"]["image"]), np.asarray(batch["b"]["image"])
  out = lambda p, x: np.asarray(p.apply(p.params, x)[0], np.float64)  # noqa: E731
  gen = lambda p, x: np.asarray(p.apply(p.params, x)[0][0], np.float64)  # noqa: E731  (the output, not the code)
  softplus = lambda v: np.logaddexp(0.0, v)  # noqa: E731  -log sigmoid(-v)
  ab, ba = gen(s.g, a), gen(s.f, b)
  d_b = np.mean(softplus(-out(s.d_b, b))) + np.mean(softplus(out(s.d_b, ab.astype(np.float32))))
  np.testing.assert_allclose(float(m["d_b/loss"]), d_b, rtol=1e-5)
  aba, bab = gen(s.f, ab.astype(np.float32)), gen(s.g, ba.astype(np.float32))
  adversarial = (np.mean(softplus(-out(new.d_b, ab.astype(np.float32)))) +
                 np.mean(softplus(-out(new.d_a, ba.astype(np.float32)))))
  const = np.mean((aba - a) ** 2) + np.mean((bab - b) ** 2)
  np.testing.assert_allclose(float(m["g/reconstruction"]), const, rtol=1e-4)
  np.testing.assert_allclose(float(m["g/loss"]), adversarial + const, rtol=1e-4)
  assert config_of("discogan.py", "gan").discogan.reconstruction_weight == 0.0


def test_mixture_mapping_counts_the_target_modes_source_modes_go_to():
  from ganjax.data.builtin import mixture_centers
  from ganjax.metrics.translation import mixture_mapping

  grid, modes = mixture_centers("grid25"), np.repeat(np.arange(8), 10)
  one_to_one = grid[modes * 3] + 0.01
  collapsed = np.repeat(grid[:1], 80, 0)
  assert mixture_mapping(one_to_one, "grid25", modes)["distinct_targets"] == 8
  assert mixture_mapping(one_to_one, "grid25", modes)["modes_covered"] == 8
  assert mixture_mapping(collapsed, "grid25", modes)["distinct_targets"] == 1
  far = mixture_mapping(collapsed + 0.5, "grid25", modes)  # off the modes: no high-quality point, same target
  assert far["distinct_targets"] == 1 and far["high_quality_fraction"] == 0 and far["modes_covered"] == 0


@pytest.mark.config("srgan.py")
def test_srgan_perceptual_loss_is_eq_3_in_the_classifiers_own_features(config_of, tmp_path):
  """Ledig et al. 2017, Eq. 3-6: after the MSE initialisation, l_SR = mean (phi(I_HR) - phi(G(I_LR)))^2
  + 1e-3 * -log D(G(I_LR)), with phi the trained classifier's third convolution after ReLU, read from
  the classifier module itself (flax's captured intermediates), not from ganjax.perceptual (its own
  maps: not rescaled). During the MSE phase D is untouched -- weights, batch statistics, optimizer
  state -- so the adversarial phase starts with a fresh D, as SRGAN starts from a trained SRResNet."""
  from ganjax.metrics.classifier import Classifier

  c = config_of("srgan.py")
  assert c.srgan.pretrain_steps == 2  # (tiny): steps 0 and 1 train G on the pixel MSE alone
  run, step = loop_step(c, tmp_path)
  state = run.state
  for _ in range(2):
    before, state, m = step(state, run.next_batch())
    assert float(m["g/loss"]) == pytest.approx(float(m["g/mse"]), rel=1e-6)
    for a, b in zip(leaves(before.d), leaves(state.d), strict=True):
      np.testing.assert_array_equal(a, b)
  batch = run.next_batch()
  s, new, m = step(state, batch)
  assert not np.allclose(leaves(new.d.params)[0], leaves(s.d.params)[0])  # D's first update
  lr, hr = np.asarray(batch["a"]), np.asarray(batch["b"])
  assert lr.shape[1] * 4 == hr.shape[1]  # 4x bicubic down-sampling
  # the networks run jitted, one program each (their weights passed in, not captured as constants)
  sr = jax.jit(lambda p, x: s.g.apply(p, x)[0])(s.g.params, lr)
  classifier = Classifier(10)

  @jax.jit
  def conv3(params, x):
    _, state = classifier.apply({"params": params}, x, capture_intermediates=True, mutable=["intermediates"])
    return state["intermediates"]["Conv_2"]["__call__"][0]

  phi = lambda x: np.maximum(np.asarray(conv3(s.extra["phi"], x), np.float64), 0.0)  # noqa: E731  (after ReLU)
  content = np.mean((phi(hr) - phi(sr)) ** 2)
  d_out = jax.jit(lambda p, x: new.d.apply(p, x)[0])(new.d.params, sr)
  adversarial = np.mean(np.logaddexp(0.0, -np.asarray(d_out, np.float64)))
  np.testing.assert_allclose(float(m["g/content"]), content, rtol=1e-4)
  np.testing.assert_allclose(float(m["g/loss"]), content + 1e-3 * adversarial, rtol=1e-4)
  assert float(m["g/mse"]) == pytest.approx(float(np.mean((np.asarray(sr) - hr) ** 2)), rel=1e-4)


def _vgg19_srgan(config_of, **srgan):
  c = config_of("srgan.py")
  c.perceptual.network, c.perceptual.vgg19_weights = "vgg19", "vgg19.npz"
  for k, v in srgan.items():
    c.srgan[k] = v
  return c


def test_srgan_check_accepts_the_documented_vgg19_command(config_of):
  """The VGG-19 command of configs/srgan.py (content at relu5_4, no texture loss) passes the checks;
  the texture loss's layers are checked only when it is on."""
  from ganjax import algorithms
  from ganjax.errors import ConfigError

  c = _vgg19_srgan(config_of, content_layers=("relu5_4",))
  algorithms.check(algorithms.get("srgan"), c)
  c.srgan.texture_weight = 1.0
  with pytest.raises(ConfigError, match="perceptual.network=vgg19 has no layer 'conv1'"):
    algorithms.check(algorithms.get("srgan"), c)
  c.srgan.texture_layers = ("relu1_1", "relu2_1", "relu3_1")
  algorithms.check(algorithms.get("srgan"), c)


def test_srgan_vgg_content_rescales_the_feature_maps_by_1_over_12_75(config_of):
  """Sec. 3.2: "VGG feature maps were also rescaled by a factor of 1/12.75": with VGG-19 the content
  term is mean((phi(I_HR) / 12.75 - phi(I_SR) / 12.75)^2), phi the network's relu2_2 (random weights)."""
  from ganjax.algorithms import srgan
  from ganjax.networks import vgg

  c = _vgg19_srgan(config_of, content_layers=("relu2_2",), pretrain_steps=0)
  phi, keys = {}, iter(jax.random.split(jax.random.key(0), 4))
  for name, cin, cout in (("conv1_1", 3, 64), ("conv1_2", 64, 64), ("conv2_1", 64, 128), ("conv2_2", 128, 128)):
    kernel = jax.random.normal(next(keys), (3, 3, cin, cout)) * np.sqrt(2 / (9 * cin))
    phi[name] = {"kernel": kernel, "bias": jnp.zeros(cout)}
  hr = jax.random.uniform(jax.random.key(1), (4, 8, 8, 1), minval=-1, maxval=1)
  lr = jax.image.resize(hr, (4, 2, 2, 1), "linear")
  state = srgan.init(c, jax.random.key(2), {"a": lr[:2], "b": hr[:2], "phi": phi})
  _, m = jax.jit(srgan.train_step)(state, {"a": lr, "b": hr}, jax.random.key(3))
  sr = state.g.apply(state.g.params, lr)[0]
  features = lambda x: np.asarray(vgg.features(phi, x, ["relu2_2"])[0], np.float64)  # noqa: E731
  expected = np.mean((features(hr) / 12.75 - features(sr) / 12.75) ** 2)
  np.testing.assert_allclose(float(m["g/content"]), expected, rtol=1e-4)


def test_srgan_learning_rates_drop_tenfold_after_half_the_adversarial_phase(config_of):
  """Sec. 3.2: 10^5 updates at 1e-4, then 10^5 at 1e-5, scaled to the run: 8 steps, 2 of them the MSE
  phase, so the rates drop at step 2 + 6 / 2 = 5; G updates from step 0, D from step 2. Probed with a
  constant gradient, whose Adam step is the learning rate itself."""
  from ganjax.algorithms import srgan

  c = config_of("srgan.py", steps=8)
  c.srgan.pretrain_steps = 2
  hr = jnp.zeros((2, 8, 8, 1))
  state = srgan.init(c, jax.random.key(0), {"a": hr[:, :2, :2], "b": hr})

  def rates(tx, updates):
    opt, out = tx.init(jnp.zeros(())), []
    for _ in range(updates):
      step, opt = tx.update(jnp.ones(()), opt, jnp.zeros(()))
      out.append(-float(step))
    return out

  np.testing.assert_allclose(rates(state.d.tx, 6), [1e-4] * 3 + [1e-5] * 3, rtol=1e-3)  # D: steps 2-4, then 5-7
  np.testing.assert_allclose(rates(state.g.tx, 8), [1e-4] * 5 + [1e-5] * 3, rtol=1e-3)  # G: steps 0-4, then 5-7
  assert config_of("srgan.py", "srresnet").srgan.lr_drop == 1.0  # the SRResNet: 1e-4 throughout


def test_srgan_default_data_holds_detail_its_inputs_lack():
  """configs/srgan.py's data: digits rendered at 32 x 32 (downsampled:fonts), whose 8 x 8 bicubic
  inputs lose detail (bicubic up-sampling back is below 20 dB PSNR), unlike the bundled 8 x 8 digits
  enlarged to 32 x 32, which bicubic restores to above 25 dB."""
  from tiny import load_config

  from ganjax.data import builtin, derived

  c = load_config("srgan.py")
  assert (c.data.name, c.data.image_size, c.data.get("sr_factor", 4)) == ("downsampled:fonts", 32, 4)

  def bicubic_psnr(images):
    back = derived.bicubic(derived.bicubic(images, 8, 8), 32, 32)
    return 10 * np.log10(4.0 / np.mean((back - images) ** 2))  # peak-to-peak 2 in [-1, 1]

  assert bicubic_psnr(builtin.font_digits(100, 32).get(np.arange(100))["image"]) < 20
  assert bicubic_psnr(builtin.digits(32).get(np.arange(100))["image"]) > 25


def test_texture_loss_is_enhancenets_gram_distance_on_patches():
  """Sajjadi et al. 2017, Eq. 4: ||G(phi(x)) - G(phi(y))||^2 with G = phi^T phi per 16 x 16 window."""
  from ganjax import perceptual

  rng = np.random.default_rng(0)
  f, r = rng.normal(size=(2, 32, 16, 3)), rng.normal(size=(2, 32, 16, 3))
  expected = []
  for i in range(2):
    for y in (0, 16):
      window = lambda v: v[i, y:y + 16, :, :].reshape(256, 3)  # noqa: E731
      gf, gr = window(f).T @ window(f) / 256, window(r).T @ window(r) / 256
      expected.append(np.mean((gf - gr) ** 2))
  np.testing.assert_allclose(float(perceptual.texture_loss([f], [r], 16)), np.mean(expected), rtol=1e-5)
  assert float(perceptual.texture_loss([f], [f], 16)) == 0.0


def test_pixel_shuffle_is_pytorchs_depth_to_space():
  from ganjax.networks.srresnet import pixel_shuffle

  x = np.random.default_rng(0).normal(size=(1, 3, 2, 8)).astype(np.float32)  # NHWC, C = 2 * 2^2
  y = np.asarray(pixel_shuffle(jnp.asarray(x), 2))
  for h, w, c, i, j in [(0, 0, 0, 0, 0), (2, 1, 1, 0, 1), (1, 0, 1, 1, 1), (2, 1, 0, 1, 0)]:
    assert y[0, 2 * h + i, 2 * w + j, c] == x[0, h, w, c * 4 + i * 2 + j]  # out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]


def test_vgg19_maps_torchvisions_names_and_convolves_like_pytorch(tmp_path):
  """torchvision's `features.<i>.weight` (O, I, kh, kw) land on the right layers, and conv1_1 of
  a random checkpoint equals PyTorch's cross-correlation written out in numpy at an interior pixel."""
  from ganjax.errors import ConfigError
  from ganjax.networks import vgg

  rng = np.random.default_rng(0)
  convs = [(n, i) for n, i, k in vgg.layers() if k == "conv"]
  assert len(convs) == 16 and convs[0] == ("conv1_1", 0) and convs[-1] == ("conv5_4", 34)  # torchvision's indices
  arrays, cin = {}, 3
  for (name, index), cout in zip(convs, [c for c in vgg.CHANNELS if c != "M"]):
    arrays[f"features.{index}.weight"] = rng.normal(size=(cout, cin, 3, 3)).astype(np.float32) * 0.1
    arrays[f"features.{index}.bias"] = rng.normal(size=(cout,)).astype(np.float32)
    cin = cout
  np.savez(tmp_path / "vgg19.npz", **arrays)
  params = vgg.load(tmp_path / "vgg19.npz")
  x = rng.uniform(-1, 1, size=(1, 8, 8, 3)).astype(np.float32)
  out = np.asarray(vgg.features(params, jnp.asarray(x), ["conv1_1"])[0])
  xn = ((x + 1) / 2 - vgg.MEAN) / vgg.STD
  w, b = arrays["features.0.weight"], arrays["features.0.bias"]
  patch = xn[0, 3:6, 4:7, :]  # the 3x3 window around (4, 5)
  expected = np.einsum("oikl,kli->o", w, patch) + b
  np.testing.assert_allclose(out[0, 4, 5], expected, rtol=1e-4, atol=1e-4)
  shapes = [f.shape for f in vgg.features(params, jnp.asarray(np.zeros((1, 32, 32, 1), np.float32)), ["relu2_1", "relu5_4"])]
  assert shapes == [(1, 16, 16, 128), (1, 2, 2, 512)]  # grey images go in as 3 channels
  del arrays["features.34.weight"]
  np.savez(tmp_path / "broken.npz", **arrays)
  with pytest.raises(ConfigError, match="lack features.34.weight"):
    vgg.load(tmp_path / "broken.npz")


def test_vgg19_equals_torchvisions_with_the_same_random_weights(tmp_path):
  """With GANJAX_TORCH_CHECKS=1 and PyTorch installed (neither is needed by ganjax; 14 s here):
  relu5_4 of torchvision's vgg19 with random weights, through the .npz conversion, equals ganjax's."""
  if os.environ.get("GANJAX_TORCH_CHECKS") != "1":
    pytest.skip("set GANJAX_TORCH_CHECKS=1 (with torch and torchvision installed) to compare with torchvision")
  torch = pytest.importorskip("torch")
  torchvision = pytest.importorskip("torchvision")
  from ganjax.networks import vgg

  torch.manual_seed(0)
  model = torchvision.models.vgg19(weights=None).eval()
  torch.save(model.state_dict(), tmp_path / "vgg19.pth")
  vgg._convert(str(tmp_path / "vgg19.pth"), str(tmp_path / "vgg19.npz"))
  x = np.random.default_rng(0).uniform(-1, 1, size=(2, 32, 32, 3)).astype(np.float32)
  with torch.no_grad():
    xt = torch.from_numpy(((((x + 1) / 2) - vgg.MEAN) / vgg.STD).transpose(0, 3, 1, 2))
    ref = model.features[:36](xt).numpy().transpose(0, 2, 3, 1)  # through relu5_4 (index 35)
  out = np.asarray(vgg.features(vgg.load(tmp_path / "vgg19.npz"), jnp.asarray(x), ["relu5_4"])[0])
  np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-4 * float(np.abs(ref).max()))


@pytest.mark.config("cartoongan.py")
def test_cartoongan_edge_promoting_loss_and_initialization_phase(config_of, tmp_path):
  """Chen et al. 2018, Eq. 1-3 and Sec. 3.3: during the initialization phase D is untouched and G's
  loss is omega * L_con; then D's is -log D(c) - log(1 - D(e)) - log(1 - D(G(p))) (edge-smoothed
  cartoons e are fake) and G's omega * L_con - log D(G(p)), with L_con the L1 of the SimCLR encoder's
  third convolution read from the flax module itself."""
  from ganjax.metrics.selfsup import Encoder

  c = tiny_config(config_of, "cartoongan.py")
  assert (c.cartoongan.content_weight, c.cartoongan.init_steps, c.cartoongan.edge_weight) == (10.0, 1, 1.0)
  run, step = loop_step(c, tmp_path)
  encoder, phi_params = Encoder(), jax.device_get(run.state.extra["phi"])

  def content(g, photo):
    def phi(x):
      _, st = encoder.apply({"params": phi_params}, x, capture_intermediates=True, mutable=["intermediates"])
      return np.asarray(jax.nn.relu(st["intermediates"]["Conv_2"]["__call__"][0]), np.float64)
    return np.mean(np.abs(phi(np.asarray(g.apply(g.params, photo)[0])) - phi(photo)))

  batch = run.next_batch()
  photo = np.asarray(batch["a"]["a"])
  start, first, m = step(run.state, batch)
  assert all(np.array_equal(x, y) for x, y in zip(leaves(first.d.params), leaves(start.d.params)))
  np.testing.assert_allclose(float(m["g/loss"]), 10 * content(start.g, photo), rtol=1e-4)
  batch = run.next_batch()
  photo, cartoon, smooth = (np.asarray(batch[s][k]) for s, k in (("a", "a"), ("b", "b"), ("b", "b_smooth")))
  first, second, m = step(first, batch)
  sp = lambda v: np.logaddexp(0.0, np.asarray(v, np.float64))  # noqa: E731  -log sigmoid(-v)
  out = lambda p, x: p.apply(p.params, x)[0]  # noqa: E731
  d_loss = np.mean(sp(-out(first.d, cartoon))) + np.mean(sp(out(first.d, smooth))) + \
      np.mean(sp(out(first.d, out(first.g, photo))))
  np.testing.assert_allclose(float(m["d/loss"]), d_loss, rtol=1e-4)
  g_loss = 10 * content(first.g, photo) + np.mean(sp(-out(second.d, out(first.g, photo))))
  np.testing.assert_allclose(float(m["g/loss"]), g_loss, rtol=1e-4)


def leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]
