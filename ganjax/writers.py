"""Where metrics go: `metrics.jsonl` (one JSON object per logged step), TensorBoard event files
(tensorboardX, no TensorFlow), and a progress bar (step, steps/s, ETA, both players' losses).
Only process 0 writes."""

from __future__ import annotations

import json
import os

import jax
import numpy as np


class MetricWriter:

  def __init__(self, workdir, start_step: int, num_steps: int, progress: bool = True):
    self.active = jax.process_index() == 0
    self.tb = None
    self.bar = None
    self.jsonl = None
    if not self.active:
      return
    os.makedirs(workdir, exist_ok=True)
    self.jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a")
    from tensorboardX import SummaryWriter

    self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))
    if progress:
      from tqdm.auto import tqdm

      self.bar = tqdm(total=num_steps, initial=start_step, unit="step", dynamic_ncols=True, smoothing=0.1)

  def scalars(self, step: int, metrics: dict):
    if not self.active:
      return
    metrics = {k: float(v) for k, v in metrics.items()}
    self.jsonl.write(json.dumps({"step": int(step), **metrics}) + "\n")
    self.jsonl.flush()
    for k, v in metrics.items():
      self.tb.add_scalar(k, v, step)
    if self.bar is not None:
      shown = {k.replace("/loss", ""): f"{v:.3g}" for k, v in metrics.items() if k.endswith("loss")}
      self.bar.set_postfix(shown, refresh=False)

  def image(self, step: int, name: str, picture: np.ndarray):
    if self.active:
      self.tb.add_image(name, np.asarray(picture), step, dataformats="HWC" if picture.ndim == 3 else "HW")

  def text(self, step: int, name: str, text: str):
    """Generated token sequences (one per line) in TensorBoard's text tab."""
    if self.active:
      self.tb.add_text(name, "\n\n".join(text.splitlines()[:32]), step)

  def advance(self, n: int = 1):
    if self.bar is not None:
      self.bar.update(n)

  def close(self):
    if not self.active:
      return
    if self.bar is not None:
      self.bar.close()
    self.tb.close()
    self.jsonl.close()
