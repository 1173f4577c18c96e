"""The shared base every `configs/*.py` derives from. Every field a run reads is declared with its
default: the shared ones here, a method's own in its block (`config.<method>`) in its config file."""

import ml_collections

from ganjax.errors import ConfigError


def optimizer(name: str, lr: float, **fields):
  """One player's `config.optim.<player>` (`ganjax.state.optimizer`): every field an optimizer or
  schedule reads, with its default, then `fields` over them."""
  o = ml_collections.ConfigDict()
  o.name = name  # adam | rmsprop | sgd
  o.lr = lr  # the base rate the schedules below scale
  o.b1 = 0.9  # adam's first-moment decay
  o.b2 = 0.999  # adam's second-moment decay
  o.eps = 1e-8  # adam: m / (sqrt(v + eps_root) + eps); rmsprop: g / sqrt(v + eps)
  o.eps_root = 0.0  # adam
  o.decay = 0.99  # rmsprop's decay of the squared-gradient average
  o.momentum = 0.0  # sgd's momentum (0: none)
  o.grad_clip = 0.0  # > 0: clip the gradient's norm to this ...
  o.grad_clip_by = "global"  # ... over all tensors together (global) or each tensor on its own (tensor)
  o.weight_decay = 0.0  # > 0: L2 on weight matrices and kernels, added to the gradient before the optimizer
  o.lr_decay_start = 1.0  # < 1: constant lr for that fraction of num_steps, then linearly to 0
  o.lr_decay_rate = 0.0  # > 0: lr * rate^floor(update / lr_decay_steps) (TF's staircase exponential_decay) ...
  o.lr_decay_steps = 0  # ... with this many updates between drops
  o.anneal_alpha = 0.0  # > 0: lr / (1 + alpha p)^anneal_beta, p the fraction of num_steps done (DANN's annealing) ...
  o.anneal_beta = 0.75  # ... with this exponent
  for field, value in fields.items():
    if field not in o:
      raise ConfigError(f"unknown optimizer field {field!r}; valid: {', '.join(o)}")
    o[field] = value
  return o


def complete_optimizer(block):
  """`block` with the declared default of each field it lacks: a block written by hand, or one saved by
  a run before the field existed (the saved-config merge completes only the base's optim.g and optim.d)."""
  return ml_collections.ConfigDict({**optimizer(block["name"], block["lr"]), **dict(block.items())})


def adam(lr, b1=0.9, b2=0.999):
  return optimizer("adam", lr, b1=b1, b2=b2)


def argument(config_file: str, arg, valid=()):
  """`get_config(arg)`'s argument: None (also for "") or one of `valid`; any other is one ConfigError
  line naming the valid ones."""
  if arg in (None, ""):
    return None
  if arg not in valid:
    raise ConfigError(f"unknown configs/{config_file} argument {arg!r}; valid: " + ", ".join(("(no argument)", *valid)))
  return arg


# What only the loop, evaluation and sampling read: left out of the config a train state carries
# (`ganjax.state.frozen`), so that runs differing only in these share their compiled programs.
LOOP_FIELDS = ("log_every", "sample_every", "checkpoint_every", "eval_every", "eval_start", "keep_checkpoints", "progress",
               "compilation_cache", "eval", "sample")


def get_config():
  c = ml_collections.ConfigDict()
  c.algorithm = "gan"  # ganjax.algorithms.ALGORITHMS (gan | cgan | vae | ...), a module (pkg.my_gan) or a .py file
  c.seed = 0  # one seed for init, data order and every step's randomness
  c.batch_size = 64  # global: split over every device of every process
  c.num_steps = 10_000
  c.log_every = 100  # steps between metrics.jsonl / TensorBoard rows (metrics are averaged over them)
  c.sample_every = 1000  # steps between sample grids in workdir/samples (0: never)
  c.checkpoint_every = 1000
  c.eval_every = 0  # steps between evaluations (eval.json, eval/* metrics); 0: only at the end; -1: never
  c.eval_start = 0  # periodic evaluations only from this step on (e.g. a curve over the adversarial phase only)
  c.keep_checkpoints = 3
  c.progress = True  # the progress bar
  c.compilation_cache = "~/.cache/ganjax/xla"  # persistent XLA compilation cache ("" to disable)
  c.dtype = "float32"  # networks' computation dtype: float32 | bfloat16 (params, optimizer, losses stay float32)
  c.cpu_ynn_convolutions = False  # CPU: let XLA hand convolutions to YNNPACK (its default; slower here, README Performance)

  c.data = ml_collections.ConfigDict()
  c.data.name = "digits"  # see ganjax.data: digits | ring8 | grid25 | idx:<dir> | folder:<dir> | mnist | ...
  # Named streams for methods that read several (CycleGAN's domains, DANN's source and target):
  # {stream: data name}, each shuffled and checkpointed on its own; batches are {stream: rows}.
  # Empty: the one stream `data.name`.
  c.data.streams = ml_collections.ConfigDict()
  c.data.holdouts = ml_collections.ConfigDict()  # {stream: data.holdout of that stream alone (0: data.holdout)}
  c.data.image_size = 0  # resize images to this square size (0: keep)
  c.data.channels = 0  # image files: each image to 1 (grey) or 3 (RGB) channels; 0: RGB if any is in colour, else grey
  c.data.mixture_std = 0.0  # ring8 / grid25: each mode's standard deviation (0: the paper's, ring8 0.02, grid25 0.05)
  c.data.crop = 0  # > 0: train on random crop x crop windows (held out: the centre one), after image_size
  c.data.flip = False  # random left-right mirroring of training images (pix2pix, CycleGAN)
  c.data.swap_sides = False  # paired data: exchange "a" and "b" (pix2pix's --direction BtoA)
  c.data.sr_factor = 4  # downsampled:<data>: the super-resolution factor (SRGAN's r)
  c.data.edge_sigma = 1.0  # edges:<data>: the Canny detector's Gaussian sigma (pixels)
  c.data.holdout = 0.0  # held-out examples for evaluation: a fraction (< 1) or a count; 0: the official test split where the data has one, else 0.2 (ganjax.data)
  c.data.cache_dir = ""  # where fetched datasets go ("" = $GANJAX_CACHE or ~/.cache/ganjax)
  c.data.mirrors = ()  # override the download mirrors of mnist / fashion_mnist
  c.data.tfds_dir = ""  # TFDS data_dir ("" = TFDS's default)
  c.data.eval_split = "test"  # TFDS split used for evaluation
  c.data.window = 64  # time series (signals, csv:<file>): window length in steps ...
  c.data.window_stride = 0  # ... and the step between window starts (0: window // 2)
  # token sequences (oracle, grammar, corpus:<path>; ganjax.data.sequences)
  c.data.vocab_size = 5000  # oracle: its vocabulary; corpus: the most frequent words kept (with the end symbol)
  c.data.seq_len = 20  # tokens per sequence (grammar, corpus: with room for the end symbol)
  c.data.num_sequences = 10_000  # oracle, grammar: training sequences generated (the oracle holds out a fifth more)
  c.data.vocabulary = ""  # corpus: a file of the allowed tokens, one per line (a word outside it is an error)

  c.model = ml_collections.ConfigDict()
  c.model.generator = "mlp"  # ganjax.networks.GENERATORS
  c.model.discriminator = "mlp"  # ganjax.networks.DISCRIMINATORS
  c.model.encoder = "mlp"  # ganjax.networks.ENCODERS
  c.model.latent_dim = 100
  c.model.latent_dist = "normal"  # normal | uniform (on [-1, 1])
  c.model.num_classes = 10  # label-aware methods (cgan, acgan, sgan, infogan's categories)
  c.model.g_output = "tanh"  # generator output: tanh (images in [-1, 1]) | none (unbounded, e.g. 2-D points)
  c.model.g_hidden = (256, 512)  # MLP widths
  c.model.g_batch_norm = False  # batch norm before each hidden ReLU of the MLP generator (BiGAN's MNIST G)
  c.model.d_hidden = (512, 256)
  c.model.e_hidden = (500,)
  c.model.width = 64  # DCGAN base channel count
  c.model.fc_width = 1024  # InfoGAN networks' fully connected layer
  c.model.d_batch_norm = True  # batch norm in the DCGAN discriminator (False for gradient penalties)
  c.model.conv_impl = "auto"  # DCGAN / InfoGAN 4x4 stride-2 convs: auto (sub-pixel on CPU, XLA's on GPU/TPU) | xla | subpixel
  c.model.weight_init = "lecun"  # infogan networks' init (networks.infogan.INITS) | salimans G's hidden layers': lecun | glorot
  c.model.leak = 0.1  # infogan networks' leaky-ReLU slope (the paper's; the authors' code: 0.01)
  c.model.pixel_range = "signed"  # infogan / salimans networks: signed ([-1, 1], tanh) | unit ([0, 1] and a sigmoid inside G and D)

  c.optim = ml_collections.ConfigDict()  # one `optimizer(...)` block per player
  c.optim.g = adam(2e-4, b1=0.5)
  c.optim.d = adam(2e-4, b1=0.5)

  c.eval = ml_collections.ConfigDict()
  c.eval.num_samples = 2000  # generated samples per evaluation (0: no sample metrics, only the method's own)
  c.eval.batch_size = 500
  c.eval.classifier_steps = 2000  # training steps of the metric classifier (cached per dataset)
  c.eval.cache_dir = ""  # classifier cache ("" = $GANJAX_CACHE or ~/.cache/ganjax)
  c.eval.inception_weights = ""  # an .npz of Inception-v3 FID weights (PyTorch names): adds inception_fid
  c.eval.kid_subsets = 100  # random subsets KID is averaged over
  c.eval.kid_subset_size = 0  # samples per KID subset; 0: 1,000 (torch-fidelity's), at most half the smaller set
  c.eval.features = "auto"  # feature space of fid/kid/precision/...: auto (classifier if labelled, else self) |
  #                           classifier | self (SimCLR encoder trained on the images, no labels) | inception
  c.eval.bleu_samples = 500  # token text: generated sentences scored by BLEU and self-BLEU (ganjax.metrics.sequences)
  c.eval.bleu_references = 2000  # ... against at most this many held-out sentences
  c.eval.self_features_steps = 1000  # training steps of the self-supervised feature encoder (cached per dataset)

  c.sample = ml_collections.ConfigDict()
  c.sample.num = 64
  c.sample.interpolation_rows = 8
  c.sample.interpolation_steps = 10
  c.sample.arithmetic = ""  # "A,B,C": --mode=sample also writes arithmetic.png, mean z of A - B + C (labelled data)

  c.mesh = ml_collections.ConfigDict()
  c.mesh.num_devices = 0  # 0: every device of every process
  return c


def adversarial_block():
  """`config.gan`: the adversarial objective and the stabilizers (`ganjax.stabilizers`), in every
  config of an adversarial method and in no other (a VAE config has no `gan` block)."""
  g = ml_collections.ConfigDict()
  g.loss = "non_saturating"  # ganjax.losses.GAN_LOSSES: non_saturating | minimax | least_squares | hinge | wasserstein | boundary_seeking
  g.d_steps = 1  # discriminator updates per generator update (n_critic), each on its own real micro-batch
  g.real_label = 1.0  # target for real samples in D's loss (< 1: one-sided label smoothing)
  g.penalty = "none"  # penalty on D: none | gradient (WGAN-GP) | r1 | dragan
  g.penalty_weight = 10.0  # its weight (lambda)
  g.clip = 0.0  # > 0: clip every D weight to [-clip, clip] after each update (WGAN)
  g.instance_noise = 0.0  # > 0: std of Gaussian noise on D's inputs, annealed linearly to 0 ...
  g.instance_noise_steps = 0  # ... over this many steps (0: over num_steps)
  g.ema_decay = 0.0  # > 0: sample and evaluate with an EMA of G's weights (e.g. 0.999)
  g.historical_averaging = 0.0  # > 0: weight of ||theta - mean past theta||^2 in each player's loss
  g.g_objective = "adversarial"  # adversarial (gan.loss) | feature_matching (Salimans et al. 2016)
  g.feature_matching_reduction = "sum"  # over the features: sum (the paper's squared norm) | mean (Salimans et al.'s code)
  g.replay_size = 0  # > 0: a replay memory of this many past generated samples (Shrivastava et al. 2017) ...
  g.replay_fraction = 0.5  # ... supplying this fraction of D's generated samples:
  g.replay_rows = "fixed"  # exactly round(fraction * batch) rows (SimGAN), or "random": each row with that
  #                          probability, swapped into its slot (CycleGAN's image pool, right at batch 1)
  g.spectral_norm = False  # spectral normalisation of every D weight (Miyato et al. 2018), one power iteration per update
  g.minibatch_features = ()  # (B, C): a minibatch-discrimination layer in D (Salimans et al. 2016); (B, C, G): within groups of G samples
  g.g_virtual_batch_norm = 0  # > 0: virtual batch norm in the DCGAN generator (Salimans et al. 2016, Sec. 3.4), this many reference latents
  g.d_virtual_batch_norm = 0  # > 0: the same in the DCGAN discriminator (an extension), this many reference images
  return g


def info_block(categories: int = 10, continuous: int = 2):
  """`config.info`: InfoGAN's latent codes and how its mutual-information term is trained
  (`ganjax.algorithms.infogan`). Q's optimizer is `config.optim.q`."""
  i = ml_collections.ConfigDict()
  i.categories = categories  # one categorical code with this many values
  i.continuous = continuous  # continuous codes ~ U[-1, 1]
  i.lambda_cat = 1.0  # lambda for the categorical part of L_I
  i.lambda_cont = 1.0  # lambda for the continuous part
  i.continuous_variance = "fixed"  # Q's Gaussian for the continuous codes: fixed (unit variance) | learned
  i.q_step = "d"  # which step Q descends the MI term in: d (with D's trunk, the authors' code) | g (with G; trunk D's alone)
  return i


def get_gan_config():
  """The base of every adversarial method: `get_config()` plus the `gan` block."""
  c = get_config()
  c.gan = adversarial_block()
  return c


def get_dcgan_config():
  """The adversarial base with DCGAN players at 32x32 (Radford et al. 2015): shared by dcgan, lsgan, wgan, wgan_gp."""
  c = get_gan_config()
  c.algorithm = "gan"
  c.num_steps = 5000
  c.data.image_size = 32
  c.model.generator = c.model.discriminator = "dcgan"
  c.model.width = 64
  c.model.latent_dim = 100
  return c


def sequence_model(c, d_filter_scale: float = 1.0):
  """The `model` fields of the token-sequence methods (`ganjax.algorithms.sequences`): the LSTM
  generator (embedding and hidden size) and SeqGAN's CNN discriminator (embedding, filter counts
  times `d_filter_scale`, dropout). vocab_size and seq_len are filled in from the data."""
  c.model.vocab_size = 0  # from the data (its vocabulary)
  c.model.seq_len = 0  # from the data; set it to refuse longer sequences
  c.model.embed_dim = 32
  c.model.hidden = 32
  c.model.d_embed_dim = 64
  c.model.d_filter_scale = d_filter_scale  # SeqGAN's 1,720 filters times this
  c.model.d_dropout = 0.25  # SeqGAN's keep probability 0.75
  c.model.d_classes = 1  # the CNN's output layer: 1 logit, or 2 (SeqGAN's released two-class softmax)
  c.model.discriminator = "cnn"  # cnn (SeqGAN's, TextGAN's) | lstm (Kusner et al.'s)
  c.model.d_hidden_lstm = 64  # the LSTM discriminator's hidden size
  c.model.latent_dim = 0  # > 0: G(z), z ~ N(0, I) mapped to the LSTM's initial state (GSGAN, TextGAN, BGAN)


def sequence_mle_baseline(c):
  """Turns a sequence method's config into its baseline: an MLE LSTM of the same generator size on
  the same data (`seqgan` with MLE for every step; no latent code)."""
  c.algorithm = "seqgan"
  c.model.latent_dim = 0
  c.model.discriminator = "cnn"
  c.optim.g = adam(c.optim.g.lr)
  c.optim.g.grad_clip = 5.0
  c.seqgan = ml_collections.ConfigDict()
  c.seqgan.pretrain_g_steps = c.num_steps  # MLE for every step
  c.seqgan.pretrain_d_steps = 0
  c.seqgan.num_rollouts = 1
  c.seqgan.d_steps = 1
  c.seqgan.d_l2 = 0.0
  c.seqgan.adversarial_optimizer = "fresh"  # (no adversarial phase: as configs/seqgan.py)
  c.seqgan.pg_reduction = "sum"


FORTUNES = "corpus:/usr/share/games/fortunes"  # Debian's `fortunes` package (apt-get install fortunes)


def corpus_data(c):
  """The data of the text configs (TextGAN, BGAN on tokens, their MLE baseline): offline, the
  grammar (generated from the seed); for the figures the fortunes (`FORTUNES`, with
  --config.data.name), sentences of 3-19 words among the 2,000 most frequent, end-padded to 20; the
  sequence model sizes (embedding 32, hidden 64, latent 32, SeqGAN's CNN with a quarter of its
  filters) and the training budget (batch 64, 1,500 steps, Adam 1e-3 for G with clipping 5, 1e-4 for D)."""
  c.data.name = "grammar"  # offline default, generated from the seed; the figures: FORTUNES (launch/sequences.sh)
  c.data.vocab_size, c.data.seq_len = 2000, 20  # corpus: the 2,000 most frequent words, 20 tokens
  sequence_model(c, d_filter_scale=0.25)
  c.model.hidden = 64
  c.model.latent_dim = 32
  c.batch_size = 64
  c.num_steps = 1500  # 1,000 of them MLE pre-training of G (the method's block)
  c.log_every = 100
  c.sample_every = 500
  c.checkpoint_every = 500
  c.eval.num_samples = 1000
  c.optim.g = adam(1e-3)
  c.optim.g.grad_clip = 5.0
  c.optim.d = adam(1e-4)


def domain_streams(c, source: str, target: str):
  """The two streams of a domain-adaptation method (`ganjax.algorithms.adaptation`), each with its own
  held-out count (0: data.holdout), so that e.g. --config.data.holdouts.target=2000 can be set."""
  c.data.streams = ml_collections.ConfigDict({"source": source, "target": target})
  c.data.holdouts = ml_collections.ConfigDict({"source": 0.0, "target": 0.0})


def mixture_settings(c, name: str):
  """The 2-D mixture benchmark (`ring8` | `grid25`) as Metz et al. 2016 / VEEGAN run it: MLP players
  of 128-128, 256-d latents, a linear output, batch 512, 25,000 steps, 2,500 evaluation samples."""
  c.data.name = name
  c.data.holdout = 0.1
  c.batch_size = 512
  c.num_steps = 25_000
  c.model.latent_dim = 256
  c.model.g_output = "none"  # the mixtures span [-4, 4]: a linear output layer
  c.model.g_hidden = (128, 128)
  c.model.d_hidden = (128, 128)
  c.optim.g.lr = c.optim.d.lr = 1e-4
  c.eval.num_samples = 2500  # as in VEEGAN's protocol
  c.sample.num = 2500
