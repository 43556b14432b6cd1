"""The TensorBoard pictures, the HParams session and the steps they are written at."""

from __future__ import annotations

import json

import lightning as L
from matplotlib import pyplot as plt
import numpy as np
import pytest
import torch
from lightning.pytorch.trainer.states import TrainerFn
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, metadata

from lightning_ae import figures
from lightning_ae.callbacks import ImageLogger
from lightning_ae.callbacks.hparams import SHOWN, columns, experiment_summary, run_hparams, session_summaries
from lightning_ae.callbacks.images import RunStep, _ReferencePCA
from lightning_ae.callbacks.probes import projector_codes
from lightning_ae.models import PCA, Autoencoder, Classifier, VariationalAutoencoder


def test_labelled_grid_fits_a_card_with_digits_at_twice_their_pixels():
    rows = [torch.rand(6, 784) for _ in range(3)]
    fig = figures.labelled_grid(rows, ["original", "PCA, 2 components", "Autoencoder, 2-D code"])
    assert fig.get_size_inches()[0] * fig.dpi == figures.WIDTH == 350
    assert fig.get_size_inches()[1] * fig.dpi <= 1.05 * figures.HEIGHT  # fits a TIME SERIES card as it opens
    canvas = fig.axes[0].images[0].get_array()
    assert np.array_equal(canvas[::2, ::2].repeat(2, 0).repeat(2, 1), canvas)  # nearest neighbour, 2x
    assert [t.get_text() for t in fig.texts] == ["original", "PCA, 2 components", "Autoencoder, 2-D code"]
    for r, row in enumerate(rows):
        assert np.allclose(figures.cell(fig, r, 5), row[5].view(28, 28).numpy())
    wrapped = figures.labelled_grid([torch.rand(10, 784)] * 2, ["a", "b"])  # 10 images: two blocks of 5
    layout = json.loads(wrapped.axes[0].get_label())
    assert layout["per_line"] == 5 and len(layout["tops"]) == 4 and len(wrapped.texts) == 4


def test_codes_of_any_size_become_a_labelled_plane():
    z = torch.randn(50, 2)
    points, xlabel, ylabel, how = figures.to_plane(z)
    assert np.allclose(points, z.numpy()) and (xlabel, ylabel, how) == ("z1", "z2", "2-D codes")
    points, xlabel, _, how = figures.to_plane(torch.randn(50, 30))
    assert points.shape == (50, 2) and xlabel == "PC 1" and how == "30-D codes, first 2 principal components"
    assert points[:, 0].var() >= points[:, 1].var()  # the first component carries the most variance
    assert figures.to_plane(torch.randn(50, 1))[0].shape == (50, 2)
    fig = figures.scatter_figure([("Autoencoder: 2-D codes", points, np.arange(50) % 10, "z1", "z2")], title="ae/run")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(d) for d in range(10)]  # a legend per digit
    assert ax.get_xlabel() == "z1" and ax.get_title() == "Autoencoder: 2-D codes" and fig.texts[0].get_text() == "ae/run"
    assert fig.get_size_inches()[0] * fig.dpi == figures.WIDTH


def test_projector_gets_at_least_three_dimensions():
    padded, name = projector_codes(torch.ones(4, 2))
    assert padded.shape == (4, 3) and padded[:, 2].eq(0).all() and name == "test_codes_2d_zero_padded_to_3d"
    same, name = projector_codes(torch.ones(4, 10))
    assert same.shape == (4, 10) and name == "test_codes_10d"


def test_reference_pca_matches_the_pca_model():
    x = torch.rand(300, 784)
    ref, pca = _ReferencePCA(x, 3), PCA.from_data(x, 3)
    assert torch.allclose(ref(x), pca(x), atol=1e-4)
    assert torch.allclose(ref.encode(x).abs(), pca.encode(x).abs(), atol=1e-3)  # up to the sign of each component


def test_every_run_declares_the_same_hparams_columns_and_metrics():
    cols = columns()
    assert {"model", "latent_dim", "n_components", "hidden_dims", "kl_weight", "noise", "freeze_encoder",
            "batch_size", "lr", "optimizer", "max_epochs"} <= set(cols)
    assert not any(k.startswith("_") for k in cols) and "optimizer" in cols and "lr_scheduler" in cols
    assert cols["tie_weights"][0] == api_pb2.DATA_TYPE_BOOL and cols["latent_dim"][0] == api_pb2.DATA_TYPE_FLOAT64
    assert cols["hidden_dims"][0] == cols["activation"][0] == api_pb2.DATA_TYPE_STRING
    assert cols["nll_images"][0] == api_pb2.DATA_TYPE_FLOAT64 and cols["encoder_ckpt"][0] == api_pb2.DATA_TYPE_STRING
    content = experiment_summary().value[0].metadata.plugin_data.content
    experiment = metadata.parse_experiment_plugin_data(content)
    assert [h.name for h in experiment.hparam_infos] == list(cols)
    assert {h.name for h in experiment.hparam_infos if h.differs} == set(SHOWN)  # listed (and shown) first
    assert {"test/mse", "val/mse", "test/nll", "test/acc", "test/knn_acc", "test/probe_acc"} <= {
        m.name.tag for m in experiment.metric_infos}


@pytest.mark.parametrize("model", [Autoencoder(tie_weights=True), PCA(n_components=3), VariationalAutoencoder(),
                                   Classifier()], ids=lambda m: type(m).__name__)
def test_run_hparams_are_typed_and_leave_missing_columns_empty(model):
    values = run_hparams(L.Trainer(logger=False, max_epochs=4, enable_progress_bar=False), model)
    assert values["model"] == type(model).__name__ and values["max_epochs"] == 4.0
    assert set(values) <= set(columns())
    assert values["latent_dim"] == float(model.latent_dim)  # every model's code size, PCA's k included
    if isinstance(model, Autoencoder):
        assert values["tie_weights"] is True and values["hidden_dims"] == "512-128"
    if isinstance(model, PCA):
        assert "hidden_dims" not in values and values["n_components"] == 3.0
    start, end = session_summaries(values)
    info = metadata.parse_session_start_info_plugin_data(start.value[0].metadata.plugin_data.content)
    assert info.hparams["model"].string_value == type(model).__name__


def test_test_and_validate_write_at_the_checkpoints_step():
    trainer, cb = L.Trainer(logger=False, enable_progress_bar=False), RunStep()
    trainer.state.fn = TrainerFn.TESTING
    assert cb.run_step(trainer) == 0  # no checkpoint: the trainer's own step
    cb.on_load_checkpoint(trainer, None, {"global_step": 2345})
    assert cb.run_step(trainer) == 2345
    trainer.state.fn = TrainerFn.FITTING  # a fit (resumed or not) writes at its own global step
    assert cb.run_step(trainer) == 0
    cb.setup(trainer, None, "test")
    trainer.state.fn = TrainerFn.TESTING
    assert cb.run_step(trainer) == 0


def test_fit_then_test_keeps_the_history_and_fits_the_reference_pca_once(mnist, tmp_path, monkeypatch):
    fitted = []
    init = _ReferencePCA.__init__
    monkeypatch.setattr(_ReferencePCA, "__init__", lambda self, x, k: (fitted.append(k), init(self, x, k))[1])
    logger = L.pytorch.loggers.TensorBoardLogger(tmp_path, name="ae", version="run", default_hp_metric=False)
    images = ImageLogger(num_images=6, scatter_points=200, scatter_every_n_epochs=2, pca_samples=500)
    trainer = L.Trainer(max_epochs=3, limit_train_batches=2, limit_val_batches=1, limit_test_batches=1, logger=logger,
                        callbacks=[images], enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0)
    model = Autoencoder(hidden_dims=[32], latent_dim=2)
    trainer.fit(model, datamodule=mnist)
    trainer.test(model, datamodule=mnist)
    assert fitted == [2]  # once per run, not per epoch
    assert plt.get_fignums() == []  # every figure drawn is closed (a long fit draws thousands)
    events = EventAccumulator(str(tmp_path / "ae" / "run"), size_guidance={"images": 0}).Reload()
    assert [e.step for e in events.Images("fit/recon_grid")] == [2, 4, 6]
    assert [e.step for e in events.Images("fit/latent_scatter")] == [4, 6]  # every 2nd epoch and the last
    assert [e.step for e in events.Images("fit/latent_scatter_pca")] == [4]  # the PCA panel never changes
    assert [e.step for e in events.Images("test/recon_grid")] == [6]  # test: at the run's step, its own tag
    assert (tmp_path / "ae" / "run" / "figures" / "latent_scatter.png").is_file()
