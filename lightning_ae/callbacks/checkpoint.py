"""A ModelCheckpoint whose `last.ckpt` always holds the latest weights.

Lightning 2.6 refreshes `last.ckpt` only at a step where a top-k checkpoint was saved too, so with a
monitored metric `last.ckpt` stops at the best epoch: a run tested with `--ckpt_path .../last.ckpt`
would report the best-validation weights (with `val_split: test`, weights chosen on the test set),
and `--ckpt_path last` would resume from an earlier epoch than the last one. This subclass saves
`last.ckpt` at every save point, as the name promises; `best-*.ckpt` keeps the best by the monitor.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class Checkpoint(ModelCheckpoint):
    """`ModelCheckpoint` (same arguments) that also writes `last.ckpt` whenever top-k did not."""

    def _refresh_last(self, trainer: L.Trainer, on_train_epoch_end: bool) -> None:
        if (not self.save_last or self._should_skip_saving_checkpoint(trainer)
                or self._should_save_on_train_epoch_end(trainer) != on_train_epoch_end
                or self._last_global_step_saved == trainer.global_step):
            return
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._refresh_last(trainer, on_train_epoch_end=True)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._refresh_last(trainer, on_train_epoch_end=False)
