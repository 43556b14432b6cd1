"""TensorBoard as a user sees it: the real server over a short fit + test, asked through its HTTP data API.

The endpoints are the ones TensorBoard's web page calls: `/data/plugin/images/tags` and `/images`
(one picture per validation epoch, plus the test picture at the run's last step), the hparams
plugin's `experiment` and `session_groups` (both runs, the same columns, their test MSE), the
projector's `runs` and `info` (the codes, padded to 3-D, with thumbnails) and `/data/plugin/scalars/tags`
(one vocabulary of tags). The test is run while the server is up, as a user would, so the test
pictures, metrics and embedding must appear without a restart.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from lightning_ae.tbserver import get_json, query, serve, wait_for

pytestmark = pytest.mark.slow

EPOCHS = 2
# (never a limit of "1": the CLI parses it as 1.0, all the batches)
TINY = ["--trainer.max_epochs", str(EPOCHS), "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "2",
        "--trainer.limit_test_batches", "2", "--trainer.num_sanity_val_steps", "0", "--trainer.enable_progress_bar",
        "false", "--trainer.enable_model_summary", "false", "--trainer.log_every_n_steps", "1",
        "--data.train_subset", "1000", "--data.eval_batch_size", "200", "--images.scatter_points", "200",
        "--images.pca_samples", "500", "--probes.train_samples", "500", "--probes.test_samples", "500",
        "--probes.probe_steps", "10", "--probes.embedding_points", "100",
        "--trainer.logger.init_args.version", "run"]
ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


SESSIONS = {"experimentName": "", "startIndex": 0, "sliceSize": 100, "allowedStatuses": ALL_STATUSES, "colParams": []}


def metric(group: dict, tag: str) -> float | None:
    return next((m["value"] for m in group.get("metricValues", []) if m["name"]["tag"] == tag), None)


@pytest.mark.skipif(shutil.which("tensorboard") is None and not (ROOT / ".venv" / "bin" / "tensorboard").is_file(),
                    reason="no tensorboard executable")
def test_tensorboard_server_shows_history_hparams_and_projector(run_cli, tmp_path):
    logs = tmp_path / "logs"
    runs = {"ae_2d": str(ROOT / "configs" / "ae_2d.yaml"), "pca_2d": str(ROOT / "configs" / "pca_2d.yaml")}
    steps = {}
    for name, config in runs.items():
        fit = run_cli("fit", "--config", config, *TINY, fast=False)
        steps[name] = fit.trainer.global_step  # the run's last step
    assert steps["ae_2d"] == EPOCHS * 3

    with serve(logs) as url:
        tags = wait_for(url, "/data/plugin/images/tags", lambda t: "ae_2d/run" in t)
        assert {"fit/recon_grid", "fit/latent_scatter", "fit/latent_scatter_pca"} <= set(tags["ae_2d/run"])

        for name, config in runs.items():  # tested while the server runs, as a user would
            run_cli("test", "--config", config, *TINY, "--ckpt_path", str(logs / name / "run" / "checkpoints" / "last.ckpt"),
                    fast=False)

        # images: one picture per validation epoch at the fit's steps, and the test picture at the last step
        # (every test picture: the server may read the event file between two of them)
        test_tags = {"test/recon_grid", "test/latent_scatter", "test/latent_scatter_pca"}
        tags = wait_for(url, "/data/plugin/images/tags", lambda t: test_tags <= set(t.get("ae_2d/run", {})))
        history = get_json(url, "/data/plugin/images/images" + query(run="ae_2d/run", tag="fit/recon_grid"))
        assert [e["step"] for e in history] == [3, 6]
        test_pictures = get_json(url, "/data/plugin/images/images" + query(run="ae_2d/run", tag="test/recon_grid"))
        assert [e["step"] for e in test_pictures] == [steps["ae_2d"]]
        assert test_tags <= set(tags["ae_2d/run"])
        assert not any(t.startswith(("recon/", "latent/")) for t in tags["ae_2d/run"])  # the old, purgeable tags

        # scalars: one vocabulary; test metrics at the run's last step, not at 0
        scalars = wait_for(url, "/data/plugin/scalars/tags", lambda t: all(
            "test/mse" in t.get(run, {}) for run in ("ae_2d/run", "pca_2d/run")))
        for run in ("ae_2d/run", "pca_2d/run"):
            assert {"train/loss", "val/loss", "val/mse", "test/mse"} <= set(scalars[run]), scalars[run]
            assert not {"train/loss_epoch", "train/loss_step", "hp_metric"} & set(scalars[run])
        points = get_json(url, "/data/plugin/scalars/scalars" + query(run="ae_2d/run", tag="test/mse"))
        assert [p[1] for p in points] == [steps["ae_2d"]]

        # hparams: both runs, the same columns, booleans as booleans, their test MSE among the metrics
        experiment = get_json(url, "/data/plugin/hparams/experiment", data={"experimentName": ""})
        columns = {h["name"]: h for h in experiment["hparamInfos"]}
        assert {"model", "latent_dim", "n_components", "hidden_dims", "lr", "batch_size"} <= set(columns)
        assert not {"_instantiator", "_class_path"} & set(columns)
        assert columns["tie_weights"]["type"] == "DATA_TYPE_BOOL"
        assert {"test/mse", "val/mse", "test/knn_acc", "test/nll", "test/acc"} <= {
            m["name"]["tag"] for m in experiment["metricInfos"]}
        answer = wait_for(url, "/data/plugin/hparams/session_groups", data=SESSIONS, ready=lambda a: sum(
            metric(g, "test/mse") is not None for g in a.get("sessionGroups", [])) >= 2)
        groups = {g["name"]: g for g in answer["sessionGroups"]}
        assert {"ae_2d/run", "pca_2d/run"} <= set(groups)
        ae, pca = groups["ae_2d/run"]["hparams"], groups["pca_2d/run"]["hparams"]
        assert ae["model"] == "Autoencoder" and pca["model"] == "PCA" and ae["tie_weights"] is False
        assert ae["latent_dim"] == pca["latent_dim"] == 2 and pca["n_components"] == 2
        assert "hidden_dims" not in pca  # a column PCA lacks stays empty
        for run in ("ae_2d/run", "pca_2d/run"):
            mse = metric(groups[run], "test/mse")
            assert mse is not None and 0 < mse < 0.2, groups[run]
            assert metric(groups[run], "val/mse") is not None

        # projector: both runs' codes, 2-D padded to 3, with digits and thumbnails, without a restart
        projector_runs = wait_for(url, "/data/plugin/projector/runs", lambda r: len(r) >= 2)
        assert {"ae_2d/run/projector", "pca_2d/run/projector"} <= set(projector_runs)
        info = get_json(url, "/data/plugin/projector/info" + query(run="ae_2d/run/projector"))
        (embedding,) = info["embeddings"]
        assert embedding["tensorShape"] == [100, 3]
        assert embedding["tensorName"] == f"test_codes_2d_zero_padded_to_3d:{steps['ae_2d']:05d}"
        assert embedding["sprite"]["singleImageDim"] == [28, 28]
        metadata = get_json(url, "/data/plugin/projector/metadata" + query(
            run="ae_2d/run/projector", name=embedding["tensorName"]), raw=True).splitlines()
        assert metadata[0] == "digit\ttest_index" and metadata[1].split("\t") == ["7", "0"]
        assert len(metadata) == 101
