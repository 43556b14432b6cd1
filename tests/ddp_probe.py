"""A callback for the DDP tests: each rank writes which training images it was served, per epoch.

Used through the CLI (`--trainer.callbacks+=ddp_probe.SeenSamples` with tests/ on PYTHONPATH), so
the check runs inside the real launched processes. Images are identified by their pixels: a
seeded random projection of the 0..255 pixel values gives one float64 key per image.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import torch
from torch import Tensor


def image_keys(x: Tensor) -> list[float]:
    """One float64 key per row of pixels in [0, 1]: (N, 784) -> N keys, equal only for equal images."""
    w = torch.randn(x.shape[1], generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return ((x.detach().cpu().double() * 255).round() @ w).tolist()


class SeenSamples(L.Callback):
    """Write `<output_dir>/rank<r>.json`: {"epochs": [[training index, ...] per epoch], "world_size": n}."""

    def __init__(self, output_dir: str) -> None:
        self.output_dir = Path(output_dir)
        self.epochs: list[list[int]] = []

    def on_train_start(self, trainer, pl_module) -> None:
        keys = image_keys(trainer.datamodule.split("train")[0])
        self.index = {k: i for i, k in enumerate(keys)}

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epochs.append([])

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.epochs[-1] += [self.index[k] for k in image_keys(batch[0])]

    def on_train_end(self, trainer, pl_module) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        record = {"epochs": self.epochs, "world_size": trainer.world_size}
        (self.output_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))
