"""MNIST as one in-memory tensor, served in batches by slicing: the project's one DataModule.

The four IDX files are found, checked and read by `lightning_ae.idx` and kept as a single float
tensor of shape (N, 784) with pixels in [0, 1]; batches are slices of it served by
`lightning_ae.loader.TensorLoader`: there is no per-sample Dataset/PIL/ToTensor path. On a GPU the
whole set is moved to the device once. Callbacks and experiments get images and labels through
`MNISTDataModule.split`, the one data protocol of the project.
"""

from __future__ import annotations

import inspect
from typing import Literal

import lightning as L
import torch
from jsonargparse.typing import PositiveInt, restricted_number_type
from torch import Tensor

from lightning_ae.errors import ConfigError
from lightning_ae.idx import DataError, find_data_dir, load_mnist, locate_mnist, read_idx
from lightning_ae.loader import TensorLoader, binarize


__all__ = ["MNISTDataModule", "DataError", "TensorLoader", "binarize", "find_data_dir", "load_mnist", "read_idx"]

# argument types: LightningCLI refuses other values when it parses the command line or config
HoldoutSize = restricted_number_type("HoldoutSize", int, [(">", 0), ("<", 60_000)],
                                     docstring="number of training images held out, 1 to 59,999")
LabelCount = restricted_number_type("LabelCount", int, (">=", 10),
                                    docstring="number of labelled images, at least 10 (one per digit)")
LabelFraction = restricted_number_type("LabelFraction", float, [(">", 0), ("<=", 1)],
                                       docstring="share of the training split, in (0, 1]")


class MNISTDataModule(L.LightningDataModule):
    """MNIST for every model of the project: flattened (B, 784) pixels in [0, 1] and labels.

    Args:
        data_dir: folder with the four IDX files (in it or in `MNIST/raw/` under it). None looks in
            $LIGHTNING_AE_DATA, then `data/`, then `../shared/data`.
        download: fetch with torchvision into `data_dir` (or `data/`) when the files are missing.
        batch_size: training batch size (evaluation uses `eval_batch_size`).
        val_split: "holdout" keeps `val_size` training images apart for validation; "test" validates
            on the 10,000 test images, as the classic posts did.
        val_size: size of the holdout split, 1 to 59,999 (fixed seed `split_seed`).
        split_seed: seed of the holdout split, the labelled subset and the fixed binarisations.
        shuffle_seed: seed of the training order (and of the dynamic binarisation), with the epoch.
        binarize: dynamic binarisation (a Bernoulli sample per pixel per epoch) for training; val
            and test use one fixed binarisation (see `split`).
        num_labeled: keep only this many (at least 10) training images, stratified by digit and
            seeded, for classifiers trained on few labels; not with `labeled_fraction`.
        labeled_fraction: keep only this share (in (0, 1]) of the training images, likewise; not
            with `num_labeled`.
        train_subset: keep only the first this many training images.
        device_resident: keep the whole set on the accelerator and slice batches there ("auto":
            when training on a GPU).

    The argument types (`PositiveInt`, `HoldoutSize`, ...) are checked by LightningCLI when it
    parses a config or the command line, and shown by `lightning-ae fit --help`.
    """

    def __init__(
        self,
        data_dir: str | None = None,
        download: bool = False,
        batch_size: PositiveInt = 128,
        eval_batch_size: PositiveInt = 1000,
        val_split: Literal["holdout", "test"] = "holdout",
        val_size: HoldoutSize = 5000,
        split_seed: int = 0,
        shuffle_seed: int = 0,
        binarize: bool = False,
        num_labeled: LabelCount | None = None,
        labeled_fraction: LabelFraction | None = None,
        train_subset: PositiveInt | None = None,
        device_resident: bool | Literal["auto"] = "auto",
    ) -> None:
        super().__init__()
        if num_labeled is not None and labeled_fraction is not None:
            raise ConfigError(f"num_labeled={num_labeled} and labeled_fraction={labeled_fraction} are both "
                                     "set; set only one of them (the other to null).")
        # our frame, passed in: by itself Lightning 2.6's `save_hyperparameters` leaves a reference cycle
        # through its own frame that keeps this object (~400 MB of tensors once set up) alive until a
        # full garbage collection, which a long process (the test suite) seldom runs
        self.save_hyperparameters(frame=inspect.currentframe())
        self.data_dir, self.download, self.batch_size = data_dir, download, batch_size
        self.tensors: dict[str, tuple[Tensor, Tensor]] = {}

    # -- loading ---------------------------------------------------------------------------------
    def prepare_data(self) -> None:
        locate_mnist(self.data_dir, self.download)

    def setup(self, stage: str | None = None) -> None:
        if self.tensors:
            return
        root = locate_mnist(self.data_dir, self.download)
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
            raise ConfigError(
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
            self.tensors["val"] = (binarize(x_val, g), y_val)
            self.tensors["test"] = (binarize(x_test, g), y_test)
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
            raise ConfigError(f"num_labeled={k} exceeds the {len(idx)} training images; lower data.num_labeled.")
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

    def teardown(self, stage: str) -> None:
        """Let go of the tensors when Lightning ends a fit, validate, test or predict run. The Trainer
        and the DataModule refer to each other, so a finished pair lives until a full garbage
        collection, which a long process running many of them (the test suite) seldom gets: without
        this each kept ~400 MB. A later `setup`/`split` rebuilds them from the files' bytes, which
        `lightning_ae.idx` keeps, without reading a file again."""
        self.tensors = {}

    def split(self, name: Literal["train", "val", "test", "full_train"], as_seen: bool = False) -> tuple[Tensor, Tensor]:
        """The whole split `name` as (images, labels): the data protocol callbacks and experiments use.

        Images are float (N, D) with pixels in [0, 1] (D = 784), labels int64 (N,), on the device the data
        lives on (see `device_resident`); the split is loaded on first use. With `binarize`, "val"
        and "test" are the one fixed binary sample the model is evaluated on. "train" and
        "full_train" are the intensities (what the dynamic binarisation samples from) unless
        `as_seen`: then one fixed binary sample of them (seeded by `split_seed`), images like those
        the model is trained on. `as_seen` changes nothing without `binarize`. Callers must not
        modify the returned tensors in place.
        """
        self.setup()
        x, y = self.tensors[name]
        if as_seen and self.hparams.binarize and name in ("train", "full_train"):
            x = binarize(x, torch.Generator(device=x.device).manual_seed(self.hparams.split_seed + 2))
        return x, y
