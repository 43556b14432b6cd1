"""IDX files on disk (the MNIST family's format): checking and reading them.

The IDX format (LeCun & Cortes, http://yann.lecun.com/exdb/mnist/) is read directly, compressed
(`.gz`) or not, and checked (magic number, dimensions, length); the counts and the image size come
from the headers, so an IDX set of any size loads (MNIST, Fashion-MNIST and KMNIST are 28 x 28).
Any problem is a `DataError` whose one-line message names the file and the fix. Where the files
are found (and downloaded) is `lightning_ae.datasets`; `lightning_ae.data` builds the DataModule.
"""

from __future__ import annotations

import functools
import gzip
import struct
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
# where to look when no data_dir is given: the project's own data/ and the shared copy beside it
# (then the per-user cache: see lightning_ae.datasets)
DEFAULT_DATA_DIRS = ("data", "../shared/data")


class DataError(RuntimeError):
    """The data files are missing or unreadable; the message names the file and says how to fix it."""


def idx_path(root: Path, name: str, folder: str = "MNIST") -> Path | None:
    """`name` (or `name.gz`) in `root/<folder>/raw` (torchvision's layout) or in `root` itself."""
    for where in (root / folder / "raw", root):
        for candidate in (where / name, where / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_header(path: Path) -> tuple[int, ...]:
    """The dimensions an IDX images file's header announces, e.g. (60000, 28, 28), reading 16 bytes."""
    try:
        with _open(path) as f:
            head = f.read(16)
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot be read ({e}); delete it and put a fresh copy there.") from e
    if len(head) < 16 or struct.unpack(">I", head[:4])[0] != IMAGE_MAGIC:
        return ()  # read_idx says what is wrong when the file is read
    return struct.unpack(">3I", head[4:])


def read_idx(path: Path, magic: int, count: int | None = None) -> Tensor:
    """Read one IDX file (optionally gzip-compressed) into a uint8 tensor, checking its header.

    Images come as (N, H, W), labels as (N,), with N, H, W from the header; `count`, if given, is
    the number of entries the file must hold (its split's other file's). A file read before in this
    process (same path, size and modification time) is not decompressed again: experiments that
    build many DataModules (tables, tests) pay for it once. Callers must not modify the result in place.
    """
    stat = Path(path).stat()
    data = _read_idx(str(path), stat.st_size, stat.st_mtime_ns, magic)
    if count is not None and len(data) != count:
        shape = tuple(data.shape) if magic == IMAGE_MAGIC else f"({len(data)},)"
        raise DataError(
            f"{path}: header says shape {shape}, expected ({count}); the images and labels files of a "
            f"split must both hold {count} entries: replace it with a fresh copy."
        )
    return data


@functools.lru_cache(maxsize=4)
def _read_idx(path_str: str, size: int, mtime_ns: int, magic: int) -> Tensor:
    path = Path(path_str)
    try:
        with _open(path) as f:
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
    if ndim == 3 and (dims[1] == 0 or dims[2] == 0):
        raise DataError(f"{path}: header says images of {dims[1]} x {dims[2]} pixels; replace it with a fresh copy.")
    expected = header + dims[0] * (dims[1] * dims[2] if ndim == 3 else 1)
    if len(raw) != expected:
        raise DataError(
            f"{path}: file is truncated or padded ({len(raw)} bytes, expected {expected}); "
            "replace it with a fresh copy."
        )
    return torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8).view(*dims)


def load_split(root: Path, split: Literal["train", "test"], folder: str = "MNIST") -> tuple[Tensor, Tensor]:
    """A split's images as uint8 (N, H, W) and labels as int64 (N,), counts checked against each other."""
    img_name, lbl_name = FILES[split]
    img_path, lbl_path = idx_path(root, img_name, folder), idx_path(root, lbl_name, folder)
    if img_path is None or lbl_path is None:
        missing = img_name if img_path is None else lbl_name
        raise DataError(f"{missing}[.gz] not found in {root / folder / 'raw'} or {root}; put the four IDX files there.")
    images = read_idx(img_path, IMAGE_MAGIC)
    labels = read_idx(lbl_path, LABEL_MAGIC, count=len(images))
    return images, labels.long()


def load_mnist(root: Path, split: Literal["train", "test"], folder: str = "MNIST") -> tuple[Tensor, Tensor]:
    """Images as float (N, H * W) in [0, 1] (784 pixels for MNIST) and labels as int64 (N,)."""
    images, labels = load_split(root, split, folder)
    return images.flatten(1).float().div_(255.0), labels


def find_data_dir(data_dir: str | None, dataset: str = "mnist") -> Path | None:
    """The folder holding a dataset's four IDX files, or None: `lightning_ae.datasets.find_data_dir`."""
    from lightning_ae.datasets import find_data_dir as find  # here too for older callers (the benchmark)

    return find(data_dir, dataset)
