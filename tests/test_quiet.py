"""`make run`'s log is for a person: no advertising, no library deprecation noise, no warning about
PCA's (absent) optimizer, and validation that logs only what is cheap (lightning_ae/quiet.py, issue 14)."""

from __future__ import annotations

import json
import math

from conftest import ROOT

NOISE = ("💡", "litlogger", "LeafSpec", "configure_optimizers` returned `None`", "smaller than the logging interval",
         "Warning:")


def test_pca_fit_then_test_in_one_process_prints_no_library_noise(run_cli_process, tmp_path, mnist_dir):
    run = tmp_path / "logs" / "pca_2d" / "q"
    out = run_cli_process(
        "fit", "--config", str(ROOT / "configs/pca_2d.yaml"), "--data.data_dir", str(mnist_dir),
        "--data.train_subset", "2000",  # 2 batches: fewer than log_every_n_steps, which Lightning warns about
        "--data.eval_batch_size", "500", "--trainer.limit_val_batches", "2", "--trainer.limit_test_batches", "2",
        "--probes.train_samples", "1000", "--images.scatter_points", "500", "--trainer.enable_progress_bar", "false",
        "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"), "--trainer.logger.init_args.version", "q",
        "--test_after_fit", "true")
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr
    assert not [n for n in NOISE if n in text], text[-3000:]
    assert "Test metric" not in text  # no table of Lightning's: `python -m lightning_ae.summary` prints one
    record = json.loads((run / "run.json").read_text())
    fit, test = record["fit"]["metrics"], record["test"]["metrics"]  # fitted and tested by one process
    assert {"test/mse", "test/rmse", "test/psnr", "test/ssim", "test/sq_err_per_image"} <= set(test)
    assert {"val/loss", "val/mse", "val/rmse", "val/psnr"} <= set(fit)
    assert not {"val/ssim", "val/sq_err_per_image"} & set(fit)  # lean validation by default
    assert math.isclose(fit["val/psnr"], 10 * math.log10(1 / fit["val/mse"]), rel_tol=1e-4)
