"""Where a run keeps its weights: two plain `ModelCheckpoint`s, the best and the latest.

`lightning_ae.cli` adds both as config sections: `checkpoint` (best by `val/loss`:
`best-epochNNN.ckpt`) and `last_checkpoint` (`last.ckpt`, rewritten at every save point with the
latest weights: `LatestCheckpoint`, a ModelCheckpoint(filename="last", monitor=None, save_top_k=1)
with a state key of its own, so that it can sit beside a `checkpoint` with `monitor: null`). One
ModelCheckpoint with `save_last=True` would not do: Lightning 2.6 refreshes `last.ckpt` only at a
step where its top-k checkpoint was saved too, so with a monitored metric `last.ckpt` would stop at
the best epoch, and `--ckpt_path last` would resume, and a test of `last.ckpt` score, an earlier epoch.
"""

from __future__ import annotations

import lightning as L
from jsonargparse.typing import NonNegativeInt
from lightning.pytorch.callbacks import ModelCheckpoint

LAST = ModelCheckpoint.CHECKPOINT_NAME_LAST  # "last": the name `--ckpt_path last` looks for
# `Trainer.save_checkpoint(weights_only=...)` chooses what is WRITTEN (False: optimizer and loop state
# too, so a run can resume); it has nothing to do with how files are read (always torch.load(weights_only=True)).
SAVE_FULL_STATE = {"weights_only": False}


class BestCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint (the `checkpoint` section: the best by `monitor`), with its
    `state_key` built once. Lightning names the profiler action of every callback hook call with
    `state_key`, and ModelCheckpoint formats that string anew each time: ~5 times a training step,
    about 0.5% of a CPU step of the seed network. The key is ModelCheckpoint's own, so checkpoints
    written with either class resume with either."""

    @property
    def state_key(self) -> str:
        key = self.__dict__.get("_state_key_once")
        if key is None:  # monitor, mode and the intervals are fixed once the callback is built
            key = ModelCheckpoint.state_key.fget(self).replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)
            self.__dict__["_state_key_once"] = key
        return key


class LatestCheckpoint(ModelCheckpoint):
    """`<dirpath>/last.ckpt` with the latest weights, rewritten at every save point (every epoch by default).

    Args:
        dirpath: the folder (default: the run's `checkpoints/`, as for every ModelCheckpoint).
        every_n_epochs: epochs between saves (default: 1, unless every_n_train_steps is given).
        every_n_train_steps: optimizer steps between saves, for mid-epoch checkpoints of long epochs.
        save_on_train_epoch_end: save at the end of the training epoch rather than after validation
            (None: Lightning's rule, after validation when it runs every epoch).

    A fit that took no optimizer step (PCA, solved in closed form) is saved when training ends.
    """

    def __init__(self, dirpath: str | None = None, every_n_epochs: NonNegativeInt | None = None,
                 every_n_train_steps: NonNegativeInt | None = None, save_on_train_epoch_end: bool | None = None) -> None:
        super().__init__(dirpath=dirpath, filename=LAST, monitor=None, save_top_k=1, every_n_epochs=every_n_epochs,
                         every_n_train_steps=every_n_train_steps, save_on_train_epoch_end=save_on_train_epoch_end,
                         enable_version_counter=False)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # ModelCheckpoint saves nothing at global step 0 ("no steps were taken"): a closed-form fit
        if not self.best_model_path and trainer.global_step == 0 and not trainer.fast_dev_run and self.dirpath:
            path = f"{self.dirpath}/{LAST}{self.FILE_EXTENSION}"
            trainer.save_checkpoint(path, **SAVE_FULL_STATE)
            self.best_model_path = self.last_model_path = path

    @property
    def state_key(self) -> str:  # ModelCheckpoint's key is its monitor: a `checkpoint` with monitor null has it too
        return f"LatestCheckpoint{{'filename': '{LAST}'}}"


def latest_checkpoint(trainer: L.Trainer) -> str | None:
    """The run's `last.ckpt` once written (None before)."""
    return next((cb.best_model_path for cb in trainer.checkpoint_callbacks
                 if isinstance(cb, LatestCheckpoint) and cb.best_model_path), None)


def checkpoint_folder(trainer: L.Trainer) -> str | None:
    """The folder of the run's checkpoints (where `--ckpt_path last` looks), None before it is known."""
    return next((cb.dirpath for cb in trainer.checkpoint_callbacks if isinstance(cb, ModelCheckpoint) and cb.dirpath), None)
