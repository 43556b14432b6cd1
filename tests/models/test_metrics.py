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


@pytest.mark.parametrize("shape", [(28, 28), (8, 8), (32, 20)])
def test_ssim_is_torchmetrics_ssim_per_image_averaged_over_images(shape):
    """The batch-as-channels SSIM (ReconstructionMetrics.update) against torchmetrics' own metric fed one
    image at a time, over batches of unequal size and images of varied quality (blur and noise)."""
    from torchmetrics.image import StructuralSimilarityIndexMeasure

    torch.manual_seed(0)
    h, w = shape
    kernel = min(11, (min(shape) - 1) // 2 * 2 + 1)
    reference = StructuralSimilarityIndexMeasure(data_range=1.0, kernel_size=kernel, sigma=1.5 * kernel / 11)
    ours = ReconstructionMetrics("test/", (1, h, w))
    for n in (37, 5, 64):
        x = torch.rand(n, 1, h, w)
        noise = torch.rand(n, 1, 1, 1) * torch.randn(n, 1, h, w) * 0.3  # a different noise level per image
        x_hat = (torch.nn.functional.avg_pool2d(x, 3, 1, 1) + noise).clamp(0, 1)
        reference.update(x_hat, x)
        ours.update(x_hat.view(n, -1), x.view(n, -1))
    expected = float(reference.compute())
    assert 0.05 < expected < 0.95  # neither identical nor unrelated images
    assert float(ours.ssim.compute()) == pytest.approx(expected, abs=1e-6)


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
