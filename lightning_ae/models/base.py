"""The base LightningModule ("system") every autoencoder variant plugs into.

It owns the shared steps, the metrics, the optimizer and the figures. A variant supplies the
networks through `encode`/`decode` and changes training only through small hooks:

- `corrupt(x)`: the input the network sees (denoising), applied in training only (unless
  `corrupts_input(stage)` says otherwise);
- `objective(x_in, x)`: loss, reconstruction and named loss terms (VAE, sparse penalties);
- `figures(x, y)`: extra pictures for TensorBoard (filters, samples, activations).

A callback that changes what is trained over time (greedy layer-wise pretraining) sets
`train_objective`, a function with the signature of `objective` used by training steps only;
validation and test always score the whole network through `objective`.
"""

from __future__ import annotations

import inspect
import math
from typing import Literal

import torch
from torch import Tensor, nn
from torchmetrics import MeanMetric, MeanSquaredError, MetricCollection
from torchmetrics.functional.image import structural_similarity_index_measure
from torchmetrics.image import PeakSignalNoiseRatio

from jsonargparse.typing import PositiveInt

from lightning_ae import losses
from lightning_ae.compiling import compile_networks
from lightning_ae.errors import ConfigError
from lightning_ae.models.system import System

# which metrics validation computes every epoch: "lean" (MSE, RMSE, PSNR: one running sum of squared
# errors) or "full" (also SSIM and squared error per image, as at test)
ValMetrics = Literal["lean", "full"]


class ReconstructionMetrics(nn.Module):
    """Per-pixel MSE and RMSE over all pixels and PSNR; with `full`, also SSIM and squared error per image.

    MSE, RMSE and PSNR (10 log10(1 / MSE), pixels in [0, 1]) share one running sum of squared errors
    (a torchmetrics compute group), so they cost one pass over the batch together.
    """

    def __init__(self, prefix: str, image_shape: tuple[int, int, int] = (1, 28, 28), full: bool = True) -> None:
        super().__init__()
        self.image_shape, self.prefix, self.full = image_shape, prefix, full
        # SSIM's Gaussian window (11 x 11 by default) must fit the image: smaller ones for small images (8 x 8)
        kernel = min(11, (min(image_shape[1:]) - 1) // 2 * 2 + 1)
        self.flat = MetricCollection(
            {"mse": MeanSquaredError(), "rmse": MeanSquaredError(squared=False), "psnr": PeakSignalNoiseRatio(data_range=1.0)},
            prefix=prefix,
        )
        if full:
            self.ssim_args = {"data_range": 1.0, "kernel_size": max(1, kernel), "sigma": 1.5 * max(1, kernel) / 11}
            self.ssim = MeanMetric()  # SSIM per image, averaged over images (see `update`)
            self.sse = MeanMetric()  # squared error per image (Hinton & Salakhutdinov's unit)

    def update(self, x_hat: Tensor, x: Tensor) -> None:
        x_hat, x = x_hat.float(), x.float()
        self.flat.update(x_hat, x)
        if self.full:
            # torchmetrics' SSIM, given the batch as the channels of one image: (B, 784) -> (1, B * C, H, W).
            # Its value is the mean of the SSIM map over channels and pixels, so over equal-sized images the
            # mean of the per-image SSIMs that StructuralSimilarityIndexMeasure averages (tests/models/
            # test_metrics.py checks the two agree), weighted here by the batch's images. Its Gaussian window
            # then runs as one depthwise convolution (groups = channels) instead of one single-channel
            # convolution per image: 0.03 s instead of 0.31 s per 1,000 MNIST images on a CPU core.
            _, h, w = self.image_shape  # (C, H, W): the channels join the batch
            ssim = structural_similarity_index_measure(x_hat.reshape(1, -1, h, w), x.reshape(1, -1, h, w), **self.ssim_args)
            self.ssim.update(ssim, weight=len(x))
            self.sse.update((x_hat - x).pow(2).sum(-1))

    def metrics(self) -> dict[str, object]:
        """Metric objects to hand to `LightningModule.log_dict` (computed and reset per epoch)."""
        out = dict(self.flat.items(keep_base=False, copy_state=False))
        if self.full:
            out.update({f"{self.prefix}ssim": self.ssim, f"{self.prefix}sq_err_per_image": self.sse})
        return out


def shape_of(input_dim: int, image_shape: tuple[int, int] | None) -> tuple[int, int]:
    """(H, W) of images of `input_dim` pixels: `image_shape` if given (checked), else a square, else one row."""
    if image_shape is not None:
        if image_shape[0] * image_shape[1] != input_dim:
            raise ConfigError(f"image_shape {tuple(image_shape)} has {image_shape[0] * image_shape[1]} pixels, "
                              f"input_dim is {input_dim}; leave both to the data (they follow data.path / data.dataset).")
        return int(image_shape[0]), int(image_shape[1])
    side = math.isqrt(input_dim)
    return (side, side) if side * side == input_dim else (1, input_dim)


class AutoencoderModule(System):
    """Base system: shared `_step`, torchmetrics, the injected optimizer (see `System`) and figure hooks.

    Args:
        input_dim: pixels per image (784 for MNIST). On the command line and in configs it follows
            the data (`data.input_dim`, linked by the CLI).
        image_shape: (H, W) of the images, for pictures and SSIM (linked to `data.image_shape` by the
            CLI); None: a square of `input_dim` pixels.
        compile: `torch.compile` the networks (see `lightning_ae.compiling`; eager fallback with a
            warning where unsupported).
        val_metrics: what validation logs every epoch: "lean" (`val/loss`, `val/mse`, `val/rmse`,
            `val/psnr`) or "full" (also `val/ssim`, `val/sq_err_per_image`). Test always logs all of them.
        optimizer, lr_scheduler: callables that build them (`System`); in a config, the top-level
            `optimizer:` and `lr_scheduler:` sections.
    """

    latent_dim: int
    # whether `*/loss` goes to the logger (TensorBoard) as well as to callbacks, the progress bar and
    # run.json: False for a model whose objective is not a per-pixel error (the VAE's nats per image),
    # so a `val/loss` chart never mixes units; such a model charts its own terms instead
    chart_loss = True
    train_objective = None  # set by a callback: replaces `objective` in training steps (None: not replaced)

    def __init__(self, input_dim: PositiveInt = 784, compile: bool = False, val_metrics: ValMetrics = "lean",
                 image_shape: tuple[PositiveInt, PositiveInt] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        # with the variant's own arguments; our frame passed in, as in MNISTDataModule (no reference cycle)
        self.save_hyperparameters(ignore=["optimizer", "lr_scheduler"], frame=inspect.currentframe())
        self.input_dim = input_dim
        self.image_shape = shape_of(input_dim, image_shape)
        self.val_metrics = ReconstructionMetrics("val/", (1, *self.image_shape), full=val_metrics == "full")
        self.test_metrics = ReconstructionMetrics("test/", (1, *self.image_shape))
        self.compiled: list[str] | None = None  # names of the compiled networks, once configured
        # training loss and terms summed over the epoch: {names: (sums of value x batch size, images)}, logged at its end
        self._train_terms: dict[tuple[str, ...], tuple[Tensor, int]] = {}

    def configure_model(self) -> None:
        if self.hparams.get("compile") and self.compiled is None:
            self.compiled = compile_networks(self, self.trainer.strategy.root_device)

    # -- the network: variants implement these ---------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:  # (B, 784) -> (B, latent_dim)
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:  # (B, latent_dim) -> (B, 784), pixel probabilities
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    # -- hooks a variant may override ------------------------------------------------------------
    def corrupt(self, x: Tensor) -> Tensor:
        """The network's input for a clean batch `x`; identity unless the variant corrupts it."""
        return x

    def corrupts_input(self, stage: str) -> bool:
        """Whether `_step` feeds `corrupt(x)` in this stage (train, val, test): in training only by default."""
        return self.training

    def objective(self, x_in: Tensor, x: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """(loss to minimise, reconstruction in [0,1], named loss terms to log) for input `x_in`, target `x`."""
        x_hat = self(x_in)
        return losses.reconstruction(x_hat, x, getattr(self, "loss_kind", "mse")), x_hat, {}

    def figures(self, x: Tensor, y: Tensor) -> dict[str, object]:
        """Extra pictures for a fixed batch of test images: {tag: (C,H,W) image tensor or matplotlib figure}."""
        return {}

    # -- shared steps ----------------------------------------------------------------------------
    def _step(self, batch: tuple[Tensor, Tensor], stage: str, batch_idx: int = 0) -> Tensor:
        x, _ = batch
        x_in = self.corrupt(x) if self.corrupts_input(stage) else x
        objective = self.train_objective if stage == "train" and self.train_objective is not None else self.objective
        loss, x_hat, terms = objective(x_in, x)
        if stage == "train":
            # summed on the device and logged once per epoch (`train/loss`, `train/<term>`): a
            # `self.log` costs about a millisecond of Lightning bookkeeping, ~10% of a CPU step
            self._accumulate({"loss": loss, **terms}, len(x))
            if self._log_step_now(batch_idx):  # the loss of single batches: `train/batch_loss`
                self.log("train/batch_loss", loss, prog_bar=True, on_step=True, on_epoch=False,
                         batch_size=len(x), sync_dist=True, logger=self.chart_loss)
            return loss
        # synced: under DDP the epoch value averages every rank's batches
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=len(x), sync_dist=True,
                 logger=self.chart_loss)
        for name, value in terms.items():
            self.log(f"{stage}/{name}", value, on_step=False, on_epoch=True, batch_size=len(x), sync_dist=True)
        metrics = self.val_metrics if stage == "val" else self.test_metrics
        metrics.update(x_hat.detach(), x)  # unclamped: PCA's published errors are too
        self.log_dict(metrics.metrics(), on_step=False, on_epoch=True, batch_size=len(x))
        return loss

    def _accumulate(self, values: dict[str, Tensor], batch_size: int) -> None:
        """Add this batch's loss and terms (times its size) to the epoch's sums: three tensor ops per step."""
        names = tuple(values)  # a greedy stage change brings other names: one running sum per set of names
        batch = torch.stack([v.detach().float() for v in values.values()]) * batch_size
        total, count = self._train_terms.get(names, (0.0, 0))
        self._train_terms[names] = (total + batch, count + batch_size)

    def _log_step_now(self, batch_idx: int) -> bool:
        """Whether this training step logs `train/batch_loss`: on the steps the logger writes (every
        `Trainer(log_every_n_steps)` optimizer steps) and on the epoch's last; the progress bar shows
        the latest. (Not at every redraw of the bar: a `self.log` costs ~0.5-1 ms of Lightning
        bookkeeping, and every 10th step that was ~1% of a CPU step of the seed network.)"""
        try:
            trainer = self.trainer
        except RuntimeError:  # a step called by hand, outside a Trainer
            return False
        logger_writes = (trainer.global_step + 1) % max(1, trainer.log_every_n_steps) == 0
        return logger_writes or bool(trainer.fast_dev_run) or trainer.is_last_batch

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train", batch_idx)

    def on_train_epoch_end(self) -> None:
        """Log the epoch means of the training loss and terms (`train/loss`, `train/<term>`; DDP: over all ranks)."""
        sums: dict[str, tuple[Tensor, int]] = {}
        for names, (total, count) in self._train_terms.items():
            for name, value in zip(names, total.unbind()):
                so_far, seen = sums.get(name, (0.0, 0))
                sums[name] = (so_far + value, seen + count)
        for name, (total, count) in sums.items():
            self.log(f"train/{name}", total / count, prog_bar=name == "loss", on_step=False, on_epoch=True, sync_dist=True,
                     logger=self.chart_loss or name != "loss")
        self._train_terms = {}

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def predict_step(self, batch, batch_idx):
        """Codes `z`, reconstructions `x_hat` (in [0, 1]), inputs `x` and labels `y` (-1: none) of a batch."""
        x, y = batch
        z = self.encode(x)
        return {"z": z, "x_hat": self.decode(z).clamp(0, 1), "x": x, "y": y}
