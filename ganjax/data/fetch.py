"""Fetch-once, verify, cache: the IDX files of MNIST and Fashion-MNIST from their mirrors.

Used only when a user names `mnist` / `fashion_mnist` and no prepared TFDS copy exists. A system
copy comes first: Debian's `dataset-fashion-mnist` package (`apt-get install dataset-fashion-mnist`)
puts the complete Fashion-MNIST (60,000 + 10,000) in /usr/share/datasets/fashion-mnist. Debian
recompressed those files, so their .gz MD5s differ from the published ones; their decompressed
contents are verified instead (`CONTENT_MD5`). Otherwise files land in `<cache_dir>/<dataset>/` under
a temporary name and are renamed only after their MD5 matches, so a broken download never poisons
the cache. Offline, the error names the offline alternatives.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import urllib.error
import urllib.request

from ganjax.errors import DataError

# MD5 of each distributed .gz file, as published with the datasets (and used by torchvision).
FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

# MD5 of each file's decompressed contents. Fashion-MNIST publishes only the .gz MD5s above; these
# were computed from Debian's package (dataset-fashion-mnist 0.0~git20200523.55506a9-1, built from the
# upstream repository's files) and are checked whenever the system copy is used.
CONTENT_MD5 = {
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}

# Where a system package installs the files (checked before the cache and the mirrors).
SYSTEM_DIRS = {"fashion_mnist": ["/usr/share/datasets/fashion-mnist"]}

MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion_mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}


def default_cache_dir() -> pathlib.Path:
  return pathlib.Path(os.environ.get("GANJAX_CACHE", "~/.cache/ganjax")).expanduser()


def md5(path: pathlib.Path) -> str:
  h = hashlib.md5()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      h.update(chunk)
  return h.hexdigest()


def content_md5(path: pathlib.Path) -> str:
  """MD5 of a .gz file's decompressed contents."""
  import gzip

  h = hashlib.md5()
  with gzip.open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      h.update(chunk)
  return h.hexdigest()


def system_copy(dataset: str, directories=None):
  """The directory of a system package's copy of `dataset` whose every file's decompressed contents
  match `CONTENT_MD5`, or None when there is none; a copy with a wrong file is a DataError."""
  expected = CONTENT_MD5.get(dataset)
  for directory in directories if directories is not None else SYSTEM_DIRS.get(dataset, []):
    directory = pathlib.Path(directory)
    if not expected or not all((directory / f).is_file() for f in expected):
      continue
    for filename, checksum in expected.items():
      try:
        got = content_md5(directory / filename)
      except (OSError, EOFError) as e:
        raise DataError(f"{dataset}: cannot read {directory / filename} ({type(e).__name__}); reinstall the package") from None
      if got != checksum:
        raise DataError(f"{dataset}: {directory / filename} decompresses to contents with MD5 {got}, not the "
                        f"expected {checksum}; reinstall the package or remove it to download instead")
    return directory
  return None


def fetch(dataset: str, cache_dir=None, mirrors=None, timeout: float = 30.0, system_dirs=None) -> pathlib.Path:
  """Returns a directory holding the verified IDX files of `dataset`: a system package's copy, else
  the cache, downloading what is missing."""
  if dataset not in FILES:
    raise DataError(f"fetch: no mirror known for {dataset!r}; valid: {', '.join(sorted(FILES))}")
  system = system_copy(dataset, system_dirs)
  if system is not None:
    return system
  target = pathlib.Path(cache_dir or default_cache_dir()).expanduser() / dataset
  target.mkdir(parents=True, exist_ok=True)
  for filename, checksum in FILES[dataset].items():
    path = target / filename
    if path.is_file() and md5(path) == checksum:
      continue
    errors = []
    for mirror in mirrors or MIRRORS[dataset]:
      url = mirror.rstrip("/") + "/" + filename
      tmp = path.with_name(path.name + ".part")
      try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
          while chunk := response.read(1 << 20):
            out.write(chunk)
      except (urllib.error.URLError, OSError) as e:
        errors.append(f"{url}: {getattr(e, 'reason', e)}")
        tmp.unlink(missing_ok=True)
        continue
      got = md5(tmp)
      if got != checksum:
        errors.append(f"{url}: checksum {got} != {checksum}")
        tmp.unlink(missing_ok=True)
        continue
      tmp.replace(path)
      break
    else:
      raise DataError(
          f"{dataset}: could not fetch {filename} ({'; '.join(errors)}). Offline? Use data.name=digits "
          f"(bundled) or idx:<dir> with MNIST-format files you have, or prepare it with TFDS"
          + ("; for Fashion-MNIST: apt-get install dataset-fashion-mnist" if dataset == "fashion_mnist" else ""))
  return target
