"""Classifier: loads an autoencoder's encoder, freezes it on request, trains a softmax head."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch import nn

from lightning_ae.data import MNISTDataModule, TensorLoader
from lightning_ae.models import Autoencoder, Classifier


@pytest.fixture
def ae_ckpt(tmp_path):
    """A real Lightning checkpoint of a 784-32-8 ELU autoencoder (a few steps on random pixels)."""
    torch.manual_seed(0)
    ae = Autoencoder(hidden_dims=[32], latent_dim=8, activation="elu", code_activation="elu", lr=0.01)
    x = torch.rand(64, 784)
    loader = TensorLoader(x, torch.zeros(64, dtype=torch.long), batch_size=16)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1)
    trainer.fit(ae, train_dataloaders=loader)
    path = tmp_path / "ae.ckpt"
    trainer.save_checkpoint(path)
    return str(path), ae


def test_classifier_starts_from_the_encoder_weights(ae_ckpt):
    path, ae = ae_ckpt
    torch.manual_seed(1)
    clf = Classifier(hidden_dims=[32, 8], activation="elu", encoder_ckpt=path)
    for mine, theirs in zip(clf.encoder.state_dict().values(), ae.encoder.state_dict().values()):
        assert torch.equal(mine, theirs)
    x = torch.rand(5, 784)
    torch.testing.assert_close(clf.encode(x), ae.encode(x))  # same features, activations included
    assert clf(x).shape == (5, 10)
    assert not torch.equal(Classifier(hidden_dims=[32, 8]).encoder[0].weight, clf.encoder[0].weight)


def test_dropout_keeps_the_encoder_weights_and_is_off_in_eval(ae_ckpt):
    path, ae = ae_ckpt
    clf = Classifier(hidden_dims=[32, 8], encoder_ckpt=path, input_dropout=0.2, dropout=0.5)
    assert [type(m).__name__ for m in clf.encoder] == ["Linear", "ELU", "Dropout", "Linear", "ELU", "Dropout"]
    theirs = [m for m in ae.encoder if isinstance(m, nn.Linear)]
    for mine, ref in zip(clf._linear_layers(), theirs, strict=True):
        assert torch.equal(mine.weight, ref.weight) and torch.equal(mine.bias, ref.bias)
    x = torch.rand(5, 784)
    torch.testing.assert_close(clf.eval().encode(x), ae.encode(x))
    assert not torch.allclose(clf.train().encode(x), ae.encode(x))
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        Classifier(dropout=1.0)
    with pytest.raises(ValueError, match="scheduler"):
        Classifier(scheduler="step")


def test_cosine_scheduler_reaches_zero_at_the_last_step():
    clf = Classifier(hidden_dims=[16, 8], lr=0.01, scheduler="cosine")
    loader = TensorLoader(torch.rand(64, 784), torch.randint(0, 10, (64,)), batch_size=16)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1)
    trainer.fit(clf, train_dataloaders=loader)
    assert trainer.global_step == 8 and trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def fit_a_few_steps(clf: Classifier) -> dict[str, torch.Tensor]:
    before = {k: v.clone() for k, v in clf.state_dict().items()}
    torch.manual_seed(0)
    x, y = torch.rand(64, 784), torch.randint(0, 10, (64,))
    loader = TensorLoader(x, y, batch_size=16)
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, accelerator="cpu", devices=1).fit(clf, train_dataloaders=loader)
    return before


@pytest.mark.parametrize("freeze", [True, False])
def test_freeze_encoder_keeps_the_encoder_and_trains_the_head(ae_ckpt, freeze):
    clf = Classifier(hidden_dims=[32, 8], encoder_ckpt=ae_ckpt[0], freeze_encoder=freeze, lr=0.01, weight_decay=1e-3)
    before = fit_a_few_steps(clf)
    after = clf.state_dict()
    assert not torch.equal(before["head.weight"], after["head.weight"])
    encoder_moved = [not torch.equal(before[k], after[k]) for k in before if k.startswith("encoder.")]
    assert encoder_moved == [not freeze] * 4


def test_test_metrics_and_predictions_on_mnist(mnist_dir, ae_ckpt):
    dm = MNISTDataModule(data_dir=str(mnist_dir), num_labeled=100, batch_size=50, eval_batch_size=500)
    clf = Classifier(hidden_dims=[32, 8], encoder_ckpt=ae_ckpt[0], lr=0.01)
    trainer = L.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1, limit_val_batches=1,
                        limit_test_batches=2, limit_predict_batches=1)
    trainer.fit(clf, datamodule=dm)
    metrics = trainer.test(clf, datamodule=dm, verbose=False)[0]
    assert {"test/loss", "test/acc"} <= set(metrics) and 0.0 <= metrics["test/acc"] <= 1.0
    out = trainer.predict(clf, datamodule=dm)[0]
    assert out["z"].shape == (500, 8) and out["y"].shape == (500,)


def test_encoder_checkpoint_must_match_the_layout(ae_ckpt):
    with pytest.raises(ValueError, match="784-32-8, the classifier 784-64-8"):
        Classifier(hidden_dims=[64, 8], encoder_ckpt=ae_ckpt[0])
    with pytest.raises(ValueError, match="activation='elu'.*set activation: elu"):
        Classifier(hidden_dims=[32, 8], activation="relu", encoder_ckpt=ae_ckpt[0])
    with pytest.raises(ValueError, match="code_activation"):
        Classifier(hidden_dims=[32, 8], code_activation="linear", encoder_ckpt=ae_ckpt[0])
    with pytest.raises(FileNotFoundError, match="repro-greedy"):
        Classifier(hidden_dims=[32, 8], encoder_ckpt="nowhere.ckpt")


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden_dims": []}, "hidden_dims is empty"),
    ({"freeze_encoder": True}, "needs encoder_ckpt"),
    ({"num_classes": 1}, "num_classes"),
    ({"lr": 0.0}, "lr must be positive"),
    ({"activation": "swish"}, "activation='swish' is not known"),
])
def test_bad_hyperparameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Classifier(**kwargs)
