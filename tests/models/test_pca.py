"""The PCA baseline against numpy's SVD, and through the Trainer."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from lightning_ae.data import MNISTDataModule
from lightning_ae.models import PCA


def numpy_pca_error(x: np.ndarray, k: int) -> float:
    mu = x.mean(0)
    _, _, vt = np.linalg.svd(x - mu, full_matrices=False)
    recon = (x - mu) @ vt[:k].T @ vt[:k] + mu
    return float(((x - recon) ** 2).mean())


def test_matches_numpy_svd_on_mnist(mnist):
    x = mnist.split("full_train")[0][:5000]
    for k in (2, 9):
        pca = PCA.from_data(x, k)
        ours = torch.mean((pca(x) - x) ** 2).item()
        assert abs(ours - numpy_pca_error(x.double().numpy(), k)) < 1e-6
        assert abs(pca.train_mse - ours) < 1e-6  # closed-form training error
        assert torch.allclose(pca.components @ pca.components.T, torch.eye(k), atol=1e-5)


def test_fit_through_trainer_reproduces_published_train_error(mnist_dir, tmp_path):
    dm = MNISTDataModule(data_dir=str(mnist_dir), val_split="test", batch_size=2000)
    model = PCA(n_components=2)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        num_sanity_val_steps=0, default_root_dir=tmp_path)
    trainer.fit(model, dm)
    # Cross Validated post: 0.0560 on the 60,000 training images; test 0.0557
    assert abs(trainer.callback_metrics["train/mse"].item() - 0.0560) < 5e-4
    test = trainer.test(model, dm, verbose=False)[0]
    assert abs(test["test/mse"] - 0.0557) < 5e-4
