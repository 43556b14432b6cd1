"""The GPU fast path of the DataModule, exercised without a GPU: the whole set moves to the
strategy's root device once and batches are sliced there (`meta` stands in for `cuda` here)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from lightning_ae.data import MNISTDataModule


def _trainer(device: str) -> SimpleNamespace:
    """The parts of a Trainer the DataModule reads."""
    return SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device(device)), global_rank=0, world_size=1)


@pytest.mark.parametrize("resident, device, expected", [
    ("auto", "meta", "meta"),  # an accelerator: the data lives there
    (True, "meta", "meta"),
    (False, "meta", "cpu"),  # turned off: batches are copied per step by Lightning instead
    ("auto", "cpu", "cpu"),  # training on the CPU: nothing to move
])
def test_device_resident_places_every_split_once(mnist_dir, resident, device, expected):
    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=256, batch_size=100, device_resident=resident)
    dm.trainer = _trainer(device)
    dm.setup("fit")
    assert {x.device.type for x, _ in dm.tensors.values()} == {expected}
    assert {y.device.type for _, y in dm.tensors.values()} == {expected}
    batches = list(dm.train_dataloader())
    assert [tuple(x.shape) for x, _ in batches] == [(100, 784), (100, 784), (56, 784)]
    assert all(x.device.type == expected and y.device.type == expected for x, y in batches)
    x, y = next(iter(dm.test_dataloader()))
    assert x.device.type == expected and x.shape == (1000, 784) and y.shape == (1000,)


def test_device_resident_batches_equal_host_batches(mnist_dir):
    """Slicing on the device serves the same images in the same order as slicing on the host."""
    host = MNISTDataModule(data_dir=str(mnist_dir), train_subset=300, batch_size=64, device_resident=False)
    host.setup("fit")
    resident = MNISTDataModule(data_dir=str(mnist_dir), train_subset=300, batch_size=64)
    resident.trainer = _trainer("cpu")
    resident.setup("fit")
    for (a, ya), (b, yb) in zip(host.train_dataloader(), resident.train_dataloader(), strict=True):
        assert torch.equal(a, b) and torch.equal(ya, yb)
