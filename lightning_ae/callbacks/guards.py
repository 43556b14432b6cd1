"""Guards that keep a long run from losing work: a non-finite loss stops it, a kill signal saves it.

- `NonFiniteGuard`: when the training loss becomes NaN or infinite, stop with a message naming the
  step and the likely cause (a learning rate too high), before any checkpoint of the spoiled weights
  is written: the last good checkpoint stays what `--ckpt_path last` resumes from.
- `CheckpointOnInterrupt`: on SIGTERM (a scheduler's pre-emption, `kill`) or Ctrl-C during `fit`,
  save `last.ckpt` into the run's checkpoint folder, so `fit ... --ckpt_path last` resumes there.
  Lightning itself turns SIGTERM into `SIGTERMException` after the current batch; `main()` then
  exits with status 143 (128 + SIGTERM).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import lightning as L
import torch
from jsonargparse.typing import PositiveInt
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import Tensor

from lightning_ae.callbacks.checkpoint import LAST, SAVE_FULL_STATE, checkpoint_folder, latest_checkpoint
from lightning_ae.errors import NonFiniteLossError


def _last_checkpoint(trainer: L.Trainer) -> str | None:
    cb = trainer.checkpoint_callback
    return latest_checkpoint(trainer) or (cb.best_model_path if isinstance(cb, ModelCheckpoint) else None) or None


class NonFiniteGuard(L.Callback):
    """Stop training at the first NaN/Inf training loss; never checkpoint the weights it spoiled.

    No host sync per step: each step's loss is kept (detached, on its device) with its step number,
    and the losses kept are tested together every `check_every_n_steps` steps, at the end of each
    epoch and before every checkpoint save (so a checkpoint is never written after a bad loss).

    Args:
        check_every_n_steps: how often the kept losses are tested (one host-device sync).
    """

    def __init__(self, check_every_n_steps: PositiveInt = 20) -> None:
        self.check_every_n_steps = check_every_n_steps
        self._losses: list[Tensor] = []  # training losses since the last check, detached
        self._steps: list[int] = []  # their global steps

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._losses, self._steps = [], []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if isinstance(loss, Tensor) and loss.numel() == 1:
            self._losses.append(loss.detach())
            self._steps.append(trainer.global_step)
        if len(self._losses) >= self.check_every_n_steps:
            self.check(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.check(trainer, pl_module)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        self.check(trainer, pl_module)  # raising here keeps the spoiled weights out of every checkpoint
        bad = [name for name, p in pl_module.named_parameters() if not torch.isfinite(p).all()]
        if bad:  # an overflowing update can spoil the weights while the loss that led to it was finite
            raise NonFiniteLossError(
                f"the weights became NaN or infinite at step {trainer.global_step} ({', '.join(bad[:3])}"
                f"{' ...' if len(bad) > 3 else ''}); {self._advice(trainer)}"
            )

    def check(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Raise `NonFiniteLossError` naming the first non-finite loss kept since the last check."""
        if not self._losses:
            return
        losses = torch.stack(self._losses).float().reshape(-1)  # (n,)
        steps, self._losses, self._steps = self._steps, [], []
        bad = (~torch.isfinite(losses)).nonzero()  # the one host sync
        if len(bad) == 0:
            return
        first = int(bad[0, 0])
        raise NonFiniteLossError(
            f"the training loss became {float(losses[first])} at step {steps[first]} (epoch {trainer.current_epoch}); "
            + self._advice(trainer)
        )

    @staticmethod
    def _advice(trainer: L.Trainer) -> str:
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None
        kept = _last_checkpoint(trainer)
        return (f"the learning rate{f' ({lr:g})' if lr is not None else ''} is most likely too high: lower "
                "--optimizer.lr (e.g. 10x) and start again"
                + (f". The last good checkpoint is kept: {kept}." if kept else "; no checkpoint had been saved yet."))


class CheckpointOnInterrupt(L.Callback):
    """Save `<checkpoint dir>/last.ckpt` when `fit` is stopped by SIGTERM or Ctrl-C.

    The path is the one `--ckpt_path last` resolves to (the newest `last*.ckpt` of the run's
    ModelCheckpoint folder), so rerunning the same command with `--ckpt_path last` and the same
    logger version resumes at the step the run was stopped.

    (Lightning's `OnExceptionCheckpoint` needs its folder before the run's folder is known, saves
    on every exception, NaN-spoiled weights included, and deletes its file when a run ends well.)
    """

    def __init__(self) -> None:
        self.saved_path: Path | None = None

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, (SIGTERMException, KeyboardInterrupt)):
            return
        if trainer.state.fn != "fit" or trainer.sanity_checking or trainer.global_step == 0:
            return
        folder = Path(checkpoint_folder(trainer) or Path(trainer.default_root_dir) / "checkpoints")
        name = LAST + ModelCheckpoint.FILE_EXTENSION
        try:
            trainer.save_checkpoint(folder / name, **SAVE_FULL_STATE)
        except NonFiniteLossError as e:  # the weights are spoiled: keep the last good checkpoint instead
            rank_zero_info(f"not saving on interrupt: {e}")
            return
        self.saved_path = folder / name
        signal = "SIGTERM" if isinstance(exception, SIGTERMException) else "Ctrl-C"
        rank_zero_info(f"{signal} received: saved {self.saved_path} at step {trainer.global_step}; "
                       "rerun the same command with --ckpt_path last to resume.")
