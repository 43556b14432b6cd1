"""What every LightningModule of the project shares: an injected optimizer and learning-rate schedule.

Dependency injection as in Lightning's CLI docs ("Optimizers and learning rate schedulers", the
`OptimizerCallable` pattern): a model takes *callables* that build its optimizer and scheduler, and
the config names them by `class_path`. `lightning_ae.cli` adds LightningCLI's own top-level
`optimizer:` / `lr_scheduler:` sections and links them to these arguments, so

    lightning-ae fit --config configs/ae_2d.yaml --optimizer AdamW --optimizer.lr 0.002 \
        --lr_scheduler CosineAnnealingLR --lr_scheduler.T_max 5

works on every config, and the run's `config.yaml` records what was used. In Python,
`Autoencoder(optimizer=partial(torch.optim.SGD, lr=0.1))` does the same.

The optimizer is built over *all* parameters: a frozen one (`requires_grad=False`) gets no gradient
and every torch optimizer skips it (weight decay included), so freezing and unfreezing layers
(a frozen pretrained encoder, greedy layer-wise stages) never changes the optimizer's structure,
and a checkpoint's optimizer state always fits the optimizer rebuilt on resume.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch.optim.lr_scheduler import ReduceLROnPlateau

from lightning_ae.checkpoints import CheckpointError, state_dict_mismatch
from lightning_ae.errors import ConfigError


class System(L.LightningModule):
    """A LightningModule whose optimizer and learning-rate scheduler are given as callables.

    Args:
        optimizer: builds the optimizer from the parameters (default: Adam, lr 1e-3). In a config:
            the top-level `optimizer:` section, e.g. `class_path: torch.optim.AdamW`.
        lr_scheduler: builds the scheduler from the optimizer (default: none), stepped once per
            epoch; a ReduceLROnPlateau watches `val/loss` (or its own `monitor`, with
            `lightning.pytorch.cli.ReduceLROnPlateau`). In a config: the top-level `lr_scheduler:`.
    """

    def __init__(self, optimizer: OptimizerCallable = torch.optim.Adam,
                 lr_scheduler: LRSchedulerCallable | None = None) -> None:
        super().__init__()
        self.optimizer, self.lr_scheduler = optimizer, lr_scheduler

    def configure_optimizers(self):
        try:  # torch checks the values when it builds them (a negative lr, weight_decay, ...)
            optimizer = self.optimizer(self.parameters())
            scheduler = None if self.lr_scheduler is None else self.lr_scheduler(optimizer)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"the optimizer or learning-rate scheduler cannot be built: {e}; fix it in the "
                              "config's optimizer: / lr_scheduler: sections or with --optimizer.<name> ...") from e
        if scheduler is None:
            return optimizer
        config = {"scheduler": scheduler}
        if isinstance(scheduler, ReduceLROnPlateau):
            config["monitor"] = getattr(scheduler, "monitor", "val/loss")
        return {"optimizer": optimizer, "lr_scheduler": config}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Refuse, in one line, weights that do not fit this model (a checkpoint of other layer sizes)."""
        mismatch = state_dict_mismatch(checkpoint["state_dict"], self.state_dict(), strict=self.strict_loading)
        if mismatch:
            raise CheckpointError(
                f"the checkpoint does not fit this {type(self).__name__}: {mismatch}. It was trained with other "
                "layer sizes; use its own config (config.yaml beside its checkpoints/ folder) or a matching checkpoint."
            )
