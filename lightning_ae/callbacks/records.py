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
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_only

from lightning_ae.callbacks.hparams import log_hparams, run_hparams
from lightning_ae.callbacks.images import RunStep, log_dir, tensorboard
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


class RunRecord(RunStep):
    """Write `<log_dir>/run.json` at fit/test end: metrics, wall time, seed, device, versions, commit;
    log the run's hyperparameters once to TensorBoard's HParams dashboard; place test metrics at the
    run's last step.

    The report reads these files (through `lightning_ae.summary.read_record`); the numbers in it are
    never typed in by hand. The hyperparameters (`lightning_ae.callbacks.hparams`) are logged when a
    fit ends, or at test end into a run that has no fit; TensorBoard shows beside them the last
    values of the run's metric scalars, test metrics included. `test` and `validate` log Lightning's
    `step` metric, so their scalars go at the tested checkpoint's global step, not at step 0.
    """

    def __init__(self) -> None:
        self._start: dict[str, float] = {}
        self._hparams_logged = False

    def _begin(self, stage: str) -> None:
        self._start[stage] = time.perf_counter()

    def on_fit_start(self, trainer, pl_module) -> None:
        self._begin("fit")

    def on_test_start(self, trainer, pl_module) -> None:
        self._begin("test")

    def _log_step(self, trainer, pl_module) -> None:
        """Lightning logs evaluation metrics at the step a logged `step` metric names (else at 0 outside a fit)."""
        if trainer.state.fn != TrainerFn.FITTING and not trainer.sanity_checking:
            pl_module.log("step", float(self.run_step(trainer)))

    def on_test_epoch_end(self, trainer, pl_module) -> None:
        self._log_step(trainer, pl_module)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        self._log_step(trainer, pl_module)

    @rank_zero_only
    def _log_hparams(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = tensorboard(trainer)
        if writer is None or writer.file_writer is None:
            return
        log_hparams(writer, run_hparams(trainer, pl_module), self.run_step(trainer))
        self._hparams_logged = True

    def on_train_end(self, trainer, pl_module) -> None:
        self._log_hparams(trainer, pl_module)  # before the logger closes; once per fit

    def on_test_end(self, trainer, pl_module) -> None:
        if not self._hparams_logged and not (read_record(log_dir(trainer)) or {}).get("hparams_logged"):
            self._log_hparams(trainer, pl_module)  # a run tested without its fit in this folder
        self._write(trainer, pl_module, "test")

    @rank_zero_only
    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        path = log_dir(trainer) / RECORD_FILE
        record = read_record(path.parent) or {}
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1 and k != "step"}
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
        if self._hparams_logged:
            record["hparams_logged"] = True
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=2, default=str))
        tmp.replace(path)  # atomic: a kill never leaves half a file

    def on_fit_end(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module, "fit")
