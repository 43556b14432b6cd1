"""Images as one in-memory tensor, served in batches by slicing: the project's one DataModule.

The data is a dataset of the MNIST family by name (`dataset`: its four IDX files found or fetched by
`lightning_ae.datasets`, read by `lightning_ae.idx`) or your own images (`path`: an `.npz` array or
a folder of PNG/JPEG files, read by `lightning_ae.sources`). Either is kept as a single float tensor
of shape (N, H * W) with pixels in [0, 1] (784 for MNIST); batches are slices of it served by
`lightning_ae.loader.TensorLoader`: there is no per-sample Dataset/PIL/ToTensor path. On a GPU the
whole set is moved to the device once. Callbacks and experiments get images and labels through
`MNISTDataModule.split`, the one data protocol of the project; `image_shape`, `input_dim` and
`class_names` describe the data (the CLI links `input_dim` and `image_shape` to the model's).
"""

from __future__ import annotations

import inspect
from typing import Literal

import lightning as L
import torch
from jsonargparse.typing import OpenUnitInterval, PositiveInt, restricted_number_type
from torch import Tensor

from lightning_ae.datasets import DATASETS, find_data_dir, image_shape, locate
from lightning_ae.errors import ConfigError
from lightning_ae.idx import DataError, load_mnist, load_split, read_idx
from lightning_ae.loader import TensorLoader, binarize
from lightning_ae.sources import Images, read_images


__all__ = ["MNISTDataModule", "DataError", "TensorLoader", "binarize", "find_data_dir", "load_mnist", "read_idx"]
DatasetName = Literal["mnist", "fashion_mnist", "kmnist"]

# argument types: LightningCLI refuses other values when it parses the command line or config
HoldoutSize = restricted_number_type("HoldoutSize", int, [(">", 0), ("<", 60_000)],
                                     docstring="number of training images held out, 1 to 59,999")
LabelCount = restricted_number_type("LabelCount", int, (">=", 10),
                                    docstring="number of labelled images, at least 10 (one per digit)")
LabelFraction = restricted_number_type("LabelFraction", float, [(">", 0), ("<=", 1)],
                                       docstring="share of the training split, in (0, 1]")
SplitFraction = OpenUnitInterval  # a share of the images of data.path, in (0, 1)


class MNISTDataModule(L.LightningDataModule):
    """Images for every model of the project: flattened (B, H * W) pixels in [0, 1] and labels.

    Args:
        data_dir: folder with the dataset's four IDX files (in it or in `MNIST/raw/`,
            `FashionMNIST/raw/` or `KMNIST/raw/` under it). None looks in $LIGHTNING_AE_DATA, else in
            `data/`, `../shared/data` and the per-user cache (`$LIGHTNING_AE_CACHE`, else
            `$XDG_CACHE_HOME/lightning-ae`, else `~/.cache/lightning-ae`), and when it is in none of
            them downloads it into the cache (not with `LIGHTNING_AE_OFFLINE=1`); see `lightning_ae.datasets`.
        download: fetch with torchvision into `data_dir` (or $LIGHTNING_AE_DATA) when the files are missing.
        dataset: mnist, fashion_mnist or kmnist (class names for the figures come with it).
        path: your own images instead: an `.npz` file (`x`: (N, H, W) or (N, H * W), uint8 or float in
            [0, 1]; optional `y` labels and `class_names`) or a folder of PNG/JPEG files (grayscale;
            subfolders are classes), split seeded by `split_seed` into training, holdout
            (`holdout_fraction`) and test (`test_fraction`) images. `predict` encodes all of them, in order.
        image_size: resize the images of `path` to this (H and W, or one number for both); None: the
            `.npz` array's size, or the first image's.
        holdout_fraction: share of `path`'s images held out for validation (the `val_size` of `path`).
        test_fraction: share of `path`'s images kept apart for `test`.
        batch_size: training batch size (evaluation uses `eval_batch_size`).
        val_split: "holdout" keeps `val_size` training images (with `path`: `holdout_fraction` of
            them) apart for validation; "test" validates on the test images (MNIST's 10,000), as the
            classic posts did, and trains on the rest.
        val_size: size of the holdout split of a named dataset, 1 to 59,999 (fixed seed `split_seed`).
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
        dataset: DatasetName = "mnist",
        path: str | None = None,
        image_size: PositiveInt | tuple[PositiveInt, PositiveInt] | None = None,
        holdout_fraction: SplitFraction = 0.1,
        test_fraction: SplitFraction = 0.1,
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
        if path is not None and holdout_fraction + test_fraction >= 1:
            raise ConfigError(f"holdout_fraction={holdout_fraction} and test_fraction={test_fraction} leave no "
                              "training images; lower them so that they add up to less than 1.")
        if path is not None and dataset != "mnist":
            raise ConfigError(f"data.dataset={dataset} and data.path={path} are both set; set only one of them.")
        # our frame, passed in: by itself Lightning 2.6's `save_hyperparameters` leaves a reference cycle
        # through its own frame that keeps this object (~400 MB of tensors once set up) alive until a
        # full garbage collection, which a long process (the test suite) seldom runs
        self.save_hyperparameters(frame=inspect.currentframe())
        self.data_dir, self.download, self.batch_size = data_dir, download, batch_size
        self.tensors: dict[str, tuple[Tensor, Tensor]] = {}
        self._images: Images | None = None  # the images of `path`, read once
        self._shape: tuple[int, int] | None = None

    # -- what the data is ------------------------------------------------------------------------
    @property
    def image_shape(self) -> tuple[int, int]:
        """(H, W) of the images: (28, 28) for the MNIST family (from the IDX header, so any size loads)."""
        if self._shape is None:
            if self.hparams.path is not None:
                self._shape = self._own_images().shape
            else:
                root = find_data_dir(self.data_dir, self.hparams.dataset)
                self._shape = image_shape(root, self.hparams.dataset) if root is not None else (28, 28)
        return self._shape

    @property
    def input_dim(self) -> int:
        """Pixels per image, H * W: the models' `input_dim` (linked by the CLI)."""
        return self.image_shape[0] * self.image_shape[1]

    @property
    def class_names(self) -> tuple[str, ...]:
        """Label i's name, for legends: digits, Fashion-MNIST's "T-shirt/top", ..., KMNIST's "o", "ki", ...,
        `path`'s `class_names` or subfolders (else the label numbers); () for unlabelled images."""
        if self.hparams.path is not None:
            return self._own_images().class_names
        return DATASETS[self.hparams.dataset].classes

    def _own_images(self) -> Images:
        if self._images is None:
            self._images = read_images(self.hparams.path, self.hparams.image_size)
        return self._images

    # -- loading ---------------------------------------------------------------------------------
    def prepare_data(self) -> None:
        if self.hparams.path is None:
            locate(self.data_dir, self.hparams.dataset, self.download)

    def setup(self, stage: str | None = None) -> None:
        if self.tensors:
            return
        h = self.hparams
        if h.path is not None:
            return self._setup_own(stage)
        folder = DATASETS[h.dataset].folder
        root = locate(self.data_dir, h.dataset, self.download)
        (x_train, y_train), (x_test, y_test) = (load_split(root, s, folder) for s in ("train", "test"))
        self._shape = tuple(x_train.shape[1:])
        x_train, x_test = (x.flatten(1).float().div_(255.0) for x in (x_train, x_test))
        if h.val_split == "holdout" and h.val_size >= len(x_train):
            raise ConfigError(f"val_size {h.val_size} leaves no training images of the {len(x_train)}; lower data.val_size.")
        perm = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(h.split_seed))
        if h.val_split == "test":
            train_idx, (x_val, y_val) = perm, (x_test, y_test)
        else:
            train_idx, val_idx = perm[h.val_size :], perm[: h.val_size]
            x_val, y_val = x_train[val_idx], y_train[val_idx]
        self._finish(x_train, y_train, train_idx, (x_val, y_val), (x_test, y_test))

    def _setup_own(self, stage: str | None) -> None:
        """`path`'s images split (seeded) into test, holdout and training images; "all" in the file's order."""
        h, images = self.hparams, self._own_images()
        x, y, n = images.x, images.y, len(images.x)
        n_test, n_val = (max(1, round(f * n)) for f in (h.test_fraction, h.holdout_fraction))
        n_train = n - n_test - (n_val if h.val_split == "holdout" else 0)
        if stage in ("fit", None) and n_train < self.batch_size:
            raise DataError(
                f"{h.path}: {n} images leave {max(0, n_train)} for training after the test and holdout shares, "
                f"fewer than a batch (data.batch_size {self.batch_size}); lower --data.batch_size or add images.")
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(h.split_seed))
        rest, test = perm[n_test:], (x[perm[:n_test]], y[perm[:n_test]])  # rest: holdout first, then training
        x_rest, y_rest = x[rest], y[rest]
        if h.val_split == "test":
            train_idx, val = torch.arange(len(rest)), test
        else:
            train_idx, val = torch.arange(n_val, len(rest)), (x_rest[:n_val], y_rest[:n_val])
        self._finish(x_rest, y_rest, train_idx, val, test, all_=(x, y), check_batch=stage in ("fit", None))

    def _finish(self, x_train: Tensor, y_train: Tensor, train_idx: Tensor, val: tuple[Tensor, Tensor],
                test: tuple[Tensor, Tensor], all_: tuple[Tensor, Tensor] | None = None, check_batch: bool = True) -> None:
        """The splits from the training images and the index of those trained on; binarised, on the device."""
        h = self.hparams
        (x_val, y_val), (x_test, y_test) = val, test
        train_idx = self._labeled_subset(train_idx, y_train)
        if h.train_subset is not None:
            train_idx = train_idx[: h.train_subset]
        if self.batch_size > len(train_idx) and check_batch:
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
        if all_ is not None:
            self.tensors["all"] = all_
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
        if len(labels) and int(labels.min()) < 0:
            raise ConfigError(f"num_labeled / labeled_fraction need labels, and {h.path} has none; leave them out.")
        classes = max(10, int(labels.max()) + 1)
        quota = torch.bincount(labels, minlength=classes).double() * k / len(idx)
        share = quota.floor().long()  # the largest remainders get the last few, so the shares add up to k
        share[torch.argsort(quota - share, descending=True, stable=True)[: k - int(share.sum())]] += 1
        picked = []
        for c in range(classes):  # `idx` is already a seeded permutation: take each class's first share
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
        """The test images; with `path`, all the images of the file or folder, in their order."""
        if self.hparams.path is not None:
            return self._loader("all", self.hparams.eval_batch_size, shuffle=False)
        return self.test_dataloader()

    def teardown(self, stage: str) -> None:
        """Let go of the tensors when Lightning ends a fit, validate, test or predict run. The Trainer
        and the DataModule refer to each other, so a finished pair lives until a full garbage
        collection, which a long process running many of them (the test suite) seldom gets: without
        this each kept ~400 MB. A later `setup`/`split` rebuilds them from the files' bytes, which
        `lightning_ae.idx` keeps, without reading a file again."""
        self.tensors = {}

    def split(self, name: Literal["train", "val", "test", "full_train", "all"], as_seen: bool = False) -> tuple[Tensor, Tensor]:
        """The whole split `name` as (images, labels): the data protocol callbacks and experiments use.

        Images are float (N, D) with pixels in [0, 1] (D = H * W, 784 for MNIST), labels int64 (N,), -1
        for images without a label ("all": every image of `path`, in order), on the device the data
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
