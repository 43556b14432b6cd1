"""TensorBoard pictures of a fixed set of test digits, every validation epoch and at test end.

- `recon/grid`: originals / PCA with as many components as the code / the model's reconstructions,
  the three-row figure of Hinton & Salakhutdinov (2006) and of the Cross Validated reproduction;
- `latent/scatter`: the first `scatter_points` test codes coloured by digit, PCA beside the model,
  when the code is 2-D;
- whatever the model adds through its `figures()` hook (filters, samples, activations).

Runs on rank 0 only; every rank holds the whole test set, so nothing needs gathering.
At test end the same pictures are also written as PNG files into the logger's folder.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from jsonargparse.typing import PositiveInt
from lightning.pytorch.utilities import rank_zero_only
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from lightning_ae import figures
from lightning_ae.models.base import AutoencoderModule
from lightning_ae.models.pca import PCA


def log_dir(trainer: L.Trainer) -> Path:
    """The run's folder: the logger's version folder, else the trainer's root dir."""
    if trainer.logger is not None and trainer.logger.log_dir is not None:
        return Path(trainer.logger.log_dir)
    return Path(trainer.default_root_dir)


def tensorboard(trainer: L.Trainer):
    """The SummaryWriter of the first TensorBoard logger, or None."""
    for logger in trainer.loggers:
        if isinstance(logger, L.pytorch.loggers.TensorBoardLogger):
            return logger.experiment
    return None


class ImageLogger(L.Callback):
    """Log reconstruction grids, 2-D latent scatter plots and model figures to TensorBoard.

    Args:
        num_images: test digits per row of the reconstruction grid.
        every_n_epochs: log every n-th validation epoch.
        scatter_points: number of test codes in the scatter plot.
        pca_row: add the PCA reconstruction row (PCA fitted on the training split).
        save_png: also write the pictures as PNG files at test end.
    """

    def __init__(self, num_images: PositiveInt = 10, every_n_epochs: PositiveInt = 1,
                 scatter_points: PositiveInt = 5000, pca_row: bool = True, save_png: bool = True) -> None:
        self.num_images, self.every_n_epochs, self.scatter_points = num_images, every_n_epochs, scatter_points
        self.pca_row, self.save_png = pca_row, save_png
        self._pca: PCA | None = None

    def _test_batch(self, trainer: L.Trainer, n: int) -> tuple[Tensor, Tensor]:
        x, y = trainer.datamodule.split("test")
        return x[:n], y[:n]

    def _reference_pca(self, trainer: L.Trainer, pl_module: L.LightningModule) -> PCA | None:
        k = getattr(pl_module, "latent_dim", None)
        if not self.pca_row or isinstance(pl_module, PCA) or k is None or k > pl_module.input_dim:
            return None
        if self._pca is None or self._pca.latent_dim != k:
            x_train, _ = trainer.datamodule.split("train")
            self._pca = PCA.from_data(x_train.to(pl_module.device), k)
        return self._pca

    @torch.no_grad()
    def pictures(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Tensor | Figure]:
        was_training = pl_module.training
        pl_module.eval()
        x, y = (t.to(pl_module.device) for t in self._test_batch(trainer, max(self.num_images, self.scatter_points)))
        pca = self._reference_pca(trainer, pl_module)
        few = x[: self.num_images]
        rows = [few] + ([pca(few)] if pca is not None else []) + [pl_module(few)]
        out: dict[str, Tensor | Figure] = {"recon/grid": figures.digit_grid(rows)}
        if getattr(pl_module, "latent_dim", None) == 2:
            panels = {}
            if pca is not None:
                panels["PCA"] = (pca.encode(x), y)
            panels[type(pl_module).__name__] = (pl_module.encode(x), y)
            out["latent/scatter"] = figures.scatter_figure(panels, self.scatter_points)
        out.update(pl_module.figures(few, y[: self.num_images]))
        pl_module.train(was_training)
        return out

    @rank_zero_only
    def _log(self, trainer: L.Trainer, pl_module: L.LightningModule, write_png: bool) -> None:
        if not isinstance(pl_module, AutoencoderModule):  # e.g. the Classifier: nothing to reconstruct
            return
        writer = tensorboard(trainer)
        for tag, picture in self.pictures(trainer, pl_module).items():
            if writer is not None:
                if isinstance(picture, Figure):
                    writer.add_figure(tag, picture, global_step=trainer.global_step, close=False)
                else:
                    writer.add_image(tag, picture, global_step=trainer.global_step)
            if write_png:
                figures.save(picture, log_dir(trainer) / "figures" / f"{tag.replace('/', '_')}.png")
            if isinstance(picture, Figure):
                plt.close(picture)
        if writer is not None:
            writer.flush()

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        self._log(trainer, pl_module, write_png=False)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log(trainer, pl_module, write_png=self.save_png)
