"""Mixed precision through the CLI: every model config trains a few steps at `bf16-mixed` on the CPU.

Like tests/test_configs.py, the configs are globbed, so a new variant is covered by its YAML alone.
The loss, every logged term (VAE KL/ELBO, sparse penalties, ...) and the weights must stay finite.
`16-mixed` (fp16 AMP) is GPU-only: on a CPU Lightning warns and uses `bf16-mixed` instead.
"""

from __future__ import annotations

import math

import pytest
import torch

from conftest import MODEL_CONFIGS

# the FAST flags' few steps, no pictures (they are drawn outside autocast and tested elsewhere)
STEPS = ["--images.every_n_epochs", "1000"]


@pytest.mark.parametrize("config", MODEL_CONFIGS, ids=[c.stem for c in MODEL_CONFIGS])
# one epoch ends a greedy config's schedule early on purpose (the warning: tests/callbacks/test_greedy.py)
@pytest.mark.filterwarnings("ignore:max_epochs=1 ends before the last greedy stage")
def test_config_trains_at_bf16_mixed(config, run_cli):
    fit = run_cli("fit", "--config", str(config), "--trainer.precision", "bf16-mixed", *STEPS)
    trainer = fit.trainer
    assert trainer.precision == "bf16-mixed"
    assert trainer.fit_loop.epoch_loop.batch_progress.total.completed > 0  # (PCA takes no optimizer steps)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    assert any(k.startswith("train/") for k in logged), logged
    model = fit.model
    if callable(getattr(model, "objective", None)):  # every named term of the objective was logged
        x = fit.datamodule.split("train")[0][:8]
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            _, _, terms = model.objective(x, x)
        assert {f"train/{name}" for name in terms} <= set(logged), (sorted(terms), sorted(logged))
    bad = {k: v for k, v in logged.items() if not math.isfinite(v)}
    assert not bad, f"non-finite logged values at bf16-mixed: {bad}"
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # mixed: the weights stay float32


def test_16_mixed_on_cpu_falls_back_to_bf16(run_cli):
    config = next(c for c in MODEL_CONFIGS if c.stem == "ae_2d")
    with pytest.warns(UserWarning, match="fp16 is not supported on CPU"):
        fit = run_cli("fit", "--config", str(config), "--trainer.accelerator", "cpu",
                      "--trainer.precision", "16-mixed", *STEPS)
    assert fit.trainer.precision == "bf16-mixed"
    assert math.isfinite(float(fit.trainer.callback_metrics["train/loss"]))
