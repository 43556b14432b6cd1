"""Lean validation metrics by default, all of them at test; models and DataModules freed without a GC."""

from __future__ import annotations

import gc
import math
import weakref

import pytest
import torch

from lightning_ae.data import MNISTDataModule
from lightning_ae.models import PCA, Autoencoder
from lightning_ae.models.base import ReconstructionMetrics


def computed(metrics: ReconstructionMetrics, x_hat, x) -> dict[str, float]:
    metrics.update(x_hat, x)
    return {k: float(m.compute()) for k, m in metrics.metrics().items()}


def test_lean_metrics_are_mse_rmse_and_psnr_of_one_sum_of_squares():
    torch.manual_seed(0)
    x, x_hat = torch.rand(64, 784), torch.rand(64, 784)
    lean = computed(ReconstructionMetrics("val/", full=False), x_hat, x)
    assert set(lean) == {"val/mse", "val/rmse", "val/psnr"}
    mse = float(((x_hat - x) ** 2).mean())
    assert lean["val/mse"] == pytest.approx(mse, rel=1e-5)
    assert lean["val/rmse"] == pytest.approx(math.sqrt(mse), rel=1e-5)
    assert lean["val/psnr"] == pytest.approx(10 * math.log10(1 / mse), rel=1e-5)
    full = computed(ReconstructionMetrics("test/"), x_hat, x)
    assert set(full) == {"test/mse", "test/rmse", "test/psnr", "test/ssim", "test/sq_err_per_image"}
    assert full["test/sq_err_per_image"] == pytest.approx(784 * mse, rel=1e-5)


@pytest.mark.parametrize("choice, expected", [(None, False), ("lean", False), ("full", True)])
def test_val_metrics_option_chooses_validation_and_test_has_all(choice, expected):
    model = Autoencoder(**({} if choice is None else {"val_metrics": choice}))
    assert model.val_metrics.full is expected and model.test_metrics.full
    assert model.hparams.val_metrics == (choice or "lean")  # saved with the checkpoint


@pytest.mark.parametrize("make", [lambda: MNISTDataModule(batch_size=5), Autoencoder, PCA])
def test_freed_as_soon_as_dropped(make):
    """No reference cycle keeps them (and, for a DataModule, its ~400 MB of tensors) until a full GC:
    a long process (the test suite) seldom runs one, and the memory piled up."""
    gc.collect()
    gc.disable()
    try:
        obj = make()
        ref = weakref.ref(obj)
        del obj
        assert ref() is None
    finally:
        gc.enable()


def test_teardown_lets_go_of_the_tensors_and_split_rebuilds_them(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=500, val_split="test")
    dm.setup("fit")
    x_train, x_test = dm.split("train")[0].clone(), dm.split("test")[0].clone()
    dm.teardown("fit")  # what Lightning calls at the end of a run
    assert dm.tensors == {}
    assert torch.equal(dm.split("train")[0], x_train) and torch.equal(dm.split("test")[0], x_test)
