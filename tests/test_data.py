import functools
import gzip
import hashlib
import http.server
import struct
import threading

import numpy as np
import pytest
from PIL import Image

from ganjax import data
from ganjax.data import builtin, fetch, folders, readers
from ganjax.data.base import from_arrays
from ganjax.errors import DataError


def cfg(name, **data_kw):
  from ganjax import base_config

  c = base_config.get_config()
  c.data.name, c.data.holdout = name, 0.2
  c.data.update(data_kw)
  return c


def write_idx(path, array, gz=False):
  array = np.asarray(array, np.uint8)
  header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
  payload = header + array.tobytes()
  (gzip.open if gz else open)(path, "wb").write(payload)


def test_digits_is_real_and_labelled():
  split = data.load(cfg("digits"))
  assert split.train.size + split.test.size == 1797
  b = split.train.get(np.arange(5))
  assert b["image"].shape == (5, 8, 8, 1) and b["image"].dtype == np.float32
  from sklearn.datasets import load_digits

  raw = load_digits()  # pixel values 0..16 -> [-1, 1]; the held-out 20% is the last examples
  np.testing.assert_allclose(b["image"][..., 0], raw.images[:5] / 16 * 2 - 1, atol=1e-6)
  np.testing.assert_array_equal(split.test.get(np.arange(3))["label"], raw.target[split.train.size:][:3])
  assert split.train.num_classes == 10


@pytest.mark.parametrize("name,modes", [("ring8", 8), ("grid25", 25)])
def test_mixtures_are_seeded_and_centred(name, modes):
  a = builtin.mixture(name, seed=1, size=5000)
  b = builtin.mixture(name, seed=1, size=5000)
  c = builtin.mixture(name, seed=2, size=5000)
  idx = np.arange(5000)
  np.testing.assert_array_equal(a.get(idx)["image"], b.get(idx)["image"])
  assert not np.array_equal(a.get(idx)["image"], c.get(idx)["image"])
  x, y = a.get(idx)["image"], a.get(idx)["label"]
  centers = builtin.mixture_centers(name)
  assert len(centers) == modes and len(np.unique(y)) == modes
  # each mode's standard deviation as the papers' code draws it: Metz et al.'s ring 0.02 (radius 2),
  # VEEGAN's grid 0.05 (modes 2 apart); data.mixture_std overrides it, and must not be negative
  assert (x - centers[y]).std() == pytest.approx({"ring8": 0.02, "grid25": 0.05}[name], rel=0.1)
  sharp = builtin.mixture(name, seed=1, size=5000, std=0.01).get(idx)["image"]
  assert (sharp - centers[y]).std() == pytest.approx(0.01, rel=0.1)
  with pytest.raises(DataError, match="mixture_std must be >= 0"):
    builtin.mixture(name, seed=1, std=-1.0)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip(tmp_path, gz):
  rng = np.random.default_rng(0)
  imgs = rng.integers(0, 256, (30, 28, 28))
  labels = rng.integers(0, 10, 30)
  suffix = ".gz" if gz else ""
  write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", imgs, gz)
  write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, gz)
  src = readers.idx(tmp_path)
  out = src.get(np.arange(30))
  np.testing.assert_allclose(out["image"][..., 0], imgs / 255 * 2 - 1, atol=1e-6)
  np.testing.assert_array_equal(out["label"], labels)


def test_idx_train_first_test_last(tmp_path):
  write_idx(tmp_path / "t10k-images-idx3-ubyte", np.full((4, 5, 5), 200))
  write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 5, 5)))
  x = readers.idx(tmp_path).get(np.arange(10))["image"]
  assert (x[:6] == -1).all() and (x[6:] > 0).all()


def test_idx_with_train_and_t10k_files_holds_out_exactly_the_t10k_files(tmp_path):
  from ganjax import base_config, data

  write_idx(tmp_path / "t10k-images-idx3-ubyte", np.full((20, 5, 5), 200))
  write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((50, 5, 5)))
  c = base_config.get_config()
  c.data.name = f"idx:{tmp_path}"
  split = data.load(c)  # the default holdout: the official test split, not 20% of all 70
  assert (split.train.size, split.test.size) == (50, 20)
  assert (split.test.get(np.arange(20))["image"] > 0).all() and (split.train.get(np.arange(50))["image"] == -1).all()
  c.data.holdout = 7  # an explicit holdout keeps the documented rule: the last examples
  assert data.load(c).test.size == 7
  (tmp_path / "train-images-idx3-ubyte").unlink()
  c.data.holdout = 0.0  # only t10k files: no official split inside them, so 20%
  assert data.load(c).test.size == 4


def test_idx_errors_name_the_file(tmp_path):
  bad = tmp_path / "train-images-idx3-ubyte"
  bad.write_bytes(b"\x01\x02\x03\x04junk")
  with pytest.raises(DataError, match="train-images-idx3-ubyte: not an IDX file"):
    readers.idx(tmp_path)
  write_idx(bad, np.zeros((3, 4, 4)))
  bad.write_bytes(bad.read_bytes()[:-5])
  with pytest.raises(DataError, match="payload"):
    readers.idx(tmp_path)
  write_idx(bad, np.zeros((3, 4, 4)))
  write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5))
  with pytest.raises(DataError, match="5 labels for 3 images"):
    readers.idx(tmp_path)
  with pytest.raises(DataError, match="no '\\*idx3\\*'"):
    readers.idx(tmp_path / "labels-only" if (tmp_path / "labels-only").mkdir() is None else None)


def test_folder_with_class_subfolders(tmp_path):
  for cls, value in (("cat", 10), ("dog", 200)):
    (tmp_path / cls).mkdir()
    for i in range(3):
      Image.fromarray(np.full((6, 6), value, np.uint8)).save(tmp_path / cls / f"{i}.png")
  src = folders.folder(tmp_path)
  out = src.get(np.arange(6))
  assert out["image"].shape == (6, 6, 6, 1)
  np.testing.assert_array_equal(out["label"], [0, 0, 0, 1, 1, 1])
  assert src.num_classes == 2


def test_a_folder_with_one_class_subfolder_is_unlabelled(tmp_path):
  """torchvision's ImageFolder layout of an unlabelled set (`faces/all/*.png`): fewer than two
  classes is no labels, so eval.features=auto picks the self-supervised encoder, never a one-class
  classifier (whose held-out accuracy is 1.0 whatever it learnt)."""
  from ganjax import base_config
  from ganjax.errors import ConfigError
  from ganjax.metrics import features

  pixels = np.random.default_rng(0).integers(0, 256, (10, 5, 5), dtype=np.uint8)
  (tmp_path / "faces" / "all").mkdir(parents=True)
  for i, img in enumerate(pixels):
    Image.fromarray(img).save(tmp_path / "faces" / "all" / f"{i}.png")
  src = folders.folder(tmp_path / "faces")
  assert "label" not in src.element_spec and src.num_classes == 0 and not src.has_labels
  np.testing.assert_allclose(src.get(np.arange(10))["image"][..., 0], pixels / 255 * 2 - 1, atol=1e-6)
  c = base_config.get_config()
  c.data.name = f"folder:{tmp_path / 'faces'}"
  split = data.load(c)
  assert not split.train.has_labels and not split.test.has_labels
  assert features.resolve(c.eval.features, split.train.has_labels) == "self"
  with pytest.raises(ConfigError, match="the classifier feature space needs labelled training images"):
    features.resolve("classifier", split.train.has_labels)
  (tmp_path / "faces" / "more").mkdir()  # a second class: labelled
  Image.fromarray(pixels[0]).save(tmp_path / "faces" / "more" / "0.png")
  assert folders.folder(tmp_path / "faces").num_classes == 2


def test_folder_holds_out_a_seeded_class_stratified_random_subset(tmp_path):
  """Files are sorted by path, hence grouped by class: a tail would hold out whole classes."""
  from ganjax import base_config, data

  for cls, value in (("a", 10), ("b", 100), ("c", 200)):
    (tmp_path / cls).mkdir()
    for i in range(10):
      Image.fromarray(np.full((4, 4), value + i, np.uint8)).save(tmp_path / cls / f"{i}.png")
  c = base_config.get_config()
  c.data.name, c.data.holdout = f"folder:{tmp_path}", 0.3
  split = data.load(c)
  test = split.test.get(np.arange(split.test.size))
  train = split.train.get(np.arange(split.train.size))
  assert np.bincount(test["label"]).tolist() == [3, 3, 3]  # every class, in proportion
  assert np.bincount(train["label"]).tolist() == [7, 7, 7]
  again = data.load(c).test.get(np.arange(9))["image"]
  np.testing.assert_array_equal(again, test["image"])  # seeded: the same held-out images every run
  c.seed = 5
  np.testing.assert_array_equal(data.load(c).test.get(np.arange(9))["image"], test["image"])  # whatever the run's seed
  assert not set(map(bytes, test["image"])) & set(map(bytes, train["image"]))  # disjoint
  picks = [data.held_out_indices(split.train, 3).tolist() for _ in range(2)]
  train_labels = split.train.get(np.arange(21))["label"].tolist()
  assert train_labels == [0] * 7 + [1] * 7 + [2] * 7  # grouped by class: the tail would be three of class 2
  assert picks[0] == picks[1] and [train_labels[i] for i in picks[0]] == [0, 1, 2]  # seeded, one of each class


def test_folder_errors(tmp_path):
  with pytest.raises(DataError, match="no images"):
    folders.folder(tmp_path)
  Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "a.png")
  Image.fromarray(np.zeros((7, 7), np.uint8)).save(tmp_path / "b.png")
  with pytest.raises(DataError, match="b.png is 7 x 7 pixels, the first image 6 x 6; set --config.data.image_size"):
    folders.folder(tmp_path)
  assert folders.folder(tmp_path, image_size=4).get(np.arange(2))["image"].shape == (2, 4, 4, 1)
  (tmp_path / "c.png").write_bytes(b"not a png")
  with pytest.raises(DataError, match="cannot read image .*c.png"):
    folders.folder(tmp_path, image_size=4)
  with pytest.raises(DataError, match="not a directory"):
    folders.folder(tmp_path / "missing")


def _as_uint8(x):
  return np.round((x + 1) / 2 * 255).astype(int)


def _write_modes(directory, size=4):
  """One image of each mode a real folder mixes, and each pixel value the folder must read."""
  directory.mkdir(parents=True, exist_ok=True)
  Image.new("RGBA", (size, size), (200, 100, 50, 128)).save(directory / "rgba.png")
  palette = Image.new("P", (size, size), 1)
  palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)  # index 1 is red
  palette.save(directory / "palette.png")
  Image.new("CMYK", (size, size), (10, 200, 30, 0)).save(directory / "cmyk.jpg")
  Image.new("L", (size, size), 77).save(directory / "grey.png")
  Image.fromarray(np.full((size, size), 40000, np.uint16)).save(directory / "deep16.png")
  assert Image.open(directory / "deep16.png").mode == "I;16"
  cmyk_as_rgb = np.asarray(Image.open(directory / "cmyk.jpg").convert("RGB"))[0, 0]
  return {  # sorted by file name, as the folder is read; values computed by hand (or by PIL for CMYK)
      "cmyk.jpg": tuple(cmyk_as_rgb),
      "deep16.png": (156,) * 3,  # 40000 * 255 / 65535 = 155.6
      "grey.png": (77,) * 3,
      "palette.png": (255, 0, 0),
      "rgba.png": (100, 50, 25),  # on black: 200 * 128 / 255 = 100.4, 50.2, 25.1
  }


def test_a_folder_of_mixed_image_modes_is_read_in_one_channel_count(tmp_path, capsys):
  """RGBA, palette, CMYK, greyscale and 16-bit files: all RGB when any is in colour (alpha on
  black, 16 bits scaled to 8), said in one line; data.channels forces 1 or 3."""
  want = _write_modes(tmp_path / "mixed")
  src = folders.folder(tmp_path / "mixed")
  x = src.get(np.arange(src.size))["image"]
  assert x.shape == (5, 4, 4, 3) and x.dtype == np.float32 and -1 <= x.min() and x.max() <= 1
  for i, (name, pixel) in enumerate(want.items()):
    assert tuple(_as_uint8(x[i, 0, 0])) == pixel, name
  out = capsys.readouterr().out
  assert out.count("\n") == 1 and "folder: converted 5 of 5 images to RGB: 1 from CMYK, 1 from I;16 (16-bit, scaled to 8), " \
      "1 from L, 1 from P, 1 from RGBA (alpha composited on black)" in out
  # forced greyscale: PIL's luma of each composited RGB pixel (ITU-R 601-2, 299/587/114 per mille)
  grey = folders.folder(tmp_path / "mixed", channels=1).get(np.arange(5))["image"]
  assert grey.shape == (5, 4, 4, 1)
  for i, pixel in enumerate(want.values()):
    assert abs(_as_uint8(grey[i, 0, 0, 0]) - np.dot(pixel, [0.299, 0.587, 0.114])) <= 0.5 + 1e-6
  # the new user's folder: other sizes too, every one resized by data.image_size
  Image.new("RGBA", (9, 5), (1, 2, 3, 255)).save(tmp_path / "mixed" / "wide.png")
  split = data.load(cfg(f"folder:{tmp_path / 'mixed'}", image_size=32, holdout=2))
  assert split.train.element_spec["image"][0] == (32, 32, 3) and split.test.size == 2
  forced = data.load(cfg(f"folder:{tmp_path / 'mixed'}", image_size=32, channels=1, holdout=2))
  assert forced.train.element_spec["image"][0] == forced.test.element_spec["image"][0] == (32, 32, 1)
  with pytest.raises(DataError, match="data.channels must be 0 .*, 1 .* or 3 .*, got 2"):
    data.load(cfg(f"folder:{tmp_path / 'mixed'}", image_size=32, channels=2))


def test_a_folder_of_grey_modes_stays_greyscale(tmp_path, capsys):
  """L, 16-bit, greyscale-with-alpha and a palette of greys: one channel (auto), three when forced."""
  d = tmp_path / "grey"
  d.mkdir()
  Image.new("LA", (3, 3), (200, 100)).save(d / "a_la.png")
  Image.fromarray(np.full((3, 3), 65535, np.uint16)).save(d / "b_deep.png")
  palette = Image.new("P", (3, 3), 2)
  palette.putpalette([0, 0, 0, 50, 50, 50, 90, 90, 90] + [0] * 759)
  palette.save(d / "c_palette.png")
  Image.new("L", (3, 3), 5).save(d / "d_grey.png")
  x = folders.folder(d).get(np.arange(4))["image"]
  assert x.shape == (4, 3, 3, 1)
  assert _as_uint8(x[:, 1, 1, 0]).tolist() == [78, 255, 90, 5]  # 200 * 100 / 255 = 78.4; 65535 -> 255
  assert "converted 3 of 4 images to greyscale" in capsys.readouterr().out
  rgb = folders.folder(d, channels=3).get(np.arange(4))["image"]
  assert rgb.shape == (4, 3, 3, 3) and (rgb == x).all()
  assert "converted 4 of 4 images to RGB" in capsys.readouterr().out


def test_held_out_images_get_the_training_images_channel_count(tmp_path):
  """CycleGAN's layout with colour trainA/ and a grey testA/: the held-out images are read as RGB."""
  for part, mode, value in (("trainA", "RGB", (9, 99, 199)), ("testA", "L", 60)):
    (tmp_path / part).mkdir()
    for i in range(3):
      Image.new(mode, (4, 4), value).save(tmp_path / part / f"{i}.png")
  split = data.load(cfg(f"unaligned:{tmp_path}:a"))
  assert split.train.element_spec["a"][0] == split.test.element_spec["a"][0] == (4, 4, 3)
  assert _as_uint8(split.test.get(np.arange(1))["a"][0, 0, 0]).tolist() == [60, 60, 60]


def test_unknown_name_and_bad_holdout():
  with pytest.raises(DataError, match="unknown data.name 'nope'; valid: digits, fonts\\[:<count>\\], .*, folder:<dir>, "):
    data.load(cfg("nope"))
  with pytest.raises(DataError, match="data.name 'digits:7': digits takes no argument"):
    data.load(cfg("digits:7"))
  with pytest.raises(DataError, match="data.name 'edges' lacks its argument: edges:<data name>, e.g. edges:digits"):
    data.load(cfg("edges"))
  with pytest.raises(DataError, match="holdout"):
    data.load(cfg("digits", holdout=5000))


def test_a_new_kind_of_data_is_one_registry_entry(monkeypatch):
  """SOURCES alone decides which names load: an entry is a factory(config, argument) -> Split, and
  derived kinds (downsampled:) take it as their inner data."""
  ramp = from_arrays("ramp", {"image": np.linspace(-1, 1, 10 * 16, dtype=np.float32).reshape(10, 4, 4, 1)}, kind="images")

  def ramps(config, arg):
    return data.Split(ramp, ramp)

  ramps.form = "[:<anything>]"
  monkeypatch.setitem(data.SOURCES, "ramps", ramps)
  assert data.load(cfg("ramps:x")).train is ramp
  pairs = data.load(cfg("downsampled:ramps", sr_factor=2)).train.get(np.arange(10))
  assert pairs["a"].shape == (10, 2, 2, 1) and (pairs["b"] == ramp.get(np.arange(10))["image"]).all()
  with pytest.raises(DataError, match="valid: .*ramps\\[:<anything>\\]"):
    data.load(cfg("nope"))


def test_batch_larger_than_dataset():
  src = from_arrays("small", {"image": np.zeros((10, 2), np.float32)}, kind="points")
  with pytest.raises(DataError, match="batch_size=16 is larger than the dataset small"):
    data.make(src, 16, seed=0)


def test_pipeline_is_deterministic_and_restorable():
  src = builtin.mixture("ring8", seed=0, size=100)
  p = data.make(src, 16, seed=3)
  batches = [next(p)["image"] for _ in range(3)]
  state = p.iterator.get_state()
  later = [next(p)["image"] for _ in range(10)]  # crosses epoch boundaries (100 / 16)
  q = data.make(src, 16, seed=3)
  np.testing.assert_array_equal(next(q)["image"], batches[0])
  q.iterator.set_state(state)
  for want in later:
    np.testing.assert_array_equal(next(q)["image"], want)


def test_processes_slice_the_same_global_batch():
  src = builtin.mixture("grid25", seed=0, size=200)
  whole = data.make(src, 8, seed=1, process_index=0, process_count=1)
  halves = [data.make(src, 8, seed=1, process_index=i, process_count=2) for i in range(2)]
  for _ in range(30):
    np.testing.assert_array_equal(next(whole)["image"],
                                  np.concatenate([next(h)["image"] for h in halves]))


def test_epochs_are_reshuffled_and_cover_everything():
  src = from_arrays("r", {"image": np.arange(12, dtype=np.float32)[:, None]}, kind="points")
  p = data.make(src, 4, seed=0)
  epoch1 = np.concatenate([next(p)["image"][:, 0] for _ in range(3)])
  epoch2 = np.concatenate([next(p)["image"][:, 0] for _ in range(3)])
  assert sorted(epoch1) == sorted(epoch2) == list(range(12))
  assert not np.array_equal(epoch1, epoch2)
  # A batch size that does not divide the dataset: batches straddle epochs, each epoch is a permutation.
  q = data.make(src, 5, seed=1)
  stream = np.concatenate([next(q)["image"][:, 0] for _ in range(12)])  # 60 rows = 5 epochs
  for e in range(5):
    assert sorted(stream[12 * e:12 * (e + 1)]) == list(range(12))


# ---------------------------------------------------------------- fetch, verify, cache (127.0.0.1)

@pytest.fixture
def mirror(tmp_path):
  served = tmp_path / "served"
  served.mkdir()
  rng = np.random.default_rng(0)
  files = {}
  for split, n in (("train", 12), ("t10k", 4)):
    write_idx(served / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), gz=True)
    write_idx(served / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), gz=True)
  for p in served.iterdir():
    files[p.name] = hashlib.md5(p.read_bytes()).hexdigest()
  handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
  handler.log_message = lambda *a: None
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
  threading.Thread(target=server.serve_forever, daemon=True).start()
  yield f"http://127.0.0.1:{server.server_address[1]}/", files, served
  server.shutdown()


def test_fetch_verifies_and_caches(tmp_path, mirror, monkeypatch):
  url, checksums, served = mirror
  monkeypatch.setitem(fetch.FILES, "mnist", checksums)
  cache = tmp_path / "cache"
  directory = fetch.fetch("mnist", cache, [url])
  assert sorted(p.name for p in directory.iterdir()) == sorted(checksums)
  # Cached: a second call needs no server at all.
  directory2 = fetch.fetch("mnist", cache, ["http://127.0.0.1:9/"])
  assert directory2 == directory
  # Through data.load: train files first, the official 10,000-test-image rule is a count.
  monkeypatch.setattr(data, "_holdout", lambda src, n: data.Split(src, src))
  split = data.load(cfg("mnist", cache_dir=str(cache), mirrors=(url,)))
  assert split.train.size == 16


def test_fetch_rejects_a_bad_checksum_and_keeps_cache_clean(tmp_path, mirror, monkeypatch):
  url, checksums, _ = mirror
  bad = dict(checksums)
  bad["t10k-labels-idx1-ubyte.gz"] = "0" * 32
  monkeypatch.setitem(fetch.FILES, "mnist", bad)
  with pytest.raises(DataError, match="checksum"):
    fetch.fetch("mnist", tmp_path / "cache", [url])
  assert not (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
  assert not list((tmp_path / "cache" / "mnist").glob("*.part"))


def test_fetch_offline_names_the_alternatives(tmp_path):
  with pytest.raises(DataError, match="Offline\\? Use data.name=digits .*idx:<dir>.*apt-get install dataset-fashion"):
    fetch.fetch("fashion_mnist", tmp_path, ["http://127.0.0.1:9/"], timeout=2, system_dirs=[])


def test_a_system_copy_is_used_when_its_decompressed_contents_verify(tmp_path, monkeypatch):
  """Debian's dataset-fashion-mnist recompressed the .gz files: contents are checked, not the .gz."""
  import gzip

  system = tmp_path / "usr-share"
  system.mkdir()
  expected = {}
  for name in fetch.FILES["fashion_mnist"]:
    with gzip.open(system / name, "wb", compresslevel=1) as f:  # another compression than upstream's
      f.write(name.encode() * 10)
    expected[name] = fetch.content_md5(system / name)
  monkeypatch.setitem(fetch.CONTENT_MD5, "fashion_mnist", expected)
  assert fetch.fetch("fashion_mnist", tmp_path / "cache", ["http://127.0.0.1:9/"], system_dirs=[system]) == system
  with gzip.open(system / "t10k-labels-idx1-ubyte.gz", "wb") as f:
    f.write(b"something else")
  with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz decompresses to contents with MD5"):
    fetch.fetch("fashion_mnist", tmp_path / "cache", ["http://127.0.0.1:9/"], system_dirs=[system])


# ---------------------------------------------------------------- TFDS through tfds.data_source

def test_tfds_under_mock_data():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=20):
    split = data.load(cfg("tfds:mnist:train"))
    batch = split.train.get(np.arange(4))
    assert batch["image"].shape == (4, 28, 28, 1) and batch["image"].dtype == np.float32
    assert batch["label"].shape == (4,) and split.train.num_classes == 10
    p = data.make(split.train, 8, seed=0)
    assert next(p)["image"].shape == (8, 28, 28, 1)


def test_tfds_not_prepared_says_how(tmp_path):
  with pytest.raises(DataError, match="not prepared.*launch/prepare_data.sh mnist"):
    data.load(cfg("tfds:mnist", tfds_dir=str(tmp_path)))
  with pytest.raises(DataError, match="unknown dataset 'no_such_dataset'"):
    data.load(cfg("tfds:no_such_dataset", tfds_dir=str(tmp_path)))


def test_missing_labels_name_the_field():
  src = from_arrays("unlabelled", {"image": np.zeros((4, 2, 2, 1), np.float32)}, kind="images")
  with pytest.raises(DataError, match="unlabelled has no labels, but the metric classifier needs them \\(field 'label'\\)"):
    data.require_labels(src, "the metric classifier")
  data.require_labels(builtin.digits(), "anything")


def test_data_made_from_the_config_alone_is_built_once_and_files_are_read_each_time(tmp_path):
  """Bundled, synthetic and derived-from-such data are built once per process for one (data config,
  seed); another field or seed builds them again, and a folder is read again (it may have changed)."""
  from PIL import Image

  edges = cfg("edges:digits", image_size=8)
  first = data.load(edges)
  assert data.load(edges) is first and data.load(cfg("edges:digits", image_size=8)) is first
  assert data.load(cfg("edges:digits", image_size=8, edge_sigma=2.0)) is not first
  ring = cfg("ring8")
  other_seed = cfg("ring8")
  other_seed.seed = 1
  assert data.load(ring) is data.load(ring)
  assert not np.array_equal(data.load(other_seed).train.get(np.arange(5))["image"],
                            data.load(ring).train.get(np.arange(5))["image"])
  for i in range(5):
    Image.fromarray(np.full((4, 4), i, np.uint8)).save(tmp_path / f"{i}.png")
  folder = cfg(f"folder:{tmp_path}", holdout=1)
  assert data.load(folder).train.size == 4
  Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "5.png")
  assert data.load(folder).train.size == 5
