"""MNIST as one in-memory tensor, served in batches by slicing.

The four IDX files (LeCun & Cortes, http://yann.lecun.com/exdb/mnist/) are read directly,
compressed (`.gz`) or not, checked (magic number, dimensions, length) and kept as a single
float tensor of shape (N, 784) with pixels in [0, 1]. Batches are slices of that tensor: there is
no per-sample Dataset/PIL/ToTensor path. On a GPU the whole set is moved to the device once.
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
from pathlib import Path
from typing import Literal

import lightning as L
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


class TensorLoader:
    """Serve (x, y) batches by slicing in-memory tensors; a DataLoader without the per-sample path.

    Shuffles with a permutation seeded by (seed, epoch), so runs and resumed runs see the same
    order. Under DDP each rank takes every `world_size`-th index of the permutation (padded as
    `DistributedSampler` does), so every sample is seen once per epoch across ranks. Stateful for
    Lightning: a mid-epoch checkpoint stores how many batches were served, and a run resumed from
    it skips them, so it sees the batches the uninterrupted run would have seen.
    """

    def __init__(
        self,
        x: Tensor,
        y: Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        binarize: bool = False,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.seed, self.drop_last = batch_size, shuffle, seed, drop_last
        self.rank, self.world_size, self.binarize = rank, world_size, binarize
        self.epoch = 0
        self._served, self._resume_at = 0, 0  # batches served this epoch; batches to skip on resume
        # Lightning calls `set_epoch` on a loader's `sampler` at each epoch start
        self.sampler, self.batch_sampler = self, None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def state_dict(self) -> dict[str, int]:
        """Where this epoch's iteration stands (Lightning saves it in every checkpoint)."""
        return {"epoch": self.epoch, "batches_served": self._served}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume mid-epoch: the next iteration skips the batches the checkpointed run had served."""
        self.epoch, self._resume_at = state["epoch"], state["batches_served"]

    def _indices(self) -> Tensor | None:
        n = len(self.x)
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        if self.world_size == 1:
            return torch.randperm(n, generator=g) if self.shuffle else None
        idx = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        per_rank = -(-n // self.world_size)
        idx = torch.cat([idx, idx[: per_rank * self.world_size - n]])  # pad to equal shares
        return idx[self.rank :: self.world_size]

    def _num_rows(self) -> int:
        n = len(self.x)
        return n if self.world_size == 1 else -(-n // self.world_size)

    def __len__(self) -> int:
        rows = self._num_rows()
        return rows // self.batch_size if self.drop_last else -(-rows // self.batch_size)

    def __iter__(self):
        start, self._resume_at, self._served = self._resume_at, 0, 0
        idx = self._indices()
        if idx is not None:
            idx = idx.to(self.x.device)
        g = torch.Generator(device=self.x.device).manual_seed(self.seed + 7919 * (self.epoch + 1)) if self.binarize else None
        for b in range(len(self)):
            s = slice(b * self.batch_size, (b + 1) * self.batch_size)
            if idx is None:
                x, y = self.x[s], self.y[s]
            else:
                x, y = self.x[idx[s]], self.y[idx[s]]
            if self.binarize:  # dynamic binarisation: a fresh Bernoulli sample of every pixel
                x = torch.bernoulli(x, generator=g)  # drawn for skipped batches too: same stream as unbroken
            self._served = b + 1
            if b >= start:
                yield x, y


class MNISTDataModule(L.LightningDataModule):
    """MNIST for every model of the project: flattened (B, 784) pixels in [0, 1] and labels.

    Args:
        data_dir: folder with the four IDX files (in it or in `MNIST/raw/` under it). None looks in
            $LIGHTNING_AE_DATA, then `data/`, then `../shared/data`.
        download: fetch with torchvision into `data_dir` (or `data/`) when the files are missing.
        batch_size: training batch size (evaluation uses `eval_batch_size`).
        val_split: "holdout" keeps `val_size` training images apart for validation; "test" validates
            on the 10,000 test images, as the classic posts did.
        val_size: size of the holdout split (fixed seed `split_seed`).
        binarize: dynamic binarisation (a Bernoulli sample per pixel per epoch) for training; val
            and test use one fixed binarisation.
        num_labeled / labeled_fraction: keep only this many (stratified, seeded) labelled training
            images, for classifiers trained on few labels.
        device_resident: keep the whole set on the accelerator and slice batches there ("auto":
            when training on a GPU).
    """

    def __init__(
        self,
        data_dir: str | None = None,
        download: bool = False,
        batch_size: int = 128,
        eval_batch_size: int = 1000,
        val_split: Literal["holdout", "test"] = "holdout",
        val_size: int = 5000,
        split_seed: int = 0,
        shuffle_seed: int = 0,
        binarize: bool = False,
        num_labeled: int | None = None,
        labeled_fraction: float | None = None,
        train_subset: int | None = None,
        device_resident: bool | Literal["auto"] = "auto",
    ) -> None:
        super().__init__()
        if batch_size <= 0 or eval_batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}/{eval_batch_size}.")
        if not 0 < val_size < 60_000:
            raise ValueError(f"val_size must be between 1 and 59,999, got {val_size}.")
        if num_labeled is not None and labeled_fraction is not None:
            raise ValueError("give either num_labeled or labeled_fraction, not both.")
        if labeled_fraction is not None and not 0 < labeled_fraction <= 1:
            raise ValueError(f"labeled_fraction must be in (0, 1], got {labeled_fraction}.")
        if num_labeled is not None and num_labeled < 10:
            raise ValueError(f"num_labeled must be at least 10 (one per class), got {num_labeled}.")
        if train_subset is not None and train_subset <= 0:
            raise ValueError(f"train_subset must be a positive integer, got {train_subset}.")
        self.save_hyperparameters()
        self.data_dir, self.download, self.batch_size = data_dir, download, batch_size
        self.tensors: dict[str, tuple[Tensor, Tensor]] = {}

    # -- loading ---------------------------------------------------------------------------------
    def _root(self) -> Path:
        root = find_data_dir(self.data_dir)
        if root is not None:
            return root
        target = Path(self.data_dir or os.environ.get("LIGHTNING_AE_DATA") or DEFAULT_DATA_DIRS[0])
        if self.download:
            download_mnist(target)
            return target
        where = self.data_dir or os.environ.get("LIGHTNING_AE_DATA") or " or ".join(DEFAULT_DATA_DIRS)
        raise DataError(
            f"MNIST not found in {where} (looked for train-images-idx3-ubyte[.gz] and the three other "
            "IDX files there and in MNIST/raw/ under it). Fix: put the four files in "
            f"{target / 'MNIST' / 'raw'}, or set data.download: true (--data.download true) to fetch them."
        )

    def prepare_data(self) -> None:
        self._root()

    def setup(self, stage: str | None = None) -> None:
        if self.tensors:
            return
        root = self._root()
        x_train, y_train = load_mnist(root, "train")
        x_test, y_test = load_mnist(root, "test")
        h = self.hparams
        perm = torch.randperm(60_000, generator=torch.Generator().manual_seed(h.split_seed))
        if h.val_split == "test":
            train_idx, (x_val, y_val) = perm, (x_test, y_test)
        else:
            train_idx, val_idx = perm[h.val_size :], perm[: h.val_size]
            x_val, y_val = x_train[val_idx], y_train[val_idx]
        train_idx = self._labeled_subset(train_idx, y_train)
        if h.train_subset is not None:
            train_idx = train_idx[: h.train_subset]
        if self.batch_size > len(train_idx):
            raise ValueError(
                f"batch_size {self.batch_size} is larger than the training set ({len(train_idx)} images); "
                "lower data.batch_size."
            )
        self.tensors = {
            "train": (x_train[train_idx], y_train[train_idx]),
            "val": (x_val, y_val),
            "test": (x_test, y_test),
            "full_train": (x_train, y_train),
        }
        if h.binarize:  # one fixed binarisation for evaluation
            g = torch.Generator().manual_seed(h.split_seed + 1)
            self.tensors["val"] = (torch.bernoulli(x_val, generator=g), y_val)
            self.tensors["test"] = (torch.bernoulli(x_test, generator=g), y_test)
        if self._on_accelerator():
            device = self.trainer.strategy.root_device
            self.tensors = {k: (x.to(device), y.to(device)) for k, (x, y) in self.tensors.items()}

    def _labeled_subset(self, idx: Tensor, y: Tensor) -> Tensor:
        """Stratified, seeded subset of `idx` with `num_labeled` (or a fraction of) examples."""
        h = self.hparams
        if h.num_labeled is None and h.labeled_fraction is None:
            return idx
        k = h.num_labeled if h.num_labeled is not None else max(10, round(h.labeled_fraction * len(idx)))
        if k > len(idx):
            raise ValueError(f"num_labeled={k} exceeds the {len(idx)} training images.")
        labels = y[idx]
        quota = torch.bincount(labels, minlength=10).double() * k / len(idx)
        share = quota.floor().long()  # the largest remainders get the last few, so the shares add up to k
        share[torch.argsort(quota - share, descending=True, stable=True)[: k - int(share.sum())]] += 1
        picked = []
        for c in range(10):  # `idx` is already a seeded permutation: take each class's first share
            picked.append(idx[labels == c][: share[c]])
        out = torch.cat(picked)
        return out[torch.randperm(len(out), generator=torch.Generator().manual_seed(h.split_seed))]

    def _on_accelerator(self) -> bool:
        if self.trainer is None or self.hparams.device_resident is False:
            return False
        return self.trainer.strategy.root_device.type != "cpu"

    # -- loaders ---------------------------------------------------------------------------------
    def _loader(self, split: str, batch_size: int, shuffle: bool, binarize: bool = False) -> TensorLoader:
        x, y = self.tensors[split]
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return TensorLoader(x, y, batch_size, shuffle=shuffle, seed=self.hparams.shuffle_seed,
                            rank=rank, world_size=world, binarize=binarize)

    def train_dataloader(self) -> TensorLoader:
        return self._loader("train", self.batch_size, shuffle=True, binarize=self.hparams.binarize)

    def val_dataloader(self) -> TensorLoader:
        return self._loader("val", self.hparams.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorLoader:
        return self._loader("test", self.hparams.eval_batch_size, shuffle=False)

    def predict_dataloader(self) -> TensorLoader:
        return self.test_dataloader()

    def split(self, name: Literal["train", "val", "test", "full_train"]) -> tuple[Tensor, Tensor]:
        """The whole split as (images, labels), loading it if needed."""
        self.setup()
        return self.tensors[name]
