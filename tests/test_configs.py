"""Every model config in configs/ must fit, test and predict through the CLI (like torchvision's
tests over every registered model): a new variant is covered by adding its YAML, no test edit."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import MODEL_CONFIGS


@pytest.mark.parametrize("config", MODEL_CONFIGS, ids=[c.stem for c in MODEL_CONFIGS])
def test_config_fits_tests_and_predicts(config, run_cli, tmp_path):
    fit = run_cli("fit", "--config", str(config))
    trainer = fit.trainer
    ckpt = trainer.checkpoint_callback.last_model_path
    assert ckpt and torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    test = run_cli("test", "--config", str(config), "--ckpt_path", ckpt)
    metrics = test.trainer.callback_metrics
    assert "test/loss" in metrics and math.isfinite(float(metrics["test/loss"]))
    codes = tmp_path / "codes.pt"
    run_cli("predict", "--config", str(config), "--ckpt_path", ckpt, "--codes.output_path", str(codes))
    out = torch.load(codes)
    assert out["z"].ndim == 2 and len(out["z"]) == len(out["y"]) > 0
    assert torch.isfinite(out["z"]).all()
