"""The labelled subset of MNISTDataModule: exact size, stratified by digit, seeded, inside the training split."""

from __future__ import annotations

import pytest
import torch

from lightning_ae.data import MNISTDataModule


def labeled(mnist_dir, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    dm = MNISTDataModule(data_dir=str(mnist_dir), batch_size=5, **kwargs)
    dm.setup()
    return dm.split("train")


def keys(x: torch.Tensor) -> set[int]:
    """Exact per-image keys (the pixels are multiples of 1/255)."""
    w = torch.randint(-2**40, 2**40, (x.shape[1],), generator=torch.Generator().manual_seed(0))
    return set(((x * 255).round().long() * w).sum(-1).tolist())


@pytest.mark.parametrize("n", [10, 37, 100, 1000, 20_000])
def test_num_labeled_gives_exactly_n_images_stratified_by_digit(mnist_dir, mnist, n):
    _, y = labeled(mnist_dir, num_labeled=n)
    assert len(y) == n
    full = torch.bincount(mnist.split("train")[1], minlength=10).double()
    expected = full / full.sum() * n  # each digit keeps its share of the training split
    assert (torch.bincount(y, minlength=10).double() - expected).abs().max() < 1.0


def test_labeled_fraction_is_a_share_of_the_training_split(mnist_dir):
    _, y = labeled(mnist_dir, labeled_fraction=0.01)
    assert len(y) == 550  # 1% of the 55,000 training images (5,000 are held out)


def test_subset_is_seeded(mnist_dir):
    a, _ = labeled(mnist_dir, num_labeled=100, split_seed=0)
    b, _ = labeled(mnist_dir, num_labeled=100, split_seed=0)
    c, _ = labeled(mnist_dir, num_labeled=100, split_seed=1)
    assert torch.equal(a, b)
    assert len(keys(a) & keys(c)) < 10  # another seed draws (nearly) other images


def test_subset_comes_from_the_training_split_never_the_validation_images(mnist_dir, mnist):
    x, _ = labeled(mnist_dir, num_labeled=1000)
    train, val = keys(mnist.split("train")[0]), keys(mnist.split("val")[0])
    assert keys(x) <= train and not keys(x) & (val - train)


def test_with_the_test_split_as_validation_all_60000_images_can_be_labelled(mnist_dir):
    _, y = labeled(mnist_dir, val_split="test", num_labeled=60_000)
    assert len(y) == 60_000


def test_labels_by_count_and_by_fraction_together_are_refused():  # each alone: its type (test_data.py)
    with pytest.raises(ValueError, match="set only one of them"):
        MNISTDataModule(num_labeled=100, labeled_fraction=0.1)


def test_more_labels_than_images_is_refused(mnist_dir):
    with pytest.raises(ValueError, match="exceeds the 55000"):
        labeled(mnist_dir, num_labeled=55_001)
