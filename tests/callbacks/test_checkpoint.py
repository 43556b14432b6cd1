"""last.ckpt holds the latest weights even when the monitored metric did not improve."""

from __future__ import annotations

import torch

from conftest import FAST, ROOT


def test_last_checkpoint_is_the_final_epoch_not_the_best(run_cli, tmp_path):
    # mode max: the "best" val/loss is the first epoch's (the loss falls), so top-k saves only once
    flags = [*FAST, "--trainer.max_epochs", "3"]  # the last value of a flag wins
    run_cli("fit", "--config", str(ROOT / "configs" / "ae_2d.yaml"), *flags, "--checkpoint.mode", "max",
            "--probes.enabled", "false", "--trainer.logger.init_args.version", "v", fast=False)
    folder = tmp_path / "logs" / "ae_2d" / "v" / "checkpoints"
    epoch = {p.name: torch.load(p, map_location="cpu", weights_only=True)["epoch"] for p in folder.glob("*.ckpt")}
    assert epoch == {"best-epoch000.ckpt": 0, "last.ckpt": 2}
