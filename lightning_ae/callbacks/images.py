"""TensorBoard pictures of a fixed set of test digits: every validation epoch of a fit, and once at test.

Tags (`fit/...` at the fit's global step of each validation epoch; `test/...` at the run's last step,
the tested checkpoint's global step, so a test never writes a step below the fit's and TensorBoard
keeps the whole history; `validate/...` likewise for `lightning-ae validate`):

- `<stage>/recon_grid`: rows "original", "PCA, k components" (as many as the model's code) and the
  model's reconstructions (the figure of Hinton & Salakhutdinov 2006 and of the Cross Validated
  reproduction);
- `<stage>/latent_scatter`: the first `scatter_points` test codes coloured by digit, with a legend,
  axis labels and the run's name; 2-D codes as they are, larger codes through their first two
  principal components (the title says which); every `scatter_every_n_epochs` logged epochs, the
  last one and at test. `<stage>/latent_scatter_pca`: the same for the reference PCA, once per fit
  (it does not change) and at test;
- whatever the model adds through its `figures()` hook (`vae_samples`, `stacked_filters`, ...).

Every picture is a figure `lightning_ae.figures.WIDTH` (350) pixels wide with digits at twice their
pixels, one panel per picture, so it is legible in a TensorBoard card as it opens. The reference PCA
is fitted once per process on the first `pca_samples` training images, and its reconstructions and
codes are computed once. Runs on rank 0 only; every rank holds the whole test set. At test end the
pictures are also written as PNG files into the run's `figures/` folder (`recon_grid.png`,
`latent_scatter.png` with PCA beside the model, `vae_manifold.png`, ...).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from jsonargparse.typing import PositiveInt
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_only
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from lightning_ae import figures
from lightning_ae.models.base import AutoencoderModule
from lightning_ae.models.pca import PCA

STAGE_PREFIX = {TrainerFn.FITTING: "fit", TrainerFn.VALIDATING: "validate", TrainerFn.TESTING: "test"}


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


def run_name(trainer: L.Trainer) -> str:
    """'<name>/<version>' of the logger (the run as TensorBoard lists it), else the run folder's name."""
    logger = trainer.logger
    if logger is not None and logger.name:
        version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
        return f"{logger.name}/{version}"
    return log_dir(trainer).name


class RunStep(L.Callback):
    """A callback that writes to TensorBoard at the run's step.

    In a fit that is `trainer.global_step`. In `test`, `validate` and `predict` the Trainer starts
    at step 0, so what they write goes at the global step of the checkpoint they load (the run's
    last step for `last.ckpt`): a step never goes backwards in a run, and TensorBoard never drops
    the history after it.
    """

    _checkpoint_step: int | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._checkpoint_step = None  # a Trainer reused without a checkpoint falls back to its own step

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        self._checkpoint_step = checkpoint.get("global_step")

    def run_step(self, trainer: L.Trainer) -> int:
        if trainer.state.fn == TrainerFn.FITTING or self._checkpoint_step is None:
            return int(trainer.global_step)
        return int(self._checkpoint_step)


class _ReferencePCA:
    """PCA with k components fitted once on the first training images: codes and reconstructions."""

    def __init__(self, x: Tensor, k: int) -> None:
        x = x.float()
        self.k, self.mean = k, x.mean(0)
        centred = x - self.mean
        cov = (centred.T @ centred).double() / max(1, len(x) - 1)  # (D, D)
        _, vectors = torch.linalg.eigh(cov)  # ascending eigenvalues
        self.components = vectors[:, -k:].flip(1).T.float()  # (k, D), largest variance first
        self.cache: dict[str, Tensor] = {}

    def encode(self, x: Tensor) -> Tensor:
        return (x - self.mean) @ self.components.T

    def __call__(self, x: Tensor) -> Tensor:
        return self.encode(x) @ self.components + self.mean

    def name(self, first_two: bool = False) -> str:
        return f"PCA, first 2 of {self.k} components" if first_two and self.k > 2 else pca_name(self.k)


class ImageLogger(RunStep):
    """Log labelled reconstruction grids, latent scatter plots and model figures to TensorBoard.

    Args:
        num_images: test digits in the reconstruction grid (6 fill a line of a 350-pixel card; more
            wrap into blocks of lines, and the picture no longer fits a TIME SERIES card).
        every_n_epochs: log every n-th validation epoch.
        scatter_every_n_epochs: draw the latent scatter (which encodes `scatter_points` test images)
            every n-th logged validation epoch; the last epoch and `test` always get one.
        scatter_points: number of test codes in the scatter plot.
        pca_row: add the PCA reference (a reconstruction row and a scatter panel) with as many
            components as the model's code.
        pca_samples: training images the reference PCA is fitted on (the first ones; None: all).
        save_png: also write the pictures as PNG files at test end.
    """

    def __init__(self, num_images: PositiveInt = 6, every_n_epochs: PositiveInt = 1,
                 scatter_every_n_epochs: PositiveInt = 1, scatter_points: PositiveInt = 5000, pca_row: bool = True,
                 pca_samples: PositiveInt | None = 10_000, save_png: bool = True) -> None:
        self.num_images, self.every_n_epochs, self.scatter_points = num_images, every_n_epochs, scatter_points
        self.scatter_every_n_epochs = scatter_every_n_epochs
        self.pca_row, self.pca_samples, self.save_png = pca_row, pca_samples, save_png
        self._pca: _ReferencePCA | None = None
        self._pca_scatter_logged = False  # the PCA panel, logged once per fit (it never changes)
        self._panels: list = []  # the last scatter's panels, for the PNG file
        self._scatter_title = ""

    def _test_images(self, trainer: L.Trainer, n: int, device) -> tuple[Tensor, Tensor]:
        x, y = trainer.datamodule.split("test")
        return x[:n].to(device), y[:n].to(device)

    def _reference_pca(self, trainer: L.Trainer, pl_module: L.LightningModule) -> _ReferencePCA | None:
        k = getattr(pl_module, "latent_dim", None)
        if not self.pca_row or isinstance(pl_module, PCA) or k is None or k > pl_module.input_dim:
            return None
        if self._pca is None or self._pca.k != k:  # once per run (a greedy stage keeps the code size)
            x_train, _ = trainer.datamodule.split("train")
            self._pca = _ReferencePCA(x_train[: self.pca_samples].to(pl_module.device), k)
        return self._pca

    @torch.no_grad()
    def _encode(self, pl_module: L.LightningModule, x: Tensor, batch: int = 1000) -> Tensor:
        return torch.cat([pl_module.encode(x[i : i + batch]) for i in range(0, len(x), batch)])

    @torch.no_grad()
    def pictures(self, trainer: L.Trainer, pl_module: L.LightningModule, scatter: bool = True) -> dict[str, Tensor | Figure]:
        """{name: figure}: `recon_grid`, `latent_scatter` and `latent_scatter_pca` (if `scatter`; the PCA
        panel only the first time in a fit, it does not change) and the model's own figures."""
        was_training = pl_module.training
        pl_module.eval()
        stage, step = STAGE_PREFIX.get(trainer.state.fn, "fit"), self.run_step(trainer)
        when = f"epoch {trainer.current_epoch + 1}, step {step}" if stage == "fit" else f"{stage}, step {step}"
        run, model = run_name(trainer), type(pl_module).__name__
        k = getattr(pl_module, "latent_dim", None)
        pca = self._reference_pca(trainer, pl_module)
        few, few_y = self._test_images(trainer, self.num_images, pl_module.device)
        rows, captions = [few], ["original"]
        if pca is not None:
            rows.append(pca.cache.setdefault(f"recon{len(few)}", pca(few)))
            captions.append(pca.name())
        rows.append(pl_module(few))
        captions.append(pca_name(pl_module.latent_dim) if isinstance(pl_module, PCA) else f"{model}, {k}-D code")
        out: dict[str, Tensor | Figure] = {"recon_grid": figures.labelled_grid(rows, captions, side=pl_module.image_shape)}
        legend = legend_of(trainer.datamodule)
        self._panels = []
        if scatter and k is not None:
            x, y = self._test_images(trainer, self.scatter_points, pl_module.device)
            digits = y.cpu().numpy()
            noun = "digits" if legend["legend_title"] == "digit" else "images"
            title = f"{run}: {len(x)} test {noun}, {when}"
            points, xlabel, ylabel, how = figures.to_plane(self._encode(pl_module, x))
            if isinstance(pl_module, PCA):
                xlabel, ylabel = ("PC 1", "PC 2") if k > 1 else ("PC 1", ylabel)
                name = pca_name(k) if k <= 2 else f"PCA, first 2 of {k} components"
                points = points if k <= 2 else figures.to_plane(self._encode(pl_module, x)[:, :2])[0]
            else:
                name = f"{model}: {how}"
            model_panel = (name, points, digits, xlabel, ylabel)
            out["latent_scatter"] = figures.scatter_figure([model_panel], title=title, **legend)
            if pca is not None:
                key = f"plane{len(x)}"
                if key not in pca.cache:
                    pca.cache[key] = torch.from_numpy(figures.to_plane(pca.encode(x)[:, :2])[0])
                axes = ("PC 1", "PC 2") if pca.k > 1 else ("PC 1", "(jitter)")
                pca_panel = (pca.name(first_two=True), pca.cache[key].numpy(), digits, *axes)
                if stage != "fit" or not self._pca_scatter_logged:
                    out["latent_scatter_pca"] = figures.scatter_figure([pca_panel], title=f"{run}: {len(x)} test {noun}",
                                                                       **legend)
                    self._pca_scatter_logged = stage == "fit" or self._pca_scatter_logged
                self._panels = [pca_panel, model_panel]  # side by side in the PNG file
            else:
                self._panels = [model_panel]
            self._scatter_title = title
        for name, picture in pl_module.figures(few, few_y).items():
            out[name.replace("/", "_")] = picture
        pl_module.train(was_training)
        return out

    @rank_zero_only
    def _log(self, trainer: L.Trainer, pl_module: L.LightningModule, scatter: bool, write_png: bool) -> None:
        if not isinstance(pl_module, AutoencoderModule):  # e.g. the Classifier: nothing to reconstruct
            return
        writer = tensorboard(trainer)
        stage, step = STAGE_PREFIX.get(trainer.state.fn, "fit"), self.run_step(trainer)
        folder = log_dir(trainer) / "figures"
        for name, picture in self.pictures(trainer, pl_module, scatter).items():
            if writer is not None:
                if isinstance(picture, Figure):
                    writer.add_figure(f"{stage}/{name}", picture, global_step=step, close=False)
                else:  # a bare image tensor: nearest-neighbour upsampled, as the figures are
                    writer.add_image(f"{stage}/{name}", figures.upsample(picture), global_step=step)
            if write_png and name not in ("latent_scatter", "latent_scatter_pca"):
                figures.save(picture, folder / f"{name}.png")
            if isinstance(picture, Figure):
                plt.close(picture)
        if write_png and self._panels:  # the file keeps PCA beside the model, as the posts show it
            both = figures.scatter_figure(self._panels, title=self._scatter_title, **legend_of(trainer.datamodule))
            figures.save(both, folder / "latent_scatter.png")
            plt.close(both)
        if writer is not None:
            writer.flush()

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        if trainer.state.fn != TrainerFn.FITTING:  # `lightning-ae validate`
            self._log(trainer, pl_module, scatter=True, write_png=False)
            return
        epoch = trainer.current_epoch + 1
        if epoch % self.every_n_epochs:
            return
        last = trainer.max_epochs is not None and epoch >= trainer.max_epochs
        scatter = last or (epoch // self.every_n_epochs) % self.scatter_every_n_epochs == 0
        self._log(trainer, pl_module, scatter=scatter, write_png=False)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log(trainer, pl_module, scatter=True, write_png=self.save_png)


def legend_of(datamodule) -> dict:
    """The scatter plots' legend for the data: its class names ("digit" for MNIST's, "class" otherwise)."""
    names = tuple(getattr(datamodule, "class_names", ()) or ())
    digits = names == tuple(str(d) for d in range(10))  # MNIST's
    return {"class_names": names, "legend_title": "digit" if digits else "class"}


def pca_name(k: int) -> str:
    return f"PCA, {k} component{'s' if k > 1 else ''}"
