"""Classifier: loads an autoencoder's encoder bit for bit, keeps it bit for bit when frozen, and
learns digits from few labels."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from jsonargparse import ArgumentError
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lightning_ae.data import MNISTDataModule
from lightning_ae.models import Autoencoder, Classifier
from typed import build


def trainer(**kwargs) -> L.Trainer:
    return L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     accelerator="cpu", devices=1, **kwargs)


def prototypes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n noisy images of 10 classes: a fixed random 784-pixel prototype per class plus Gaussian noise."""
    proto = torch.rand(10, 784, generator=torch.Generator().manual_seed(1234))
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    return (proto[y] + 0.5 * torch.randn(n, 784, generator=g)).clamp(0, 1), y


def loader(n: int = 640, seed: int = 0, batch_size: int = 32) -> DataLoader:
    return DataLoader(TensorDataset(*prototypes(n, seed)), batch_size=batch_size)


@pytest.fixture
def ae_ckpt(tmp_path):
    """A real Lightning checkpoint of a 784-32-8 ELU autoencoder (a few steps on random pixels)."""
    torch.manual_seed(0)
    ae = Autoencoder(hidden_dims=[32], latent_dim=8, activation="elu", code_activation="elu")
    x = torch.rand(64, 784)
    fit = trainer(max_epochs=1)
    fit.fit(ae, DataLoader(TensorDataset(x, torch.zeros(64, dtype=torch.long)), batch_size=16))
    path = tmp_path / "ae.ckpt"
    fit.save_checkpoint(path)
    return str(path), ae


def test_classifier_starts_from_the_encoder_weights(ae_ckpt):
    path, ae = ae_ckpt
    torch.manual_seed(1)
    clf = Classifier(hidden_dims=[32, 8], activation="elu", encoder_ckpt=path)
    mine, theirs = clf.encoder.state_dict(), ae.encoder.state_dict()
    assert mine.keys() == theirs.keys() and len(mine) == 4  # two linear layers: weight and bias each
    for k in mine:
        assert torch.equal(mine[k], theirs[k]), k
    x = torch.rand(5, 784)
    torch.testing.assert_close(clf.encode(x), ae.encode(x), rtol=0, atol=0)  # same features, activations included
    assert clf(x).shape == (5, 10)
    torch.manual_seed(1)
    assert not torch.equal(Classifier(hidden_dims=[32, 8]).encoder[0].weight, clf.encoder[0].weight)


def test_the_project_checkpoints_load_as_plain_data_and_restore_the_classifier(ae_ckpt, tmp_path):
    torch.load(ae_ckpt[0], map_location="cpu", weights_only=True)  # tensors and plain data only
    clf = Classifier(hidden_dims=[32, 8], encoder_ckpt=ae_ckpt[0], dropout=0.2)
    fit = trainer(max_epochs=1)
    fit.fit(clf, loader(n=64))
    path = tmp_path / "clf.ckpt"
    fit.save_checkpoint(path)
    saved = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.equal(saved[k], v) for k, v in clf.state_dict().items())
    restored = Classifier.load_from_checkpoint(path, map_location="cpu")
    x = torch.rand(5, 784)
    torch.testing.assert_close(restored.eval()(x), clf.eval()(x), rtol=0, atol=0)


def test_dropout_keeps_the_encoder_weights_and_is_off_in_eval(ae_ckpt):
    path, ae = ae_ckpt
    clf = Classifier(hidden_dims=[32, 8], encoder_ckpt=path, input_dropout=0.2, dropout=0.5)
    assert [type(m).__name__ for m in clf.encoder] == ["Linear", "ELU", "Dropout", "Linear", "ELU", "Dropout"]
    mine = [m for m in clf.encoder if isinstance(m, nn.Linear)]
    theirs = [m for m in ae.encoder if isinstance(m, nn.Linear)]
    for a, b in zip(mine, theirs, strict=True):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    x = torch.rand(5, 784)
    torch.testing.assert_close(clf.eval().encode(x), ae.encode(x), rtol=0, atol=0)
    assert not torch.allclose(clf.train().encode(x), ae.encode(x))


def test_learns_ten_classes_far_above_chance():
    torch.manual_seed(0)
    clf = Classifier(hidden_dims=[32, 16], optimizer=lambda p: torch.optim.Adam(p, lr=1e-2))
    held_out = loader(n=1000, seed=1, batch_size=500)
    untrained = trainer().test(clf, held_out, verbose=False)[0]["test/acc"]
    fit = trainer(max_epochs=2)
    fit.fit(clf, loader())  # 640 examples, 40 steps
    metrics = fit.test(clf, held_out, verbose=False)[0]
    x, y = prototypes(1000, seed=1)
    with torch.no_grad():
        by_hand = (clf.eval()(x).argmax(1) == y).float().mean().item()
    assert metrics["test/acc"] == pytest.approx(by_hand, abs=1e-6)  # the logged metric is the accuracy
    assert untrained < 0.3 and metrics["test/acc"] > 0.8  # chance 0.1; measured 0.10 before, 0.92 after


def test_the_noisy_classifier_learns_with_lightning_and_tests_on_the_running_statistics():
    """Prototype digits (a fixed random image per class plus noise): far above chance after two epochs,
    and the logged test accuracy is the eval-mode network's (running BN statistics, no noise)."""
    L.seed_everything(0)
    clf = Classifier(hidden_dims=[64, 32], activation="relu", init="xavier", batch_norm=True, noise_std=0.5,
                     input_noise=0.3, optimizer=lambda p: torch.optim.Adam(p, lr=2e-3))
    fit = trainer(max_epochs=2)
    fit.fit(clf, loader())
    held_out = loader(n=1000, seed=1, batch_size=500)
    accuracy = fit.test(clf, held_out, verbose=False)[0]["test/acc"]
    x, y = prototypes(1000, seed=1)
    with torch.no_grad():
        by_hand = (clf.eval()(x).argmax(1) == y).float().mean().item()
    assert accuracy == pytest.approx(by_hand, abs=1e-6)
    assert accuracy > 0.8  # chance 0.1


@pytest.mark.parametrize("freeze", [True, False])
def test_frozen_encoder_stays_bit_for_bit_and_the_head_trains(ae_ckpt, freeze):
    clf = Classifier(hidden_dims=[32, 8], encoder_ckpt=ae_ckpt[0], freeze_encoder=freeze,
                     optimizer=lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1))  # decay too skips frozen weights
    before = {k: v.clone() for k, v in clf.state_dict().items()}
    trainer(max_epochs=1).fit(clf, loader(n=128))
    after = clf.state_dict()
    encoder = [k for k in before if k.startswith("encoder.")]
    assert len(encoder) == 4
    assert not torch.equal(before["head.weight"], after["head.weight"])
    assert not torch.equal(before["head.bias"], after["head.bias"])
    assert [torch.equal(before[k], after[k]) for k in encoder] == [freeze] * 4


def test_injected_scheduler_is_stepped_once_per_epoch():
    clf = Classifier(hidden_dims=[16, 8], optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                     lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    fit = trainer(max_epochs=3)
    fit.fit(clf, loader(n=64, batch_size=16))
    assert fit.global_step == 12
    assert fit.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


def test_learns_real_digits_from_a_few_hundred_labels(mnist_dir):
    L.seed_everything(0)
    dm = MNISTDataModule(data_dir=str(mnist_dir), num_labeled=500, batch_size=50, eval_batch_size=1000)
    clf = Classifier(hidden_dims=[64, 32], optimizer=lambda p: torch.optim.Adam(p, lr=3e-3))
    fit = trainer(max_epochs=5, limit_val_batches=1, limit_test_batches=2, limit_predict_batches=1)
    fit.fit(clf, datamodule=dm)
    metrics = fit.test(clf, datamodule=dm, verbose=False)[0]
    assert metrics["test/acc"] > 0.7, metrics  # on 2,000 test images; chance 0.1, measured 0.80 (0.81 at 10 epochs)
    out = fit.predict(clf, datamodule=dm)[0]
    dm.setup("predict")
    x, y = next(iter(dm.predict_dataloader()))
    assert torch.equal(out["y"], y)
    with torch.no_grad():
        torch.testing.assert_close(out["z"], clf.eval().encode(x))
    assert out["z"].shape == (1000, 32)


def test_encoder_checkpoint_must_match_the_layout(ae_ckpt):
    with pytest.raises(ValueError, match="784-32-8, the classifier 784-64-8"):
        Classifier(hidden_dims=[64, 8], encoder_ckpt=ae_ckpt[0])
    with pytest.raises(ValueError, match="activation='elu'.*set activation: elu"):
        Classifier(hidden_dims=[32, 8], activation="relu", encoder_ckpt=ae_ckpt[0])
    with pytest.raises(ValueError, match="code_activation"):
        Classifier(hidden_dims=[32, 8], code_activation="linear", encoder_ckpt=ae_ckpt[0])
    with pytest.raises(ValueError, match="nowhere.ckpt"):
        Classifier(hidden_dims=[32, 8], encoder_ckpt="nowhere.ckpt")


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden_dims": []}, "hidden_dims is empty"),
    ({"freeze_encoder": True}, "needs encoder_ckpt"),
    ({"num_classes": 1}, "num_classes"),
    ({"activation": "swish"}, "activation"),
    ({"dropout": 1.0}, "dropout"),
    ({"input_dropout": -0.1}, "input_dropout"),
])
def test_bad_hyperparameters_are_refused(kwargs, match):
    with pytest.raises((ArgumentError, ValueError), match=match):
        build(Classifier, **kwargs)
