"""The MNIST family by name (issue 17, point 1) and where its files are found (point 5).

An IDX set of any size loads (counts and image size from the headers); Fashion-MNIST comes from
Debian's `dataset-fashion-mnist` package (`apt-get install dataset-fashion-mnist`) and its class
names reach the figures' legends; with no copy anywhere and no network, the run stops with one line
naming where it looked. Nothing here touches the network.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import FAST, ROOT, one_error_line
from lightning_ae.callbacks import ImageLogger
from lightning_ae.cli import cli as run_cli, main
from lightning_ae.data import MNISTDataModule
from lightning_ae.datasets import DATASETS, cache_dir, find_data_dir

AE = str(ROOT / "configs/ae_2d.yaml")
FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not (FASHION / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST expected in {FASHION}: install it offline with `apt-get install -y dataset-fashion-mnist`")


def write_idx(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, gz: bool = True) -> None:
    """One split of an IDX set: images (N, H, W) uint8 and labels (N,) uint8, as the MNIST files are."""
    stem = "train" if split == "train" else "t10k"
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {f"{stem}-images-idx3-ubyte": struct.pack(">4I", 2051, *images.shape) + images.tobytes(),
             f"{stem}-labels-idx1-ubyte": struct.pack(">2I", 2049, len(labels)) + labels.tobytes()}
    for name, blob in blobs.items():
        (folder / (f"{name}.gz" if gz else name)).write_bytes(gzip.compress(blob) if gz else blob)


@pytest.fixture
def small_idx(tmp_path):
    """A 12 x 10-pixel IDX set of 50 training and 20 test images in torchvision's KMNIST/raw layout."""
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (50, 12, 10), dtype=np.uint8), rng.integers(0, 10, 50, dtype=np.uint8)
    test = rng.integers(0, 256, (20, 12, 10), dtype=np.uint8), rng.integers(0, 10, 20, dtype=np.uint8)
    write_idx(tmp_path / "idx" / "KMNIST" / "raw", "train", *train)
    write_idx(tmp_path / "idx" / "KMNIST" / "raw", "test", *test, gz=False)
    return tmp_path / "idx", train, test


@pytest.fixture
def fails(capsys):
    """Run `lightning-ae <args>`; assert exit status 2, one error line and no traceback; return the line."""

    def run(*args: str) -> str:
        return one_error_line(capsys, lambda: main(list(args)))

    return run


def test_an_idx_set_of_any_size_loads_with_its_header_counts_and_image_size(small_idx):
    root, (x_train, y_train), (x_test, y_test) = small_idx
    dm = MNISTDataModule(data_dir=str(root), dataset="kmnist", val_size=10, batch_size=8)
    assert dm.image_shape == (12, 10) and dm.input_dim == 120  # from the header, before any pixel is read
    full_x, full_y = dm.split("full_train")
    assert full_x.shape == (50, 120) and torch.equal(full_y, torch.from_numpy(y_train).long())
    assert torch.allclose(full_x, torch.from_numpy(x_train).reshape(50, 120).float() / 255)
    x, y = dm.split("test")
    assert torch.allclose(x, torch.from_numpy(x_test).reshape(20, 120).float() / 255)
    assert len(dm.split("train")[0]) == 40 and len(dm.split("val")[0]) == 10
    assert dm.class_names == ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")


def test_images_and_labels_counts_must_agree_through_the_cli(small_idx, fails, tmp_path):
    root, (x_train, _), _ = small_idx
    labels = root / "KMNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(struct.pack(">2I", 2049, 49) + bytes(49)))
    line = fails("fit", "--config", AE, "--data.dataset", "kmnist", "--data.data_dir", str(root),
                 "--data.val_size", "10", "--data.batch_size", "8", "--trainer.logger.init_args.save_dir", str(tmp_path))
    assert f"{labels}: header says shape (49,), expected (50)" in line and "fresh copy" in line


@needs_fashion
def test_fashion_mnist_by_name_with_its_class_names():
    dm = MNISTDataModule(data_dir=str(FASHION), dataset="fashion_mnist")
    x, y = dm.split("test")
    assert x.shape == (10_000, 784) and dm.input_dim == 784
    assert y[:3].tolist() == [9, 2, 1]  # Ankle boot, Pullover, Trouser: the first test images of Fashion-MNIST
    assert dm.class_names[9] == "Ankle boot" and dm.class_names[0] == "T-shirt/top"
    assert len(dm.split("full_train")[0]) == 60_000


@needs_fashion
def test_fashion_mnist_fit_labels_the_legend_with_class_names(tmp_path):
    # `run_cli` with its own --data.data_dir (the MNIST it passes would win over this one)
    fitted = run_cli(["fit", "--config", AE, "--data.dataset", "fashion_mnist", "--data.data_dir", str(FASHION),
                   "--model.init_args.hidden_dims", "[64]", "--test_after_fit", "true",
                   "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"), *FAST])
    logger = next(c for c in fitted.trainer.callbacks if isinstance(c, ImageLogger))
    scatter = logger.pictures(fitted.trainer, fitted.model)["latent_scatter"]
    legend = scatter.axes[0].get_legend()
    assert legend.get_title().get_text() == "class"
    assert [t.get_text() for t in legend.get_texts()] == list(DATASETS["fashion_mnist"].classes)
    run = Path(fitted.trainer.logger.log_dir)
    assert (run / "figures" / "latent_scatter.png").is_file()
    assert fitted.model.hparams.input_dim == 784


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("LIGHTNING_AE_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "lightning-ae"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "lightning-ae"
    monkeypatch.setenv("LIGHTNING_AE_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A current folder with no data/ and no ../shared/data, an empty cache, and no $LIGHTNING_AE_DATA."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.delenv("LIGHTNING_AE_DATA", raising=False)
    monkeypatch.setenv("LIGHTNING_AE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_copy_in_the_cache_is_found(elsewhere, small_idx):
    root, _, _ = small_idx
    (elsewhere / "KMNIST").mkdir(parents=True)
    (elsewhere / "KMNIST" / "raw").symlink_to(root / "KMNIST" / "raw")
    assert find_data_dir(None, "kmnist") == elsewhere
    assert find_data_dir(None, "mnist") is None  # neither here nor in the cache


def test_offline_without_a_copy_stops_with_one_line(elsewhere, fails, monkeypatch, tmp_path):
    monkeypatch.setenv("LIGHTNING_AE_OFFLINE", "1")
    line = fails("fit", "--config", AE, "--data.dataset", "kmnist", "--trainer.logger.init_args.save_dir", str(tmp_path))
    assert f"KMNIST not found in data or ../shared/data or {elsewhere}" in line
    assert f"put the four files in {elsewhere / 'KMNIST' / 'raw'}" in line and "unset LIGHTNING_AE_OFFLINE" in line
    assert not elsewhere.exists()  # nothing was fetched


def test_a_failed_download_into_the_cache_stops_with_one_line(elsewhere, fails, monkeypatch, tmp_path):
    from torchvision.datasets import KMNIST

    monkeypatch.delenv("LIGHTNING_AE_OFFLINE", raising=False)
    monkeypatch.setattr(KMNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there: refused at once
    line = fails("fit", "--config", AE, "--data.dataset", "kmnist", "--trainer.logger.init_args.save_dir", str(tmp_path))
    assert f"could not download KMNIST into {elsewhere}" in line and "not found in data, ../shared/data" in line
    assert str(elsewhere / "KMNIST" / "raw") in line and "--data.data_dir" in line
