"""The PyTorch reference for `python -m ganjax.bench --reference=torch`: the same networks and the same
train step (one D update, one G update, Adam; or one VAE update), built from the same config and timed
in the same process. Optional: PyTorch is never a dependency of ganjax or its tests."""

from __future__ import annotations

import math
import statistics
import time


def _dcgan(torch, nn, c, shape):
  size, _, channels = shape
  n = int(round(math.log2(size / 4)))
  w, top = c.model.width, c.model.width * 2**(n - 1)

  class G(nn.Module):
    def __init__(self):
      super().__init__()
      self.fc = nn.Linear(c.model.latent_dim, 16 * top)
      self.bn = nn.BatchNorm2d(top, momentum=0.1)
      layers = []
      for i in range(n - 1):
        cin, cout = w * 2**(n - 1 - i), w * 2**(n - 2 - i)
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]
      layers += [nn.ConvTranspose2d(w, channels, 4, 2, 1), nn.Tanh()]
      self.net = nn.Sequential(*layers)

    def forward(self, z):
      return self.net(torch.relu(self.bn(self.fc(z).view(-1, top, 4, 4))))

  layers = []
  for i in range(n):
    layers += [nn.Conv2d(channels if i == 0 else w * 2**(i - 1), w * 2**i, 4, 2, 1)]
    layers += ([nn.BatchNorm2d(w * 2**i)] if i > 0 else []) + [nn.LeakyReLU(0.2)]
  d = nn.Sequential(*layers, nn.Flatten(), nn.Linear(top * 16, 1))
  return G(), d


def _resnet(torch, nn, c, shape):
  """`ganjax.networks.resnet` in PyTorch (spectral norm on D's weights when the config asks)."""
  size, _, channels = shape
  n = int(round(math.log2(size / 4)))
  w, top = c.model.width, c.model.width * 2**(n - 1)
  sn = nn.utils.parametrizations.spectral_norm if c.gan.spectral_norm else (lambda m: m)
  up = nn.Upsample(scale_factor=2, mode="nearest")

  class Up(nn.Module):
    def __init__(self, cin, cout):
      super().__init__()
      self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), up, nn.Conv2d(cin, cout, 3, 1, 1),
                                nn.BatchNorm2d(cout), nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1))
      self.short = nn.Sequential(up, nn.Conv2d(cin, cout, 1))

    def forward(self, x):
      return self.body(x) + self.short(x)

  class Down(nn.Module):
    def __init__(self, cin, cout, first):
      super().__init__()
      pool = nn.AvgPool2d(2)
      self.body = nn.Sequential(*([] if first else [nn.ReLU()]), sn(nn.Conv2d(cin, cout, 3, 1, 1)), nn.ReLU(),
                                sn(nn.Conv2d(cout, cout, 3, 1, 1)), pool)
      self.short = (nn.Sequential(pool, sn(nn.Conv2d(cin, cout, 1))) if first
                    else nn.Sequential(sn(nn.Conv2d(cin, cout, 1)), pool))

    def forward(self, x):
      return self.body(x) + self.short(x)

  class G(nn.Module):
    def __init__(self):
      super().__init__()
      self.fc = nn.Linear(c.model.latent_dim, 16 * top)
      blocks, cin = [], top
      for i in range(n):
        cout = w * max(2**(n - 2 - i), 1)
        blocks.append(Up(cin, cout))
        cin = cout
      self.net = nn.Sequential(*blocks, nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z):
      return self.net(self.fc(z).view(-1, top, 4, 4))

  class D(nn.Module):
    def __init__(self):
      super().__init__()
      blocks, cin = [], channels
      for i in range(n):
        cout = w * min(2**i, 16)
        blocks.append(Down(cin, cout, i == 0))
        cin = cout
      self.net = nn.Sequential(*blocks, nn.ReLU())
      self.fc = sn(nn.Linear(cin, 1))

    def forward(self, x):
      return self.fc(self.net(x).sum((2, 3)))

  return G(), D()


def _infogan(torch, nn, c, shape):
  """`ganjax.networks.infogan` in PyTorch: G, D's trunk, D's head and Q's head."""
  h, w_, ch = shape
  w, fc = c.model.width, c.model.fc_width
  codes = c.info.categories + c.info.continuous
  q_out = c.info.categories + (2 if c.info.continuous_variance == "learned" else 1) * c.info.continuous
  seed = (h // 4, w_ // 4)
  leak = float(c.model.leak)

  class G(nn.Module):
    def __init__(self):
      super().__init__()
      self.fc = nn.Sequential(nn.Linear(c.model.latent_dim + codes, fc), nn.BatchNorm1d(fc), nn.ReLU(),
                              nn.Linear(fc, seed[0] * seed[1] * 2 * w), nn.BatchNorm1d(seed[0] * seed[1] * 2 * w),
                              nn.ReLU())
      self.up = nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
                              nn.ConvTranspose2d(w, ch, 4, 2, 1), nn.Tanh())

    def forward(self, z):
      return self.up(self.fc(z).view(-1, 2 * w, *seed))

  trunk = nn.Sequential(nn.Conv2d(ch, w, 4, 2, 1), nn.LeakyReLU(leak), nn.Conv2d(w, 2 * w, 4, 2, 1),
                        nn.BatchNorm2d(2 * w), nn.LeakyReLU(leak), nn.Flatten(),
                        nn.Linear(2 * w * seed[0] * seed[1], fc), nn.BatchNorm1d(fc), nn.LeakyReLU(leak))
  q = nn.Sequential(nn.Linear(fc, fc // 8), nn.BatchNorm1d(fc // 8), nn.LeakyReLU(leak), nn.Linear(fc // 8, q_out))
  return G(), trunk, nn.Linear(fc, 1), q


def _flax_init(torch, nn, module):
  """ganjax's (flax's) initialisation: lecun_normal (truncated normal, variance 1/fan_in) kernels,
  zero biases; batch norm's scale 1 and offset 0 (PyTorch's default too)."""
  for m in module.modules():
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
      w = m.weight
      if isinstance(m, nn.ConvTranspose2d):  # (in, out, kh, kw): flax's fan_in is kh * kw * in
        fan_in = w.shape[0] * w.shape[2] * w.shape[3]
      else:
        fan_in = math.prod(w.shape[1:])
      std = 1.0 / math.sqrt(fan_in) / 0.87962566103423978  # the truncated normal's correction
      with torch.no_grad():
        nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std)
        if m.bias is not None:
          m.bias.zero_()


def _normal_init(torch, nn, module):
  """The authors' code's initialisation (openai/InfoGAN, custom_ops.py): kernels ~ N(0, 0.02^2) (the
  convolutions' truncated at 2 std), zero biases, batch-norm scales ~ N(1, 0.02^2)."""
  for m in module.modules():
    with torch.no_grad():
      if isinstance(m, nn.Conv2d):
        nn.init.trunc_normal_(m.weight, std=0.02, a=-0.04, b=0.04)
      elif isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, std=0.02)
      elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
      if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and m.bias is not None:
        m.bias.zero_()


def init_weights(torch, nn, module, scheme: str):
  """Re-initialises `module` in place: "torch" (PyTorch's defaults: kept), "flax" (`_flax_init`) or
  "normal" (`_normal_init`, the authors' InfoGAN code)."""
  if scheme == "flax":
    _flax_init(torch, nn, module)
  elif scheme == "normal":
    _normal_init(torch, nn, module)
  elif scheme != "torch":
    raise ValueError(f"unknown initialisation {scheme!r}: torch, flax or normal")


def infogan_trainer(torch, nn, c, shape, dev="cpu"):
  """A PyTorch InfoGAN of `c` (the networks of `_infogan`, Adam for each player as in c.optim):
  `.step(real)` is one update of D (with Q and the MI term where `info.q_step` says), of G, and with
  q_step="separate" the MI step; it returns (D's loss, G's loss). `.g`, `.trunk`, `.head`, `.q` are
  the modules (the bench times the step; launch/infogan_torch.py trains it on data)."""
  import types

  g, trunk, head, q = (m.to(dev) for m in _infogan(torch, nn, c, shape))
  k, nc, b = c.info.categories, c.info.continuous, c.batch_size

  def adam(params, o):
    return torch.optim.Adam(params, lr=o.lr, betas=(o.b1, o.b2), eps=o.eps)

  og, od, oq = adam(g.parameters(), c.optim.g), adam([*trunk.parameters(), *head.parameters()], c.optim.d), \
      adam(q.parameters(), c.optim.q)
  where = c.info.q_step  # which update the MI term is in (`ganjax.algorithms.infogan.Q_STEPS`)
  oi = adam([*g.parameters(), *trunk.parameters(), *q.parameters()], c.optim.info) if where == "separate" else None
  bce = nn.functional.binary_cross_entropy_with_logits
  ones, zeros = torch.ones(b, 1, device=dev), torch.zeros(b, 1, device=dev)

  def codes():
    cat = torch.randint(0, k, (b,), device=dev)
    cont = torch.rand(b, nc, device=dev) * 2 - 1
    uniform = c.model.latent_dist == "uniform"
    z = torch.rand(b, c.model.latent_dim, device=dev) * 2 - 1 if uniform else torch.randn(b, c.model.latent_dim, device=dev)
    return torch.cat([z, nn.functional.one_hot(cat, k).float(), cont], 1), cat, cont

  def mi(qo, cat, cont):  # infogan.mi_loss: unit or Q's own (log) variance for the continuous codes
    mu = qo[:, k:k + nc]
    log_var = qo[:, k + nc:k + 2 * nc] if c.info.continuous_variance == "learned" else torch.zeros_like(mu)
    nll = 0.5 * (log_var + (cont - mu)**2 * torch.exp(-log_var)).sum(1).mean()
    return c.info.lambda_cat * nn.functional.cross_entropy(qo[:, :k], cat) + c.info.lambda_cont * nll

  def step(real):
    z, cat, cont = codes()
    fake = g(z).detach()
    hf = trunk(fake)
    loss_d = bce(head(trunk(real)), ones) + bce(head(hf), zeros) + (mi(q(hf), cat, cont) if where == "d" else 0)
    od.zero_grad()
    oq.zero_grad()
    loss_d.backward()
    od.step()
    if where == "d":
      oq.step()
    z, cat, cont = codes()
    h = trunk(g(z))
    loss_g = bce(head(h), ones) + (0 if where == "separate" else mi(q(h), cat, cont))  # G descends it in d and g
    og.zero_grad()
    oq.zero_grad()
    loss_g.backward()
    og.step()
    if where == "g":
      oq.step()
    if where == "separate":
      z, cat, cont = codes()
      loss_i = mi(q(trunk(g(z))), cat, cont)
      oi.zero_grad()
      loss_i.backward()
      oi.step()
    return loss_d.detach(), loss_g.detach()

  return types.SimpleNamespace(g=g, trunk=trunk, head=head, q=q, step=step)


def _mlp_gan(nn, c, shape):
  dim = math.prod(shape)
  g_layers, width = [], c.model.latent_dim
  for h in c.model.g_hidden:
    g_layers += [nn.Linear(width, h), nn.ReLU()]
    width = h
  g = nn.Sequential(*g_layers, nn.Linear(width, dim), nn.Tanh())
  d_layers, width = [nn.Flatten()], dim
  for h in c.model.d_hidden:
    d_layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
    width = h
  return g, nn.Sequential(*d_layers, nn.Linear(width, 1))


def _patchgan(nn, c, cin, layers, norm):
  """`ganjax.networks.patchgan` in PyTorch (batch or instance norm)."""
  w, mods = c.model.width, []
  Norm = nn.BatchNorm2d if norm == "batch" else nn.InstanceNorm2d
  for i in range(layers + 1):
    cout = w * min(2**i, 8)
    mods += [nn.Conv2d(cin, cout, 4, 2 if i < layers else 1, 1)] + ([Norm(cout)] if i > 0 else []) + [nn.LeakyReLU(0.2)]
    cin = cout
  return nn.Sequential(*mods, nn.Conv2d(cin, 1, 4, 1, 1))


def _unet(torch, nn, c, size, cin, cout):
  """`ganjax.networks.unet` in PyTorch: 4x4 stride-2 encoder, transposed-conv decoder with skips."""
  n, w = int(round(math.log2(size))), c.model.width
  ch = [w * min(2**i, 8) for i in range(n)]

  class UNet(nn.Module):
    def __init__(self):
      super().__init__()
      self.down = nn.ModuleList(nn.Conv2d(cin if i == 0 else ch[i - 1], ch[i], 4, 2, 1) for i in range(n))
      self.dbn = nn.ModuleList(nn.BatchNorm2d(ch[i]) for i in range(1, n - 1))
      ups, prev = [], ch[-1]
      for j, o in enumerate(reversed(ch[:-1])):
        ups.append(nn.ConvTranspose2d(prev if j == 0 else 2 * prev, o, 4, 2, 1))
        prev = o
      self.up, self.ubn = nn.ModuleList(ups), nn.ModuleList(nn.BatchNorm2d(o) for o in reversed(ch[:-1]))
      self.out = nn.ConvTranspose2d(2 * prev, cout, 4, 2, 1)
      self.drop = nn.Dropout(0.5)

    def forward(self, x):
      skips, h = [], x
      for i, conv in enumerate(self.down):
        h = conv(h)
        if 0 < i < n - 1:
          h = self.dbn[i - 1](h)
        h = nn.functional.leaky_relu(h, 0.2) if i < n - 1 else torch.relu(h)
        skips.append(h)
      for j, (conv, bn) in enumerate(zip(self.up, self.ubn)):
        if j > 0:
          h = torch.cat([h, skips[n - 1 - j]], 1)
        h = bn(conv(h))
        h = torch.relu(self.drop(h) if j < c.pix2pix.dropout_layers else h)
      return torch.tanh(self.out(torch.cat([h, skips[0]], 1)))

  return UNet()


def _resnet_generator(torch, nn, c, ch_in, ch_out, blocks, downsamplings=2, edge=7, norm="instance"):
  """`ganjax.networks.resnet_generator` in PyTorch (reflection padding; CycleGAN's: instance norm, two
  down-samplings, 7x7 edges; SimGAN's refiner: none, 3x3 edges, batch norm)."""
  w = c.model.width
  Norm = {"instance": nn.InstanceNorm2d, "batch": nn.BatchNorm2d, "none": lambda k: nn.Identity()}[norm]

  class Block(nn.Module):
    def __init__(self, k):
      super().__init__()
      self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(k, k, 3), Norm(k), nn.ReLU(),
                                nn.ReflectionPad2d(1), nn.Conv2d(k, k, 3), Norm(k))

    def forward(self, x):
      return x + self.body(x)

  mods = [nn.ReflectionPad2d(edge // 2), nn.Conv2d(ch_in, w, edge), Norm(w), nn.ReLU()]
  for i in range(downsamplings):
    mods += [nn.Conv2d(w * 2**i, w * 2**(i + 1), 3, 2, 1), Norm(w * 2**(i + 1)), nn.ReLU()]
  mods += [Block(w * 2**downsamplings) for _ in range(blocks)]
  for i in reversed(range(downsamplings)):
    mods += [nn.ConvTranspose2d(w * 2**(i + 1), w * 2**i, 3, 2, 1, output_padding=1), Norm(w * 2**i), nn.ReLU()]
  mods += [nn.ReflectionPad2d(edge // 2), nn.Conv2d(w, ch_out, edge), nn.Tanh()]
  return nn.Sequential(*mods)


def _ganin(torch, nn, cin, size, outputs):
  """`ganjax.networks.adaptation.Extractor` + label `Head` (Ganin et al.'s MNIST network: 5x5 VALID
  convolutions 32, 48 with 2x2 max-pools, fully connected 100 - 100), and the domain head 100 - 1."""
  pad = 0 if size >= 16 else 2  # VALID, or SAME on small images (as `adaptation.padding`)
  features = nn.Sequential(nn.Conv2d(cin, 32, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                           nn.Conv2d(32, 48, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                           nn.Flatten())
  dim = features(torch.zeros(1, cin, size, size)).shape[1]
  head = lambda n: nn.Sequential(nn.Linear(dim, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),  # noqa: E731
                                 nn.Linear(100, n))
  return features, head(outputs), head(1)


def _patch_discriminator(nn, cin, w):
  """`ganjax.networks.adaptation.PatchDiscriminator` (SimGAN's local adversarial network)."""
  return nn.Sequential(nn.Conv2d(cin, w, 3, 2, 1), nn.ReLU(), nn.Conv2d(w, max(w * 2 // 3, 1), 3, 2, 1), nn.ReLU(),
                       nn.MaxPool2d(3, 1, 1), nn.Conv2d(max(w * 2 // 3, 1), max(w // 3, 1), 3, 1, 1), nn.ReLU(),
                       nn.Conv2d(max(w // 3, 1), max(w // 3, 1), 1), nn.ReLU(), nn.Conv2d(max(w // 3, 1), 1, 1))


def _seqgan(torch, nn, c, dev):
  """SeqGAN's adversarial step in PyTorch with ganjax's networks and sizes (`configs/seqgan.py`): an
  LSTM policy (nn.LSTMCell), the CNN discriminator with highway and dropout, B sequences drawn, N Monte
  Carlo completions of every prefix (the prefix teacher-forced through the cell, the rest drawn token
  by token: a Python loop over time, torch's natural form), D's probability as the reward, one
  REINFORCE update of G, then `seqgan.d_steps` D updates on fresh samples. Returns step()."""
  from ganjax.networks.sequence import SEQGAN_FILTERS

  m, p, b = c.model, c.seqgan, c.batch_size
  v, t_len, n_roll = m.vocab_size, m.seq_len, p.num_rollouts

  class Policy(nn.Module):
    def __init__(self):
      super().__init__()
      self.emb, self.cell, self.out = nn.Embedding(v, m.embed_dim), nn.LSTMCell(m.embed_dim, m.hidden), nn.Linear(m.hidden, v)

    def step(self, tok, state):
      h, cc = self.cell(self.emb(tok), state)
      return self.out(h), (h, cc)

  class Disc(nn.Module):
    def __init__(self):
      super().__init__()
      self.emb = nn.Embedding(v, m.d_embed_dim)
      windows = [(w, max(1, round(k * m.d_filter_scale))) for w, k in SEQGAN_FILTERS if w <= t_len]
      self.convs = nn.ModuleList([nn.Conv1d(m.d_embed_dim, k, w) for w, k in windows])
      width = sum(k for _, k in windows)
      self.transform, self.hidden = nn.Linear(width, width), nn.Linear(width, width)
      self.drop, self.logit = nn.Dropout(m.d_dropout), nn.Linear(width, 1)

    def forward(self, x):
      e = self.emb(x).transpose(1, 2)
      f = torch.cat([torch.relu(conv(e)).amax(2) for conv in self.convs], 1)
      gate = torch.sigmoid(self.transform(f))
      return self.logit(self.drop(gate * torch.relu(self.hidden(f)) + (1 - gate) * f))[:, 0]

  g, d = Policy().to(dev), Disc().to(dev)
  og = torch.optim.Adam(g.parameters(), lr=c.optim.g.lr)
  od = torch.optim.Adam(d.parameters(), lr=c.optim.d.lr)
  real = torch.randint(0, v, (b, t_len), device=dev)
  zeros = lambda n: (torch.zeros(n, m.hidden, device=dev), torch.zeros(n, m.hidden, device=dev))  # noqa: E731

  @torch.no_grad()
  def sample(n, prefix=None):
    toks, state, prev = [], zeros(n), torch.zeros(n, dtype=torch.long, device=dev)
    for i in range(t_len):
      if prefix is not None and i < prefix.shape[1]:  # teacher-force the given prefix
        _, state = g.step(prev, state)
        prev = prefix[:, i]
      else:
        logits, state = g.step(prev, state)
        prev = torch.multinomial(torch.softmax(logits, 1), 1)[:, 0]
      toks.append(prev)
    return torch.stack(toks, 1)

  def step():
    y = sample(b)
    d.eval()
    with torch.no_grad():
      q = [torch.sigmoid(d(sample(b * n_roll, y[:, :t].repeat(n_roll, 1)))).view(n_roll, b).mean(0) for t in range(1, t_len)]
      q = torch.stack(q + [torch.sigmoid(d(y))], 1)
    d.train()
    state, prev, logp = zeros(b), torch.zeros(b, dtype=torch.long, device=dev), []
    for i in range(t_len):
      logits, state = g.step(prev, state)
      logp.append(torch.log_softmax(logits, 1).gather(1, y[:, i:i + 1])[:, 0])
      prev = y[:, i]
    loss = -(torch.stack(logp, 1) * q).sum(1).mean()
    og.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(g.parameters(), c.optim.g.grad_clip)
    og.step()
    bce = nn.functional.binary_cross_entropy_with_logits
    for _ in range(p.d_steps):
      fake = sample(b)
      loss_d = (0.5 * (bce(d(real), torch.ones(b, device=dev)) + bce(d(fake), torch.zeros(b, device=dev)))
                + p.d_l2 * 0.5 * (d.logit.weight.square().sum() + d.logit.bias.square().sum()))
      od.zero_grad()
      loss_d.backward()
      od.step()

  return step


def reference(config, example_shape, steps: int = 10, repeats: int = 5, warmup: int = 3,
              device: str = "cpu") -> dict:
  """Times the PyTorch step on `device` ("cpu" or "cuda"; eager mode, cuDNN autotuning on). With
  config.dtype = bfloat16 the networks run under torch.autocast(bfloat16), parameters and Adam's state
  in float32 — the same split as ganjax's `dtype` option."""
  import contextlib

  import torch
  from torch import nn

  c, b = config, config.batch_size
  shape = tuple(example_shape)
  torch.backends.cudnn.benchmark = True
  dev = torch.device(device)
  if c.algorithm == "vae":
    dim = math.prod(shape)
    hid, lat = c.model.e_hidden[0], c.model.latent_dim
    enc = nn.Sequential(nn.Flatten(), nn.Linear(dim, hid), nn.ReLU(), nn.Linear(hid, 2 * lat))
    dec = nn.Sequential(nn.Linear(lat, c.model.g_hidden[0]), nn.ReLU(), nn.Linear(c.model.g_hidden[0], dim))
    enc, dec = enc.to(dev), dec.to(dev)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    x = torch.rand(b, dim, device=dev)

    def step():
      target = torch.bernoulli(x)
      mean, logvar = enc(target).chunk(2, dim=1)
      z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
      rec = -nn.functional.binary_cross_entropy_with_logits(dec(z), target, reduction="none").sum(1)
      kl = 0.5 * (logvar.exp() + mean**2 - 1 - logvar).sum(1)
      loss = -(rec - kl).mean()
      opt.zero_grad()
      loss.backward()
      opt.step()
  elif c.algorithm == "infogan":
    trainer = infogan_trainer(torch, nn, c, shape, dev)
    real = torch.rand(b, shape[2], shape[0], shape[1], device=dev) * 2 - 1

    def step():
      trainer.step(real)
  elif c.algorithm == "pix2pix":  # example_shape is B's; A is taken to have B's size (edges: 1 channel)
    size, _, cb = shape
    ca = 1
    g = _unet(torch, nn, c, size, ca, cb).to(dev)
    d = _patchgan(nn, c, ca + cb, c.pix2pix.patch_layers, "batch").to(dev)
    og = torch.optim.Adam(g.parameters(), lr=c.optim.g.lr, betas=(c.optim.g.b1, c.optim.g.b2))
    od = torch.optim.Adam(d.parameters(), lr=c.optim.d.lr, betas=(c.optim.d.b1, c.optim.d.b2))
    bce = nn.functional.binary_cross_entropy_with_logits
    x = torch.rand(b, ca, size, size, device=dev) * 2 - 1
    y = torch.rand(b, cb, size, size, device=dev) * 2 - 1

    def step():
      fake = g(x)
      real_out, fake_out = d(torch.cat([x, y], 1)), d(torch.cat([x, fake.detach()], 1))
      loss_d = 0.5 * (bce(real_out, torch.ones_like(real_out)) + bce(fake_out, torch.zeros_like(fake_out)))
      od.zero_grad()
      loss_d.backward()
      od.step()
      out = d(torch.cat([x, fake], 1))
      loss_g = bce(out, torch.ones_like(out)) + c.pix2pix.l1_weight * (fake - y).abs().mean()
      og.zero_grad()
      loss_g.backward()
      og.step()
  elif c.algorithm == "seqgan":
    step = _seqgan(torch, nn, c, dev)
  elif c.algorithm == "cyclegan":  # both domains with example_shape's size and channels
    size, _, ch = shape
    gens = [_resnet_generator(torch, nn, c, ch, ch, c.cyclegan.blocks).to(dev) for _ in range(2)]
    dis = [_patchgan(nn, c, ch, c.cyclegan.patch_layers, "instance").to(dev) for _ in range(2)]
    og = torch.optim.Adam([p for m in gens for p in m.parameters()], lr=c.optim.g.lr, betas=(c.optim.g.b1, c.optim.g.b2))
    od = torch.optim.Adam([p for m in dis for p in m.parameters()], lr=c.optim.d_a.lr,
                          betas=(c.optim.d_a.b1, c.optim.d_a.b2))
    a = torch.rand(b, ch, size, size, device=dev) * 2 - 1
    bb = torch.rand(b, ch, size, size, device=dev) * 2 - 1
    (gab, gba), (d_b, d_a) = gens, dis
    lam, idt = c.cyclegan.cycle_weight, c.cyclegan.identity_weight

    def step():
      fb, fa = gab(a), gba(bb)
      loss_g = ((d_b(fb) - 1) ** 2).mean() + ((d_a(fa) - 1) ** 2).mean() + lam * (
          (gba(fb) - a).abs().mean() + (gab(fa) - bb).abs().mean() + idt * ((gab(bb) - bb).abs().mean() + (gba(a) - a).abs().mean()))
      og.zero_grad()
      loss_g.backward()
      og.step()
      loss_d = 0.5 * (((d_b(bb) - 1) ** 2).mean() + (d_b(fb.detach()) ** 2).mean()) + \
          0.5 * (((d_a(a) - 1) ** 2).mean() + (d_a(fa.detach()) ** 2).mean())
      od.zero_grad()
      loss_d.backward()
      od.step()
  elif c.algorithm == "dann":  # Ganin et al.'s step: source labels + both domains through the reversal
    size, _, ch = shape
    features, label, domain = (m.to(dev) for m in _ganin(torch, nn, ch, size, c.model.num_classes))
    params = [p for m in (features, label, domain) for p in m.parameters()]
    opt = torch.optim.SGD(params, lr=c.optim.f.lr, momentum=0.9)

    class Reverse(torch.autograd.Function):
      @staticmethod
      def forward(ctx, x):
        return x.view_as(x)

      @staticmethod
      def backward(ctx, g):
        return -g  # (lambda_p = 1: the same work)

    xs, xt = (torch.rand(b, ch, size, size, device=dev) * 2 - 1 for _ in range(2))
    ys = torch.randint(0, c.model.num_classes, (b,), device=dev)
    dom = torch.cat([torch.zeros(b), torch.ones(b)]).to(dev)

    def step():
      h = features(torch.cat([xs, xt]))
      loss = nn.functional.cross_entropy(label(h[:b]), ys) + nn.functional.binary_cross_entropy_with_logits(
          domain(Reverse.apply(h))[:, 0], dom)
      opt.zero_grad()
      loss.backward()
      opt.step()
  elif c.algorithm == "simgan":  # K_g refiner updates, one patch-D update (half of its batch from a history), T
    size, _, ch = shape
    s = c.simgan
    r = _resnet_generator(torch, nn, c, ch, ch, s.blocks, downsamplings=0, edge=3, norm=s.norm).to(dev)
    d = _patch_discriminator(nn, ch, s.d_width).to(dev)
    t = nn.Sequential(*_ganin(torch, nn, ch, size, c.model.num_classes)[:2]).to(dev)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in (r, d, t)]
    x, real = (torch.rand(b, ch, size, size, device=dev) * 2 - 1 for _ in range(2))
    y = torch.randint(0, c.model.num_classes, (b,), device=dev)
    history = torch.zeros(c.gan.replay_size, ch, size, size, device=dev)
    bce = nn.functional.binary_cross_entropy_with_logits
    patch = lambda out, v: bce(out, torch.full_like(out, v), reduction="none").sum((1, 2, 3)).mean()  # noqa: E731

    def step():
      for _ in range(s.refiner_steps):
        refined = r(x)
        loss = patch(d(refined), 0.0) + s.self_reg * (refined - x).abs().sum((1, 2, 3)).mean()
        opts[0].zero_grad()
        loss.backward()
        opts[0].step()
      refined = refined.detach()
      idx = torch.randint(0, len(history), (b // 2,), device=dev)
      fakes = torch.cat([refined[: b - b // 2], history[idx]])
      history[idx] = refined[b - b // 2:]
      loss = patch(d(fakes), 1.0) + patch(d(real), 0.0)
      opts[1].zero_grad()
      loss.backward()
      opts[1].step()
      loss = nn.functional.cross_entropy(t(refined), y)
      opts[2].zero_grad()
      loss.backward()
      opts[2].step()
  else:
    if c.model.generator in ("dcgan", "resnet"):
      g, d = (_dcgan if c.model.generator == "dcgan" else _resnet)(torch, nn, c, shape)
      real = torch.rand(b, shape[2], shape[0], shape[1], device=dev) * 2 - 1
    else:
      g, d = _mlp_gan(nn, c, shape)
      real = torch.rand(b, math.prod(shape), device=dev) * 2 - 1
    g, d = g.to(dev), d.to(dev)
    og = torch.optim.Adam(g.parameters(), lr=c.optim.g.lr, betas=(c.optim.g.b1, c.optim.g.b2))
    od = torch.optim.Adam(d.parameters(), lr=c.optim.d.lr, betas=(c.optim.d.b1, c.optim.d.b2))
    bce = nn.functional.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(b, 1, device=dev), torch.zeros(b, 1, device=dev)

    def step():
      for _ in range(c.gan.d_steps):
        fake = g(torch.randn(b, c.model.latent_dim, device=dev)).detach()
        loss_d = bce(d(real), ones) + bce(d(fake), zeros)
        od.zero_grad()
        loss_d.backward()
        od.step()
      loss_g = bce(d(g(torch.randn(b, c.model.latent_dim, device=dev))), ones)
      og.zero_grad()
      loss_g.backward()
      og.step()

  bf16 = c.dtype == "bfloat16"
  autocast = (torch.autocast(device_type=device, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext())
  sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
  with autocast:
    for _ in range(warmup):
      step()
    sync()
    times = []
    for _ in range(repeats):
      t0 = time.perf_counter()
      for _ in range(steps):
        step()
      sync()
      times.append((time.perf_counter() - t0) / steps)
  sec = statistics.median(times)
  return {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(), "torch_device": device,
          "torch_autocast": "bfloat16" if bf16 else "none",
          "torch_ms_per_step": round(sec * 1e3, 2), "torch_images_per_s": round(b / sec, 1)}
