"""MNISTDataModule and TensorLoader on the real MNIST files, and the types of the DataModule's arguments."""

from __future__ import annotations

import gzip
import shutil

import pytest
import torch
from jsonargparse import ArgumentError, ArgumentParser

from lightning_ae.data import DataError, MNISTDataModule, TensorLoader, load_mnist, read_idx


def test_splits_shapes_and_ranges(mnist):
    x_train, y_train = mnist.split("train")
    x_val, y_val = mnist.split("val")
    x_test, y_test = mnist.split("test")
    assert x_train.shape == (55_000, 784) and x_val.shape == (5_000, 784) and x_test.shape == (10_000, 784)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(y_test.unique().tolist()) == set(range(10))
    # MNIST's pixel mean is 0.1307 (the normalisation constant everyone uses)
    assert abs(mnist.split("full_train")[0].mean().item() - 0.1307) < 1e-3


def test_holdout_is_disjoint_and_seeded(mnist_dir):
    a, b = MNISTDataModule(data_dir=str(mnist_dir)), MNISTDataModule(data_dir=str(mnist_dir))
    xa, _ = a.split("val")
    xb, _ = b.split("val")
    assert torch.equal(xa, xb)
    train_rows = {r.numpy().tobytes() for r in a.split("train")[0]}
    assert not any(r.numpy().tobytes() in train_rows for r in xa[:200])


def test_val_split_test_uses_test_set(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), val_split="test")
    assert torch.equal(dm.split("val")[0], dm.split("test")[0])
    assert len(dm.split("train")[0]) == 60_000


def test_loader_slices_batches_and_shuffles_per_epoch():
    x, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    loader = TensorLoader(x, y, batch_size=4, shuffle=True, seed=1)
    first = torch.cat([b[1] for b in loader])
    assert len(loader) == 3 and sorted(first.tolist()) == list(range(10))
    assert torch.equal(first, torch.cat([b[1] for b in loader]))  # same epoch, same order
    loader.set_epoch(1)
    assert not torch.equal(first, torch.cat([b[1] for b in loader]))
    assert [len(b[0]) for b in TensorLoader(x, y, 4, drop_last=True)] == [4, 4]


def test_loader_shards_cover_every_sample_once():
    x, y = torch.zeros(10, 1), torch.arange(10)
    seen = [torch.cat([b[1] for b in TensorLoader(x, y, 2, shuffle=True, rank=r, world_size=2)]) for r in range(2)]
    assert len(seen[0]) == len(seen[1]) == 5
    assert sorted(torch.cat(seen).tolist()) == list(range(10))


def test_binarize_gives_binary_batches(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), binarize=True, train_subset=512)
    dm.setup()
    x, _ = next(iter(dm.train_dataloader()))
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert set(dm.split("test")[0].unique().tolist()) <= {0.0, 1.0}


def test_missing_folder_names_the_folder_and_the_fixes(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="nowhere") as e:
        dm.setup()
    assert "download" in str(e.value) and "MNIST/raw" in str(e.value)


def _copy_mnist(src, dst):
    raw = dst / "MNIST" / "raw"
    shutil.copytree(src / "MNIST" / "raw", raw)
    return raw


def test_truncated_file_is_reported(tmp_path, mnist_dir):
    raw = _copy_mnist(mnist_dir, tmp_path)
    path = raw / "t10k-labels-idx1-ubyte.gz"
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(DataError, match="truncated"):
        load_mnist(tmp_path, "test")


def test_wrong_magic_and_corrupt_gzip_are_reported(tmp_path, mnist_dir):
    raw = _copy_mnist(mnist_dir, tmp_path)
    labels = raw / "t10k-labels-idx1-ubyte.gz"
    images = raw / "t10k-images-idx3-ubyte.gz"
    shutil.copy(labels, images)  # a label file where the images should be
    with pytest.raises(DataError, match="magic number 2049"):
        load_mnist(tmp_path, "test")
    labels.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(labels, 2049, 10_000)


def test_reads_decompressed_files_too(tmp_path, mnist_dir):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (mnist_dir / "MNIST" / "raw").glob("t10k-*.gz"):
        (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    x, y = load_mnist(tmp_path, "test")
    assert x.shape == (10_000, 784) and y[:5].tolist() == [7, 2, 1, 0, 4]


def parse_data(*args: str):
    """The `data` section as LightningCLI parses it: the argument types refuse bad values."""
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(MNISTDataModule, "data")
    return parser.parse_args(list(args))


@pytest.mark.parametrize("option, value", [
    ("batch_size", "0"), ("eval_batch_size", "-1"), ("val_size", "0"), ("val_size", "60000"), ("val_split", "train"),
    ("train_subset", "0"), ("device_resident", "maybe"), ("num_labeled", "5"), ("labeled_fraction", "0"),
    ("labeled_fraction", "1.5"),
])
def test_impossible_values_are_refused_when_parsed(option, value):
    with pytest.raises(ArgumentError, match=f"data.{option}"):
        parse_data(f"--data.{option}", value)


def test_the_edges_of_each_range_are_accepted():
    data = parse_data("--data.batch_size", "1", "--data.val_size", "59999", "--data.num_labeled", "10",
                      "--data.labeled_fraction", "1", "--data.train_subset", "null").data
    assert (data.batch_size, data.val_size, data.num_labeled, data.labeled_fraction, data.train_subset) == (1, 59999, 10, 1.0, None)


def test_batch_larger_than_the_training_set(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), batch_size=2000, train_subset=1000)
    with pytest.raises(ValueError, match="larger than the training set"):
        dm.setup()


def test_split_as_seen_is_one_fixed_binary_sample_of_the_training_images(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), binarize=True, train_subset=512)
    x, y = dm.split("train")
    seen, seen_y = dm.split("train", as_seen=True)
    assert torch.equal(y, seen_y) and seen.shape == x.shape and seen.dtype == torch.float32
    assert set(seen.unique().tolist()) == {0.0, 1.0} and len(x.unique()) > 2  # intensities unless as_seen
    assert torch.equal(seen, dm.split("train", as_seen=True)[0])  # fixed
    assert abs(seen.mean() - x.mean()) < 0.01  # a Bernoulli sample of the intensities
    assert torch.equal(dm.split("test", as_seen=True)[0], dm.split("test")[0])  # evaluation: already binary
    plain = MNISTDataModule(data_dir=str(mnist_dir), train_subset=512)
    assert torch.equal(plain.split("train", as_seen=True)[0], plain.split("train")[0])  # nothing to binarise


def test_loader_sampler_is_what_lightning_sets_the_epoch_on():
    x, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    loader = TensorLoader(x, y, batch_size=4, shuffle=True, seed=1)
    assert loader.batch_sampler is None  # as in a DataLoader: Lightning looks at `sampler`
    loader.sampler.set_epoch(3)  # what Lightning's loops do at each epoch start
    assert loader.sampler.epoch == 3 and loader.state_dict()["epoch"] == 3
    other = TensorLoader(x, y, batch_size=4, shuffle=True, seed=1)
    other.set_epoch(3)
    assert torch.equal(torch.cat([b[1] for b in loader]), torch.cat([b[1] for b in other]))
    assert list(loader.sampler) == torch.cat([b[1] for b in loader]).tolist()  # the sampler's order is served
