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
from jsonargparse.typing import NonNegativeInt, restricted_string_type
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_only
from matplotlib import pyplot as plt

from lightning_ae import figures
from lightning_ae.callbacks.hparams import log_hparams, run_hparams
from lightning_ae.callbacks.images import RunStep, log_dir, tensorboard
from lightning_ae.summary import RECORD_FILE, read_record

# the file types `CodesWriter` writes
CodesPath = restricted_string_type("CodesPath", r".*\.(pt|npz)$", docstring="a file path ending in .pt or .npz")


class CodesWriter(BasePredictionWriter):
    """At the end of `predict`, write the codes `z`, the reconstructions `x_hat` and the labels `y` of
    the predicted images to one file, and a picture of the first inputs over their reconstructions.

    `predict` encodes the test images of a named dataset, or all the images of `data.path` in their
    order. `y` is left out when the images have no labels; `x_hat` when the model reconstructs
    nothing (the classifier). The picture, `<output_path without suffix>.png`, has a row of inputs
    (captioned with their labels' names when there are labels) over a row of reconstructions.

    Args:
        output_path: `.pt` (torch.save of {"z", "x_hat", "y"}) or `.npz`; default `<log_dir>/codes.pt`.
        num_images: images in the picture (0: no picture).
    """

    def __init__(self, output_path: CodesPath | None = None, num_images: NonNegativeInt = 12) -> None:
        super().__init__(write_interval="epoch")
        self.output_path, self.num_images = output_path, num_images

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        if trainer.world_size > 1:  # gather every rank's share; rank 0 writes
            predictions = [
                {k: pl_module.all_gather(v).flatten(0, 1) for k, v in p.items()} for p in predictions
            ]
        if not trainer.is_global_zero:
            return
        out = {k: torch.cat([p[k] for p in predictions]).cpu() for k in predictions[0]}
        out.update({k: out[k].float() for k in ("z", "x_hat") if k in out})
        x = out.pop("x", None)
        if len(out["y"]) and int(out["y"].min()) < 0:
            del out["y"]  # images without labels
        path = Path(self.output_path) if self.output_path else log_dir(trainer) / "codes.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".npz":
            np.savez(path, **{k: v.numpy() for k, v in out.items()})
        else:
            torch.save(out, path)
        z = out["z"]
        saved = "codes" + (", reconstructions" if "x_hat" in out else "") + (" and labels" if "y" in out else "")
        print(f"wrote the {saved} of {len(z)} images (codes of dimension {z.shape[1]}) to {path}")
        if x is not None and "x_hat" in out and self.num_images:
            grid = self.picture(trainer, pl_module, x, out["x_hat"], out.get("y"), path)
            print(f"wrote the first {min(len(x), self.num_images)} inputs over their reconstructions to {grid}")

    def picture(self, trainer, pl_module, x, x_hat, y, path: Path) -> Path:
        """`path` with .png: the first `num_images` inputs (a row) over their reconstructions (a row)."""
        n = min(len(x), self.num_images)
        names = tuple(getattr(trainer.datamodule, "class_names", ()) or ())
        labels = "" if y is None else "\nlabels: " + ", ".join(names[i] if i < len(names) else str(i) for i in y[:n].tolist())
        fig = figures.labelled_grid([x[:n], x_hat[:n]], ["input", f"{type(pl_module).__name__}'s reconstruction"],
                                    side=tuple(pl_module.image_shape),
                                    title=f"{path.stem}: the first {n} inputs over their reconstructions{labels}")
        out = figures.save(fig, path.with_suffix(".png"))
        plt.close(fig)
        return out


def device_name(trainer: L.Trainer) -> str:
    """The trainer's device, with the GPU's name: "cpu", "cuda:0 (NVIDIA H100 80GB HBM3)"."""
    device = trainer.strategy.root_device
    return f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class RunRecord(RunStep):
    """Write `<log_dir>/run.json` at fit/test end: metrics, wall time, seed, device, versions, and the commit
    checked out when the process started (per stage, and at the top the last writer's);
    log the run's hyperparameters once to TensorBoard's HParams dashboard; place test metrics at the
    run's last step.

    `make repro-*` condenses each into a committed record (`lightning_ae.report.collect`, reading it
    through `lightning_ae.summary.read_record`), from which the report is rendered; the numbers in it
    are never typed in by hand. The hyperparameters (`lightning_ae.callbacks.hparams`) are logged when a
    fit ends, or at test end into a run that has no fit; TensorBoard shows beside them the last
    values of the run's metric scalars, test metrics included. `test` and `validate` log Lightning's
    `step` metric, so their scalars go at the tested checkpoint's global step, not at step 0.

    A fit resumed from a checkpoint (`fit --ckpt_path`) continues its record: the fit's `wall_time_s`
    is the sum over every process of the checkpoint's lineage (this callback's `state_dict`, saved in
    each checkpoint: the seconds of fit up to that save, the processes and devices so far), `devices`
    lists every device the fit ran on, `processes` counts them; `wall_time_last_process_s` is this
    process's share. Time spent after a checkpoint's save by a process that was then killed is lost.
    """

    def __init__(self) -> None:
        # the commit checked out when the process starts (the CLI builds this callback first): the code it
        # runs, even if HEAD moves before a record is written (a commit made during a long fit)
        self._commit = git_commit()
        self._start: dict[str, float] = {}
        self._hparams_logged = False
        self._prior: dict = {"fit_wall_time_s": 0.0, "processes": 0, "devices": []}  # of resumed-from processes
        self._device: str | None = None  # this process's, once a fit starts

    def state_dict(self) -> dict:
        """Saved in every checkpoint: the fit's seconds, processes and devices up to the save."""
        elapsed = time.perf_counter() - self._start["fit"] if "fit" in self._start else 0.0
        return {"fit_wall_time_s": self._prior["fit_wall_time_s"] + elapsed,
                "processes": self._prior["processes"] + 1, "devices": self._devices()}

    def load_state_dict(self, state_dict: dict) -> None:
        self._prior = {"fit_wall_time_s": float(state_dict.get("fit_wall_time_s", 0.0)),
                       "processes": int(state_dict.get("processes", 0)),
                       "devices": [str(d) for d in state_dict.get("devices", [])]}

    def _devices(self) -> list[str]:
        """The devices of the resumed-from processes, then this one's (each once, in order)."""
        return list(dict.fromkeys([*self._prior["devices"], *([self._device] if self._device else [])]))

    def _begin(self, stage: str) -> None:
        self._start[stage] = time.perf_counter()

    def on_fit_start(self, trainer, pl_module) -> None:
        self._begin("fit")
        self._device = device_name(trainer)

    def on_test_start(self, trainer, pl_module) -> None:
        self._begin("test")

    def _log_step(self, trainer, pl_module) -> None:
        """Lightning logs evaluation metrics at the step a logged `step` metric names (else at 0 outside a fit).
        Every rank logs the same step; synced, as Lightning asks of epoch-level values under DDP."""
        if trainer.state.fn != TrainerFn.FITTING and not trainer.sanity_checking:
            pl_module.log("step", float(self.run_step(trainer)), sync_dist=True)

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
        elapsed = time.perf_counter() - self._start.get(stage, time.perf_counter())
        record[stage] = {
            "metrics": metrics,
            "wall_time_s": elapsed,
            "epochs": trainer.current_epoch,
            "global_step": trainer.global_step,
            "commit": self._commit,  # a fit and its test may run different code (processes days apart)
        }
        if stage == "fit":  # summed over the processes of a resumed fit (see the class docstring)
            record["fit"].update(wall_time_s=self._prior["fit_wall_time_s"] + elapsed, wall_time_last_process_s=elapsed,
                                 processes=self._prior["processes"] + 1, devices=self._devices())
        record.update(
            model=type(pl_module).__name__,
            hparams={k: v for k, v in pl_module.hparams.items() if isinstance(v, (int, float, str, bool, list, tuple, type(None)))},
            seed=int(os.environ.get("PL_GLOBAL_SEED", -1)),
            device=str(trainer.strategy.root_device),
            world_size=trainer.world_size,
            precision=str(trainer.precision),
            versions={"torch": torch.__version__, "lightning": L.__version__, "python": platform.python_version()},
            commit=self._commit,  # of the process that wrote last
        )
        if self._hparams_logged:
            record["hparams_logged"] = True
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=2, default=str))
        tmp.replace(path)  # atomic: a kill never leaves half a file

    def on_fit_end(self, trainer, pl_module) -> None:
        self._write(trainer, pl_module, "fit")
