"""End-to-end: `lightning-ae fit`, `test` and `predict` as a user runs them, in a temp dir."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import ROOT


def test_fit_test_predict_end_to_end(run_cli_process, tmp_path, mnist_dir):
    common = ["--config", str(ROOT / "configs/ae_2d.yaml"), "--data.data_dir", str(mnist_dir),
              "--data.train_subset", "2000", "--trainer.limit_val_batches", "1", "--data.eval_batch_size", "500",
              "--images.scatter_points", "500", "--trainer.log_every_n_steps", "5",
              "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"), "--trainer.logger.init_args.version", "e2e"]
    fit = run_cli_process("fit", *common, "--trainer.max_epochs", "2")
    assert fit.returncode == 0, fit.stderr[-3000:]
    run_dir = tmp_path / "logs" / "ae_2d" / "e2e"
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    assert ckpt.is_file() and list(run_dir.glob("checkpoints/best-*.ckpt"))

    test = run_cli_process("test", *common, "--ckpt_path", str(ckpt), "--trainer.limit_test_batches", "2")
    assert test.returncode == 0, test.stderr[-3000:]
    assert "test/mse" in test.stdout
    # nothing to tell a user who tests a run's checkpoint with the run's own config: no note on changed
    # hyperparameters (the data-linked image size included), no Lightning note on ModelCheckpoint state
    assert "built with the checkpoint's hyperparameters" not in test.stdout + test.stderr
    assert "dirpath has changed" not in test.stderr
    assert (run_dir / "figures" / "recon_grid.png").is_file()
    assert (run_dir / "figures" / "latent_scatter.png").is_file()

    codes = tmp_path / "codes.npz"
    pred = run_cli_process("predict", *common, "--ckpt_path", str(ckpt), "--codes.output_path", str(codes))
    assert pred.returncode == 0, pred.stderr[-3000:]
    assert "Couldn't infer the batch indices" not in pred.stderr  # Lightning's note for writers that use them
    data = np.load(codes)
    assert data["z"].shape == (10_000, 2) and data["y"].shape == (10_000,)
    assert data["y"][:5].tolist() == [7, 2, 1, 0, 4]

    events = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0}).Reload()
    tags = events.Tags()
    assert {"fit/recon_grid", "fit/latent_scatter", "test/recon_grid", "test/latent_scatter"} <= set(tags["images"])
    assert {"train/batch_loss", "train/loss", "val/mse", "test/mse"} <= set(tags["scalars"])
    val = [e.value for e in events.Scalars("val/mse")]
    assert len(val) == 2 and val[1] < val[0]  # it learns
    steps = [e.step for e in events.Images("fit/recon_grid")]
    assert len(steps) == 2 and steps[0] < steps[1]  # one picture per validation epoch
    assert [e.step for e in events.Images("test/recon_grid")] == [steps[1]]  # the test's at the run's last step
    assert [e.step for e in events.Scalars("test/mse")] == [steps[1]]
    grid = events.Images("test/recon_grid")[-1]
    assert grid.width == 350 and grid.height > 3 * 2 * 28  # three rows of six digits at twice their size


def test_help_lists_every_subcommand_and_each_subcommand_its_options(capsys):
    from lightning_ae.cli import main

    for argv, expected in ((["--help"], ("fit", "validate", "test", "predict")),
                           (["test", "--help"], ("--ckpt_path", "--model", "--data.batch_size", "--trainer.max_epochs"))):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        out = capsys.readouterr().out
        assert exit_info.value.code == 0
        assert all(word in out for word in expected), argv


def _progress_bars(*args):
    from lightning.pytorch.callbacks import ProgressBar

    from lightning_ae.cli import cli

    built = cli(["--config", str(ROOT / "configs/ae_2d.yaml"), *args], run=False)
    return [c for c in built.trainer.callbacks if isinstance(c, ProgressBar)]


def test_progress_bar_redraws_every_ten_batches_unless_configured(tmp_path):
    save = ["--trainer.logger.init_args.save_dir", str(tmp_path)]
    (bar,) = _progress_bars(*save)
    assert bar.refresh_rate == 10
    assert _progress_bars(*save, "--trainer.enable_progress_bar", "false") == []
    (bar,) = _progress_bars(*save, "--trainer.callbacks+=TQDMProgressBar", "--trainer.callbacks.refresh_rate", "3")
    assert bar.refresh_rate == 3  # the user's own bar is kept as given


def test_top_level_optimizer_and_schedule_flags_reach_the_model_and_the_saved_config(run_cli, tmp_path):
    """LightningCLI's own `--optimizer` / `--lr_scheduler` work on a project config: the model trains with
    them, and the run's config.yaml records them (the command of issue 13)."""
    run = run_cli("fit", "--config", str(ROOT / "configs/ae_2d.yaml"), "--optimizer", "AdamW", "--optimizer.lr", "0.002",
                  "--lr_scheduler", "CosineAnnealingLR", "--lr_scheduler.T_max", "5")
    optimizer = run.trainer.optimizers[0]
    assert type(optimizer) is torch.optim.AdamW and optimizer.defaults["lr"] == 0.002
    (config,) = run.trainer.lr_scheduler_configs
    assert type(config.scheduler) is torch.optim.lr_scheduler.CosineAnnealingLR and config.scheduler.T_max == 5
    saved = yaml.safe_load(next((tmp_path / "logs").rglob("config.yaml")).read_text())
    assert saved["optimizer"]["class_path"] == "torch.optim.AdamW" and saved["optimizer"]["init_args"]["lr"] == 0.002
    assert saved["lr_scheduler"]["class_path"] == "torch.optim.lr_scheduler.CosineAnnealingLR"


def test_testing_with_other_hyperparameters_names_the_changed_ones(run_cli, tmp_path, caplog):
    """`test --ckpt_path` builds the checkpoint's model: the arguments the config sets otherwise are named,
    and those that follow the data (input_dim, image_shape) are not."""
    common = ["--config", str(ROOT / "configs/ae_2d.yaml"), "--trainer.logger.init_args.version"]
    fit = run_cli("fit", *common, "fit", "--model.init_args.hidden_dims", "[32]")
    ckpt = str(tmp_path / "logs" / "ae_2d" / "fit" / "checkpoints" / "last.ckpt")
    caplog.clear()
    test = run_cli("test", *common, "test", "--model.init_args.hidden_dims", "[16]", "--ckpt_path", ckpt)
    notes = [r.getMessage() for r in caplog.records if "built with the checkpoint's hyperparameters" in r.getMessage()]
    assert notes == ["lightning-ae: the model is built with the checkpoint's hyperparameters: hidden_dims=[32] (config: [16])"]
    assert test.model.hparams.hidden_dims == fit.model.hparams.hidden_dims == [32]
