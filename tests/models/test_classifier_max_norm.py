"""The classifier's max-norm constraint (Srivastava et al. 2014): every hidden unit's incoming weight
vector has an L2 norm of at most max_norm after each optimizer step; the output layer is free."""

from __future__ import annotations

from functools import partial

import lightning as L
import torch

from lightning_ae.data import MNISTDataModule
from lightning_ae.models import Classifier


def train(max_norm, mnist_dir, tmp_path) -> Classifier:
    torch.manual_seed(0)
    model = Classifier(hidden_dims=[64, 32], activation="relu", max_norm=max_norm,
                       optimizer=partial(torch.optim.SGD, lr=1.0, momentum=0.9))
    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=500, batch_size=50)
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path).fit(model, datamodule=dm)
    return model


def test_hidden_weight_rows_stay_within_the_max_norm(mnist_dir, tmp_path):
    free, held = train(None, mnist_dir, tmp_path), train(1.0, mnist_dir, tmp_path)
    rows = lambda m: torch.cat([layer.weight.norm(dim=1) for layer in m._linear_layers()])  # noqa: E731
    assert rows(free).max() > 1.5  # lr 1.0 grows the rows well past the bound without the constraint
    assert rows(held).max() <= 1.0 + 1e-5
    assert held.head.weight.norm(dim=1).max() > 1.0  # the output layer is not constrained
