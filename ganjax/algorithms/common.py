"""Small helpers the method modules share (never a train step: methods do not share steps)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from ganjax import networks
from ganjax import state as state_lib
from ganjax.errors import ConfigError, choose
from ganjax.networks.infogan import PIXEL_RANGES


def sample_latent(key, n: int, model_cfg):
  """The prior p(z): `model.latent_dist` is "normal" (N(0, I)) or "uniform" (U[-1, 1])."""
  dist = choose("latent_dist", model_cfg.latent_dist, {"normal": 0, "uniform": 1})
  shape = (n, model_cfg.latent_dim)
  if dist == 0:
    return jax.random.normal(key, shape)
  return jax.random.uniform(key, shape, minval=-1.0, maxval=1.0)


def compute_dtype(config):
  """`config.dtype`: the networks' computation dtype. Parameters, optimizer states, losses and
  batch-norm statistics stay float32; bfloat16 needs no loss scaling. float64 (under
  `jax.enable_x64`) is for finite-difference gradient checks."""
  return choose("dtype", config.dtype,
                {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16, "float64": jnp.float64})


def generator_network(config, sample_shape, output_activation=None):
  """The generator `config.model` names, for samples of `sample_shape` (output `model.g_output`
  unless `output_activation` is given, e.g. "none" for logits); with virtual batch norm when
  `gan.g_virtual_batch_norm` > 0 (DCGAN generator)."""
  m = config.model
  kw = ({"width": m.width, "conv_impl": m.conv_impl} if m.generator == "dcgan" else
        {"width": m.width, "conv_impl": m.conv_impl, "fc_width": m.fc_width,
         **infogan_network_options(m, leak=False, pixels=True)}
        if m.generator == "infogan"
        else {"width": m.width} if m.generator == "resnet" else {"hidden": tuple(m.g_hidden)})
  if m.generator == "salimans":  # model.weight_init: its hidden layers' (glorot, the code's | lecun)
    kw.update(pixel_options(m), hidden_init=m.weight_init)
  if m.g_batch_norm:  # BiGAN's MNIST generator: batch norm in the MLP's hidden layers
    if m.generator != "mlp":
      raise ConfigError(f"model.g_batch_norm is the MLP generator's option; model.generator={m.generator!r} "
                        "has its own normalisation")
    kw["batch_norm"] = True
  if "gan" in config and config.gan.g_virtual_batch_norm:
    kw["virtual_batch_norm"] = config.gan.g_virtual_batch_norm
  return networks.generator(m.generator, out_shape=tuple(sample_shape), dtype=compute_dtype(config),
                            output_activation=output_activation or m.g_output, **kw)


def infogan_network_options(m, leak: bool = True, pixels: bool = False) -> dict:
  """`model.weight_init`, `model.leak` and (`pixels`: G and D) `model.pixel_range` for the `infogan`
  networks (`ganjax.networks.infogan.INITS`; the leaky ReLUs' slope; "signed" or "unit" pixels inside
  the networks, `ganjax.networks.infogan.PIXEL_RANGES`), where the config sets them (InfoGAN's do)."""
  out = {"weight_init": m.weight_init}
  if leak:
    out["leak"] = float(m.leak)
  if pixels:
    out.update(pixel_options(m))
  return out


def pixel_options(m) -> dict:
  """`model.pixel_range` for networks that can hold their authors' [0, 1] pixels inside (InfoGAN's,
  Salimans et al.'s): {"unit_pixels": True} for "unit" (G's sigmoid, D reading (x + 1) / 2; the
  pipeline stays [-1, 1] outside them), False for "signed" (`ganjax.networks.infogan.PIXEL_RANGES`)."""
  name = m.pixel_range
  choose("model.pixel_range", name, PIXEL_RANGES)
  return {"unit_pixels": name == "unit"}


def discriminator_network(config, **kw):
  """The discriminator `config.model` names (kw: num_outputs, ...), with
  the layers of the `gan` block (spectral norm, minibatch discrimination, virtual batch norm)."""
  m = config.model
  if m.discriminator == "dcgan":
    kw = {"width": m.width, "batch_norm": m.d_batch_norm, "conv_impl": m.conv_impl, **kw}
  elif m.discriminator == "infogan":
    kw = {"width": m.width, "fc_width": m.fc_width, "conv_impl": m.conv_impl, **infogan_network_options(m, pixels=True),
          **kw}
  elif m.discriminator == "resnet":
    kw = {"width": m.width, **kw}
  else:
    kw = {"hidden": tuple(m.d_hidden), **(pixel_options(m) if m.discriminator == "salimans" else {}), **kw}
  if "gan" in config:
    g = config.gan
    for field, value in (("spectral_norm", bool(g.spectral_norm)), ("minibatch_features", tuple(g.minibatch_features)),
                         ("d_virtual_batch_norm", int(g.d_virtual_batch_norm))):
      if value:
        kw["virtual_batch_norm" if field == "d_virtual_batch_norm" else field] = value
  return networks.discriminator(m.discriminator, dtype=compute_dtype(config), **kw)


def one_hot_latent(z, labels, num_classes: int):
  """[z, one_hot(labels)]: a conditional generator's input."""
  return jnp.concatenate([z, jax.nn.one_hot(labels, num_classes, dtype=z.dtype)], axis=-1)


@functools.partial(jax.jit, static_argnums=0)
def _init_variables(module, key, *example_inputs):
  # one compiled program (inlined where the caller is itself jitted, as the loop's init is): called
  # op by op, a network's first init would compile each primitive on its own
  return module.init(key, *example_inputs, train=False)


def init_player(config, name: str, module, key, *example_inputs, init_data=None):
  """A `Player` of `module`, initialised on `example_inputs`, with the optimizer `config.optim.<name>`;
  given `init_data` (real samples), a module with a data-dependent initialisation (`data_init`,
  weight normalisation's) then sets its scales and biases from them."""
  variables = _init_variables(module, key, *example_inputs)
  if init_data is not None and hasattr(module, "data_init"):
    variables = module.data_init(variables, init_data, key=jax.random.fold_in(key, 1))
  return state_lib.Player.create(module, state_lib.optimizer(config.optim[name], config.num_steps), variables)


def select(flag, new, old):
  """`new` where the traced boolean `flag` holds, else `old` (a player, any pytree): an update that
  only some phases of training take (pretraining, Algorithm 1's schedules)."""
  return jax.tree.map(lambda a, b: jnp.where(flag, a, b), new, old)


def micro_batches(x, k: int):
  """(B*k, ...) -> (B, k, ...): `k` consecutive rows per example, so the `data` sharding of the
  leading axis is kept and `x[:, i]` is the i-th micro-batch (one per critic step)."""
  return x.reshape((x.shape[0] // k, k, *x.shape[1:])) if k > 1 else x[:, None]


def domain(rows: dict, side: str):
  """Domain `side`'s ("a" or "b") images of a stream's rows: its `side` key (paired data, one side
  of CycleGAN's layout) or, for single-domain data, its "image" key (digits, ring8, ...)."""
  return rows[side] if side in rows else rows["image"]


def grad_norm(grads):
  return optax.tree.norm(grads)


def to_unit(x):
  """[-1, 1] images -> [0, 1]."""
  return (x + 1.0) * 0.5


def mean_prob(logits):
  return jnp.mean(jax.nn.sigmoid(logits))
