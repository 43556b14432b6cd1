"""What a run leaves behind besides TensorBoard: the predicted codes and a record of the run."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
from jsonargparse.typing import restricted_string_type
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities import rank_zero_only

from lightning_ae.callbacks.images import log_dir
from lightning_ae.summary import RECORD_FILE, read_record

# the file types `CodesWriter` writes
CodesPath = restricted_string_type("CodesPath", r".*\.(pt|npz)$", docstring="a file path ending in .pt or .npz")


class CodesWriter(BasePredictionWriter):
    """At the end of `predict`, write the codes `z` and labels `y` of the predicted set to a file.

    Args:
        output_path: `.pt` (torch.save of {"z", "y"}) or `.npz`; default `<log_dir>/codes.pt`.
    """

    def __init__(self, output_path: CodesPath | None = None) -> None:
        super().__init__(write_interval="epoch")
        self.output_path = output_path

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        if trainer.world_size > 1:  # gather every rank's share; rank 0 writes
            predictions = [
                {k: pl_module.all_gather(v).flatten(0, 1) for k, v in p.items()} for p in predictions
            ]
        if not trainer.is_global_zero:
            return
        z = torch.cat([p["z"] for p in predictions]).float().cpu()
        y = torch.cat([p["y"] for p in predictions]).cpu()
        path = Path(self.output_path) if self.output_path else log_dir(trainer) / "codes.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".npz":
            np.savez(path, z=z.numpy(), y=y.numpy())
        else:
            torch.save({"z": z, "y": y}, path)
        print(f"wrote {len(z)} codes of dimension {z.shape[1]} to {path}")


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class RunRecord(L.Callback):
    """Write `<log_dir>/run.json` at fit/test end: metrics, wall time, seed, device, versions, commit.

    The report reads these files (through `lightning_ae.summary.read_record`); the numbers in it are
    never typed in by hand.
    """

    def __init__(self) -> None:
        self._start: dict[str, float] = {}

    def _begin(self, stage: str) -> None:
        self._start[stage] = time.perf_counter()

    def on_fit_start(self, trainer, pl_module) -> None:
        self._begin("fit")

    def on_test_start(self, trainer, pl_module) -> None:
        self._begin("test")

    @rank_zero_only
    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        path = log_dir(trainer) / RECORD_FILE
        record = read_record(path.parent) or {}
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        record[stage] = {
            "metrics": metrics,
            "wall_time_s": time.perf_counter() - self._start.get(stage, time.perf_counter()),
            "epochs": trainer.current_epoch,
            "global_step": trainer.global_step,
        }
        record.update(
            model=type(pl_module).__name__,
            hparams={k: v for k, v in pl_module.hparams.items() if isinstance(v, (int, float, str, bool, list, tuple, type(None)))},
            seed=int(os.environ.get("PL_GLOBAL_SEED", -1)),
            device=str(trainer.strategy.root_device),
            world_size=trainer.world_size,
            precision=str(trainer.precision),
            versions={"torch": torch.__version__, "lightning": L.__version__, "python": platform.python_version()},
            commit=git_commit(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=2, default=str))
        tmp.replace(path)  # atomic: a kill never leaves half a file

    def on_fit_end(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module, "fit")

    def on_test_end(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module, "test")
