"""The configs as plain Python, nothing built: each refuses an argument it does not know, naming the
valid ones, and every variant carries the fields the code reads without a default."""

import pytest

from ganjax import base_config
from ganjax.errors import ConfigError
from tiny import CONFIGS, load_config

VALID = "; valid: (no argument)"
# algorithm -> (its block, fields its step reads there), also in the MLE baselines' seqgan block
SEQUENCE_FIELDS = {"seqgan": ("seqgan", ("adversarial_optimizer", "pg_reduction")),
                   "gsgan": ("gsgan", ("adversarial_optimizer", "pretrain_steps")),
                   "textgan": ("textgan", ("adversarial_optimizer", "pretrain_g_steps")),
                   "bgan_tokens": ("bgan", ("adversarial_optimizer", "pretrain_g_steps"))}


def valid_arguments(name):
  """The arguments configs/<name> names when refusing an unknown one."""
  with pytest.raises(ConfigError) as e:
    load_config(name, "no_such_argument")
  message = str(e.value)
  assert message.startswith(f"unknown configs/{name} argument 'no_such_argument'{VALID}"), message
  assert "\n" not in message
  listed = message.partition(VALID)[2]
  return [a for a in listed.split(", ") if a]


def variants():
  return [(name, arg) for name in CONFIGS for arg in (None, *valid_arguments(name))]


def test_an_unknown_argument_is_refused_naming_the_valid_ones():
  for name in CONFIGS:
    for arg in valid_arguments(name):  # each one named is taken
      assert load_config(name, arg).algorithm, (name, arg)
    assert load_config(name, "").to_dict() == load_config(name).to_dict(), name  # "path:" is no argument


def test_the_declared_fields_are_in_every_config():
  """The base's declared fields (optim.<player> ones in every player's block) are in every variant of
  every config, so the code reads them as attributes."""
  def fields(block, prefix=""):
    out = set()
    for k, v in block.items():
      out |= fields(v, f"{prefix}{k}.") if hasattr(v, "items") and v else {prefix + k}
    return out

  base = base_config.get_config()
  shared = {f for f in fields(base) if not f.startswith("optim.")}
  optimizer = set(base_config.optimizer("adam", 1.0))
  assert {"weight_init", "leak", "pixel_range"} <= set(base.model)
  assert {"anneal_alpha", "anneal_beta", "momentum", "decay", "lr_decay_rate", "grad_clip_by"} <= optimizer
  gan = set(base_config.adversarial_block())
  for name, arg in variants():
    c = load_config(name, arg)
    where = f"configs/{name}:{arg}"
    assert not shared - fields(c) - {"data.streams", "data.holdouts"}, (where, sorted(shared - fields(c)))
    assert c.optim, where
    for player, block in c.optim.items():
      assert not optimizer - set(block), (where, player, sorted(optimizer - set(block)))
    if "gan" in c:
      assert not gan - set(c.gan), (where, sorted(gan - set(c.gan)))
    block, read = SEQUENCE_FIELDS.get(c.algorithm, (None, ()))
    assert not set(read) - set(c[block] if block else ()), (where, block)
