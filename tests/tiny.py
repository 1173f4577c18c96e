"""Tiny versions of the real configs (importable without side effects, also by subprocesses)."""

import importlib.util
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.name for p in (ROOT / "configs").glob("*.py") if not p.name.startswith("_"))


def load_config(name: str, arg=None):
  spec = importlib.util.spec_from_file_location(f"cfg_{name}", ROOT / "configs" / name)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg) if arg is not None else module.get_config()


def tiny(config, steps: int = 4):
  """Shrinks any config to seconds on a CPU while keeping its structure."""
  c = config.copy_and_resolve_references()
  c.batch_size = 8
  c.num_steps = steps
  c.log_every = 2
  c.sample_every = 0
  c.checkpoint_every = 2
  c.eval_every = -1
  c.progress = False
  c.compilation_cache = os.environ.get("GANJAX_TEST_XLA_CACHE", "")  # per test session (tests/conftest.py)
  c.model.latent_dim = 4
  c.model.g_hidden = (16,)
  c.model.d_hidden = (16,)
  c.model.e_hidden = (16,)
  c.model.width = 4
  c.model.fc_width = 32
  if c.data.image_size:
    c.data.image_size = 8
  c.eval.num_samples = 32  # = eval.batch_size = sample.num: one generate program (one per number of
  c.eval.batch_size = 32  # rows) serves the evaluation and the sample grids
  c.eval.classifier_steps = 10
  c.eval.kid_subsets = 3
  c.eval.self_features_steps = 10
  c.sample.num = 32
  c.sample.interpolation_rows = 2
  c.sample.interpolation_steps = 3
  for stream, name in c.data.streams.items():  # a few hundred synthetic digits, not 10,000
    if name == "fonts":
      c.data.streams[stream] = "fonts:400"
  if c.data.name in ("ring8", "grid25"):
    c.data.holdout = 0.01
  if "unrolled" in c:
    c.unrolled.steps = 2
  if "gman" in c:
    c.gman.num_discriminators = 2
  if "cyclegan" in c:
    c.cyclegan.blocks = 1
  if "srgan" in c:
    c.srgan.blocks = 1
    c.srgan.pretrain_steps = min(c.srgan.pretrain_steps, 2)
  for block in ("pix2pix", "cyclegan", "cartoongan"):  # 8x8 images: the 16x16 PatchGAN (70x70 needs 24 px)
    if block in c:
      c[block].patch_layers = 1
  if "pixelda" in c:
    c.pixelda.d_width = 4
  if c.data.name == "downsampled:fonts":  # 400 rendered digits, not 10,000
    c.data.name = "downsampled:fonts:400"
  for block in ("simgan", "pixelda"):  # one residual block in the refiners
    if block in c:
      c[block].blocks = 1
  if "simgan" in c:
    c.simgan.pretrain_r, c.simgan.pretrain_d = 1, 1  # both phases of Algorithm 1 within 4 steps
  if "dtn" in c:
    c.dtn.pretrain_steps = 2
  if "cartoongan" in c:
    c.cartoongan.blocks = 1
    c.cartoongan.init_steps = min(c.cartoongan.init_steps, 1)
  if c.data.name.startswith("oracle"):  # a 50-token oracle, 200 sequences of 8
    c.data.vocab_size, c.data.seq_len, c.data.num_sequences = 50, 8, 200
  if c.data.name == "grammar":
    c.data.num_sequences = 200
  if c.data.name.startswith("corpus:") or "textgan" in c or c.algorithm == "bgan_tokens":  # the bundled sentences
    c.data.name = f"corpus:{ROOT / 'tests' / 'data' / 'corpus.txt'}"
    c.data.seq_len = 12
  if "d_filter_scale" in c.model:  # SeqGAN's CNN with one filter per window, small embeddings
    c.model.d_filter_scale = 0.01
    c.model.embed_dim = c.model.hidden = c.model.d_embed_dim = c.model.d_hidden_lstm = 8
    c.eval.bleu_samples, c.eval.bleu_references = 16, 32
  if "seqgan" in c:  # all three phases within 4 steps
    c.seqgan.pretrain_g_steps = min(c.seqgan.pretrain_g_steps, 1)
    c.seqgan.pretrain_d_steps = min(c.seqgan.pretrain_d_steps, 1)
    c.seqgan.num_rollouts = min(c.seqgan.num_rollouts, 2)
    c.seqgan.d_steps = min(c.seqgan.d_steps, 2)
  for block, field in (("gsgan", "pretrain_steps"), ("textgan", "pretrain_g_steps"), ("bgan", "pretrain_g_steps")):
    if block in c and field in c[block]:
      c[block][field] = min(c[block][field], 2)
  if "bgan" in c and c.algorithm == "bgan_tokens":  # (textgan's tiny run covers the MLE phase)
    c.bgan.num_samples, c.bgan.pretrain_g_steps = 2, 0
  if "perceptual" in c:
    c.perceptual.steps = 10
  if "gan" in c and "d_steps" in c.gan:  # WGAN's and SN-GAN's 5 critic steps unroll into 5 copies of D's update
    c.gan.d_steps = min(c.gan.d_steps, 2)
  if "gan" in c and c.gan.replay_size:
    c.gan.replay_size = 16  # rows divisible by the tests' 4 devices
  return c
