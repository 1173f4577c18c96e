"""Pictures of a run's generator: the loop's sample grids (`write_samples`) and `--mode=sample`
(`sample`: samples, interpolations, latent arithmetic, and the method's own `Sampler.grids`)."""

from __future__ import annotations

import os
import pathlib

import jax
import numpy as np
from PIL import Image

from ganjax import data, images, metrics, parallel
from ganjax.algorithms.common import sample_latent
from ganjax.data import base, derived, folders
from ganjax.data.sequences import to_text
from ganjax.errors import CheckpointError, ConfigError, DataError, GanjaxError
from ganjax.evaluators import domain_split
from ganjax.run import Run
from ganjax.state import SAMPLE_KEY
from ganjax.workdir import config_of_workdir


def shown_like(x, out):
  """Images x as tiles beside the translations `out`: a grey image in the output's channels, a
  smaller one (super-resolution's input) enlarged pixel for pixel."""
  h, w, c = out.shape[1:]
  x = np.repeat(x, c, -1) if x.shape[-1] != c else x
  return np.repeat(np.repeat(x, h // x.shape[1], 1), w // x.shape[2], 2) if x.shape[1] < h and x.shape[2] < w else x


def trained_translator(config, workdir, direction: str = "AtoB"):
  """(Run, its translation function for `direction`, the input side "a" | "b") of a trained
  image-to-image run: `translate` A -> B, or `translate_back` B -> A (CycleGAN, DiscoGAN)."""
  run = Run(config, workdir, need_data_iterator=False)
  fn, side = (run.translate_fn, "a") if direction == "AtoB" else (run.translate_back_fn, "b")
  if fn is None:
    raise ConfigError(f"algorithm {config.algorithm!r} does not translate {direction} (its record has no "
                      f"{'Translator' if direction == 'AtoB' else 'Translator.translate_back'})")
  if run.restored_step is None:
    raise CheckpointError(f"no checkpoint in {run.checkpoints.directory}: train first")
  return run, fn, side


def translations(run, key, n: int = 8) -> tuple:
  """Image-to-image methods (`translate`): (rows, columns) of input | output | target for n held-out
  A images -- input | G(x) | F(G(x)) | target for methods that translate back (the cycle
  reconstruction), without the target on unpaired data -- then, for those methods, the same rows
  for n B images (B -> A). A grey input is shown in the output's channels, a smaller one enlarged."""
  def rows(fn, back, src, dst, salt):
    split, src_key = domain_split(run, src)
    test = split.test.get(np.arange(min(n, split.test.size)))
    x = test[src_key]
    out = parallel.local_copy(fn(run.state, x, jax.random.fold_in(key, salt)))
    cols = [x, out]
    if back is not None:
      cols.append(parallel.local_copy(back(run.state, out, jax.random.fold_in(key, salt + 1))))
    if split.test.paired:  # the rows hold their partners: the target
      cols.append(test[dst])
    return [shown_like(v, out) for v in cols]

  blocks = [rows(run.translate_fn, run.translate_back_fn, "a", "b", 0)]
  if run.translate_back_fn is not None and domain_split(run, "b") is not None:
    blocks.append(rows(run.translate_back_fn, run.translate_fn, "b", "a", 2))
  ncol = max(len(b) for b in blocks)
  pictures = []
  for cols in blocks:
    if cols[0].shape[1:] != blocks[0][0].shape[1:] or len(cols) != ncol:  # differently sized domains: A -> B only
      break
    pictures.append(np.stack(cols, axis=1).reshape((-1, *cols[0].shape[1:])))
  return np.concatenate(pictures), ncol


def translation_picture(run, key, n: int = 8) -> np.ndarray:
  """`translations` as one grid; into data not drawn in rows (DiscoGAN's 2-D mixtures) n * 100
  mapped A points drawn as the B domain's data is, over its training rows."""
  (src, src_key), (dst, dst_key) = domain_split(run, "a"), domain_split(run, "b")
  if not images.in_rows(dst.train.kind):
    x = src.test.get(np.arange(min(100 * n, src.test.size)))[src_key]
    mapped = parallel.local_copy(run.translate_fn(run.state, x, key))
    return images.draw(dst.train.kind, mapped, lambda: dst.train.get(np.arange(min(2000, dst.train.size)))[dst_key])
  rows, ncol = translations(run, key, n)
  return images.grid(rows, ncol=ncol)


def compare_translations(workdirs, n: int = 8) -> np.ndarray:
  """One grid comparing trained image-to-image runs on the same n held-out A images: columns
  input | (bicubic, for super-resolution) | each workdir's output, in order | target (paired data).
  Each run is rebuilt from its workdir's config.json and latest checkpoint; runs on different held-out
  inputs are refused."""
  inputs, cols, target = None, [], None
  for wd in workdirs:
    run, translate, _ = trained_translator(config_of_workdir(wd), wd)
    split, key = domain_split(run, "a")
    test = split.test.get(np.arange(min(n, split.test.size)))
    if inputs is not None and (test[key].shape != inputs.shape or not np.array_equal(test[key], inputs)):
      raise ConfigError(f"{wd} holds other held-out inputs than {workdirs[0]}: compare runs on the same data")
    inputs, target = test[key], test["b"] if split.test.paired else target
    cols.append(parallel.local_copy(translate(run.state, inputs, jax.random.fold_in(run.base_key, SAMPLE_KEY))))
    run.checkpoints.close()
  h, w, c = cols[0].shape[1:]
  first = [shown_like(inputs, cols[0])]
  if inputs.shape[1] < h:  # super-resolution: bicubic upsampling beside the networks
    first.append(derived.bicubic(np.repeat(inputs, c, -1) if inputs.shape[-1] != c else inputs, h, w))
  cols = first + cols + ([target] if target is not None and target.shape == cols[0].shape else [])
  picture = images.grid(np.stack(cols, axis=1).reshape((-1, h, w, c)), ncol=len(cols))
  zoom = max(1, 96 // min(h, w))  # small images shown at least 96 pixels high, pixel for pixel
  return np.repeat(np.repeat(picture, zoom, 0), zoom, 1)


def drawn(run) -> bool:
  """Whether the run's samples are drawn as a picture (`images.DRAW`), or written as text (tokens)."""
  return run.split.train.kind in images.DRAW


def draw_samples(run, samples) -> np.ndarray:
  train = run.split.train
  return images.draw(train.kind, samples, lambda: train.get(np.arange(min(2000, train.size)))[train.key])


def sequences_text(run, samples) -> str:
  """Generated token sequences as text, one per line, decoded with the data's vocabulary and joined by
  its separator (characters and grammar symbols without one, words with spaces, up to the end
  symbol; the oracle's ids as numbers)."""
  train = run.split.train
  vocabulary = train.vocabulary or tuple(str(i) for i in range(int(np.max(samples)) + 1))
  return "".join(line + "\n" for line in to_text(samples, vocabulary, train.separator))


def _write_text(path, text):
  if jax.process_index() == 0:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
      f.write(text)


def write_samples(run, step: int, writer=None, n: int = 0):
  """The periodic picture samples/step_<step>.png: samples of a generator, or a translation method's
  input | output | target rows; for token sequences samples/step_<step>.txt, one per line."""
  n = n or run.config.sample.num
  key = jax.random.fold_in(jax.random.fold_in(run.base_key, SAMPLE_KEY), step)
  if run.generate_fn is not None and not drawn(run):
    samples = run.generate(key, n)
    text = sequences_text(run, samples)
    _write_text(os.path.join(run.workdir, "samples", f"step_{step:08d}.txt"), text)
    if writer is not None:
      writer.text(step, "samples", text)
    return samples
  if run.generate_fn is None:
    samples = picture = translation_picture(run, key)
  else:
    samples = run.generate(key, n)
    picture = draw_samples(run, samples)
  if jax.process_index() == 0:
    os.makedirs(os.path.join(run.workdir, "samples"), exist_ok=True)
    images.save_png(os.path.join(run.workdir, "samples", f"step_{step:08d}.png"), picture,
                    upscale=4 if picture.shape[0] < 200 else 1)
    if writer is not None:
      writer.image(step, "samples", picture)
  return samples


def sample(config, workdir, num: int = 0) -> dict:
  """Writes `samples.png` and `interpolation.png` (or a scatter for 2-D data) from the latest
  checkpoint; for token sequences `samples.txt` (sample.num decoded sequences, one per line)."""
  run = Run(config, workdir, need_data_iterator=False)
  if run.restored_step is None:
    raise CheckpointError(f"no checkpoint in {run.checkpoints.directory}: train first")
  cfg = run.config
  key = jax.random.fold_in(run.base_key, SAMPLE_KEY)
  paths, out_pictures = {}, {}
  samples = run.generate(key, num or cfg.sample.num) if run.generate_fn is not None else None
  if samples is not None and not drawn(run):
    path = os.path.join(run.workdir, "samples.txt")
    _write_text(path, sequences_text(run, samples))
    run.checkpoints.close()
    return {"samples": path}
  if samples is not None:
    paths["samples"] = os.path.join(run.workdir, "samples.png")
    out_pictures["samples"] = draw_samples(run, samples)
  if samples is not None and images.in_rows(run.split.train.kind):
    rows, steps = cfg.sample.interpolation_rows, cfg.sample.interpolation_steps
    ends = sample_latent(jax.random.fold_in(key, 1), 2 * rows, cfg.model)
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    z = (1 - t) * np.asarray(ends[:rows])[:, None] + t * np.asarray(ends[rows:])[:, None]
    strip = run.generate(key, rows * steps, z=z.reshape(rows * steps, -1))
    out_pictures["interpolation"] = images.draw(run.split.train.kind, strip, ncol=steps)
    paths["interpolation"] = os.path.join(run.workdir, "interpolation.png")
  if cfg.sample.arithmetic:  # Radford et al. 2015, Sec. 6.3: mean z of A - B + C
    out_pictures["arithmetic"] = images.grid(latent_arithmetic(run, jax.random.fold_in(key, 3)), ncol=8)
    paths["arithmetic"] = os.path.join(run.workdir, "arithmetic.png")
  if run.translate_fn is not None:  # image-to-image: input | output | target rows
    out_pictures["translations"] = translation_picture(run, jax.random.fold_in(key, 4), 16)
    paths["translations"] = os.path.join(run.workdir, "translations.png")
  if run.method.sampler is not None and run.method.sampler.grids is not None:  # rows per class, traversals, ...
    grids = run.method.sampler.grids(run.state, jax.random.fold_in(key, 2), run.split.test)
    for name, (pictures, ncol) in grids.items():
      out_pictures[name] = images.draw(run.split.train.kind, parallel.local_copy(pictures), ncol=ncol)
      paths[name] = os.path.join(run.workdir, f"{name}.png")
  run.checkpoints.close()
  if not paths:
    raise ConfigError(f"algorithm {cfg.algorithm!r} draws nothing (no generator, no translator): --mode=eval reports "
                      "its accuracies")
  if jax.process_index() == 0:
    for k, p in paths.items():
      images.save_png(p, out_pictures[k], upscale=4 if out_pictures[k].shape[0] < 200 else 1)
  return paths


def latent_arithmetic(run, key, pool: int = 2000, members: int = 7, noise: float = 0.25) -> np.ndarray:
  """Vector arithmetic on latents (Radford et al. 2015, Sec. 6.3) for any generator on labelled
  images. `config.sample.arithmetic` = "A,B,C" names three classes; `pool` latents are decoded and
  classified by the dataset classifier, and each class's group is its `members` most confident
  samples. Rows: group A's samples and (last column) the decoding of their mean latent; the same
  for B and C; then the decoding of mean(A) - mean(B) + mean(C), and 7 decodings of it plus
  `noise` * N(0, I). Returns the (4 * 8, ...) images."""
  cfg = run.config
  data.require_labels(run.split.train, "latent arithmetic")
  try:
    groups = [int(v) for v in str(cfg.sample.arithmetic).split(",")]
  except ValueError:
    groups = []
  if len(groups) != 3 or not all(0 <= g < run.split.train.num_classes for g in groups):
    raise ConfigError(f"sample.arithmetic={cfg.sample.arithmetic!r}: give three class labels, e.g. '7,1,3'")
  z = np.asarray(sample_latent(key, pool, cfg.model))
  x = run.generate(key, pool, z=z)
  _, probs = metrics.classifier_for(run.split, cfg, cfg.progress and jax.process_index() == 0)(x)
  means, rows = [], []
  for g in groups:
    conf = np.where(probs.argmax(1) == g, probs[:, g], -1.0)
    idx = np.argsort(-conf)[:members]
    if conf[idx[-1]] < 0:
      raise GanjaxError(f"latent arithmetic: fewer than {members} of {pool} samples are classified as {g}")
    means.append(z[idx].mean(0))
    rows.append(np.concatenate([x[idx], run.generate(key, 1, z=means[-1][None])]))
  result = means[0] - means[1] + means[2]
  jitter = noise * np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (members, z.shape[1])))
  rows.append(run.generate(key, members + 1, z=np.concatenate([result[None], result[None] + jitter])))
  return np.concatenate(rows)


def translate_files(config, workdir, input_path: str, output_dir: str, direction: str = "AtoB") -> list:
  """`--mode=translate`: runs a trained image-to-image model on one image file or on every image of
  a folder (input-domain images only, no partner needed) and writes each output as a PNG of the
  same name into `output_dir`: A -> B (`translate`), or with direction "BtoA" B -> A
  (`translate_back`, CycleGAN / DiscoGAN). Inputs are converted as the pix2pix / CycleGAN authors'
  test loader does (`Image.open(path).convert('RGB')`, grey by PIL's luma where the model takes one
  channel, a bicubic resize) to the training data's channels and size for that domain, and one line
  says how many were converted from what; returns the written paths."""
  if direction not in ("AtoB", "BtoA"):
    raise ConfigError(f"--direction must be AtoB or BtoA, got {direction!r}")
  src = pathlib.Path(input_path).expanduser()  # the input first: a typo stops before the model is built
  if src.is_dir():
    files = sorted(p for p in src.iterdir() if p.suffix.lower() in folders.IMAGE_SUFFIXES)
  elif src.is_file():
    files = [src]
  else:
    raise DataError(f"translate: {src} is neither an image file nor a folder")
  if not files:
    raise DataError(f"translate: no images ({', '.join(sorted(folders.IMAGE_SUFFIXES))}) in {src}")
  run, fn, side = trained_translator(config, workdir, direction)
  split, key_ = domain_split(run, side)
  (h, w, c), _ = split.train.element_spec[key_]
  x, converted = [], {}
  for p in files:
    try:
      with Image.open(p) as im:
        x.append(_as_model_input(im, h, w, c, converted))
    except OSError as e:
      raise DataError(f"translate: cannot read image {p} ({type(e).__name__})") from None
  if converted and jax.process_index() == 0:
    print(f"translate: converted {sum(converted.values())} of {len(files)} images to the model's {h} x {w} "
          f"{'grey' if c == 1 else 'RGB'} input (RGB, {'then luma, ' if c == 1 else ''}bicubic resize): "
          + ", ".join(f"{n} from {source}" for source, n in converted.items()))
  x = base.to_unit_range(np.stack(x))
  key = jax.random.fold_in(run.base_key, SAMPLE_KEY)
  batch = run.config.eval.batch_size
  out = np.concatenate([parallel.local_copy(fn(run.state, x[i:i + batch], jax.random.fold_in(key, i)))
                        for i in range(0, len(x), batch)])
  os.makedirs(output_dir, exist_ok=True)
  paths = []
  for p, img in zip(files, images.to_uint8(out)):
    path = os.path.join(output_dir, p.stem + ".png")
    if jax.process_index() == 0:
      images.save_png(path, img)
    paths.append(path)
  run.checkpoints.close()
  return paths


def _as_model_input(im, h: int, w: int, c: int, converted: dict) -> np.ndarray:
  """A PIL image as the model's (h, w, c) uint8 input: RGB first (the authors' loader), grey by PIL's
  luma (torchvision's Grayscale) where c is 1, bicubic to w x h (their Resize); `converted` counts
  the images whose size or channels change, by their own size and mode."""
  out = im.convert("RGB")
  out = out.convert("L") if c == 1 else out
  out = out.resize((w, h), Image.BICUBIC) if out.size != (w, h) else out
  if im.size != (w, h) or {"L": 1, "RGB": 3}.get(im.mode) != c:
    source = f"{im.height} x {im.width} {im.mode}"
    converted[source] = converted.get(source, 0) + 1
  return np.asarray(out, np.uint8).reshape(h, w, c)
