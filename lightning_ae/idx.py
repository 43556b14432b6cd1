"""The MNIST files on disk: finding, checking and reading the four IDX files, or downloading them.

The IDX format (LeCun & Cortes, http://yann.lecun.com/exdb/mnist/) is read directly, compressed
(`.gz`) or not, and checked (magic number, dimensions, length); any problem is a `DataError` whose
one-line message names the file and the fix. `lightning_ae.data` builds the DataModule on top.
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
# where to look when no data_dir is given: the project's own data/ and the shared copy beside it
DEFAULT_DATA_DIRS = ("data", "../shared/data")


class DataError(RuntimeError):
    """The MNIST files are missing or unreadable; the message says how to fix it."""


def _idx_path(root: Path, name: str) -> Path | None:
    for folder in (root / "MNIST" / "raw", root):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: Path, magic: int, count: int) -> Tensor:
    """Read one IDX file (optionally gzip-compressed) into a uint8 tensor, checking its header.

    A file read before in this process (same path, size and modification time) is not decompressed
    again: experiments that build many DataModules (tables, tests) pay for it once. Callers must not
    modify the returned tensor in place.
    """
    stat = Path(path).stat()
    return _read_idx(str(path), stat.st_size, stat.st_mtime_ns, magic, count)


@functools.lru_cache(maxsize=4)
def _read_idx(path_str: str, size: int, mtime_ns: int, magic: int, count: int) -> Tensor:
    path = Path(path_str)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip raises these for corrupt or truncated archives
        raise DataError(f"{path}: cannot be read ({e}); delete it and put a fresh copy there.") from e
    ndim = 3 if magic == IMAGE_MAGIC else 1
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: file is truncated ({len(raw)} bytes); replace it with a fresh copy.")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw[:header])
    if found != magic:
        raise DataError(
            f"{path}: wrong magic number {found} (expected {magic}); this is not an MNIST "
            f"{'image' if magic == IMAGE_MAGIC else 'label'} file."
        )
    if dims[0] != count or (ndim == 3 and tuple(dims[1:]) != (28, 28)):
        raise DataError(
            f"{path}: header says shape {tuple(dims)}, expected ({count}{', 28, 28' if ndim == 3 else ''}); the "
            f"images and labels files of a split must both hold {count} entries: replace it with a fresh copy."
        )
    expected = header + count * (784 if ndim == 3 else 1)
    if len(raw) != expected:
        raise DataError(
            f"{path}: file is truncated or padded ({len(raw)} bytes, expected {expected}); "
            "replace it with a fresh copy."
        )
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    return data.view(count, 784) if ndim == 3 else data


def find_data_dir(data_dir: str | None) -> Path | None:
    """The folder holding the MNIST files: `data_dir` if given, else $LIGHTNING_AE_DATA, else a default."""
    if data_dir is not None:
        candidates = [data_dir]
    elif os.environ.get("LIGHTNING_AE_DATA"):
        candidates = [os.environ["LIGHTNING_AE_DATA"]]
    else:
        candidates = list(DEFAULT_DATA_DIRS)
    for c in candidates:
        root = Path(c).expanduser()
        if all(_idx_path(root, n) for split in FILES.values() for n in split[:2]):
            return root
    return None


def locate_mnist(data_dir: str | None, download: bool = False) -> Path:
    """The folder holding the MNIST files (see `find_data_dir`); with `download`, fetch them when missing.

    Raises a `DataError` naming where it looked and the two fixes when the files are not there.
    """
    root = find_data_dir(data_dir)
    if root is not None:
        return root
    target = Path(data_dir or os.environ.get("LIGHTNING_AE_DATA") or DEFAULT_DATA_DIRS[0])
    if download:
        download_mnist(target)
        return target
    where = data_dir or os.environ.get("LIGHTNING_AE_DATA") or " or ".join(DEFAULT_DATA_DIRS)
    raise DataError(
        f"MNIST not found in {where} (looked for train-images-idx3-ubyte[.gz] and the three other "
        "IDX files there and in MNIST/raw/ under it). Fix: put the four files in "
        f"{target / 'MNIST' / 'raw'}, or set data.download: true (--data.download true) to fetch them."
    )


def load_mnist(root: Path, split: Literal["train", "test"]) -> tuple[Tensor, Tensor]:
    """Images as float (N, 784) in [0, 1] and labels as int64 (N,)."""
    img_name, lbl_name, count = FILES[split]
    images = read_idx(_idx_path(root, img_name), IMAGE_MAGIC, count)
    labels = read_idx(_idx_path(root, lbl_name), LABEL_MAGIC, count)
    if labels.max() > 9:
        raise DataError(f"{_idx_path(root, lbl_name)}: labels outside 0..9; replace it with a fresh copy.")
    return images.float().div_(255.0), labels.long()


def download_mnist(root: Path) -> None:
    """Fetch MNIST with torchvision; wrap its network error in a message that says what else to do."""
    from torchvision.datasets import MNIST

    try:
        for train in (True, False):
            MNIST(str(root), train=train, download=True)
    except (OSError, RuntimeError) as e:
        raise DataError(
            f"could not download MNIST into {root} ({type(e).__name__}: {e}). Without network, copy the "
            f"four IDX files (train-images-idx3-ubyte.gz, ...) into {root / 'MNIST' / 'raw'} and rerun."
        ) from e
