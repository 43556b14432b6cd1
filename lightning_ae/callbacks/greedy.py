"""Greedy layer-wise pretraining of a stacked autoencoder, one shallow autoencoder at a time.

Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks", Science 2006
(layer-wise pretraining, then end-to-end fine-tuning); Bengio, Lamblin, Popovici & Larochelle,
"Greedy Layer-Wise Training of Deep Networks", NIPS 2006 (the layers are autoencoders).

For an encoder L_1 .. L_n and its mirror decoder D_n .. D_1 (D_k maps back what L_k maps forward),
stage k (1-based) trains only L_k and D_k as a shallow autoencoder

    h_{k-1} -> L_k -> D_k -> reconstruction of h_{k-1},     h_0 = x,  h_j = L_j(h_{j-1}),

where h_{k-1} is the output of the frozen layers below. Stage 1 uses the module's own loss on the
pixels; higher stages use the MSE on the hidden units. The epochs after the last stage (up to
`trainer.max_epochs`) fine-tune the whole network end to end with the module's own objective.

The callback sets `requires_grad` per stage (frozen parameters get no gradient, so the optimizer
skips them, weight decay included) and replaces the module's training objective through
`AutoencoderModule.train_objective`; validation and test always score the full reconstruction.
Each stage gets a fresh optimizer and schedule from the module's own injected callables (the
config's `optimizer:` / `lr_scheduler:`), fine-tuning from `finetune_optimizer` /
`finetune_lr_scheduler` when given: the callback swaps the callables and asks the strategy to run
`configure_optimizers` again (`Strategy.setup_optimizers`), so a resumed run rebuilds the optimizer
of the stage it stopped in. With `cache_inputs`, h_{k-1} is computed once for the whole training
split at the start of stage k (`lightning_ae.callbacks.stage_cache`).

Under DDP the frozen layers get no gradient, which DDP allows only with
`--trainer.strategy ddp_find_unused_parameters_true`; plain `ddp` stops with a one-line message,
before any process is launched when the strategy is given by its registered name (`refuse_strategy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import accumulate

import lightning as L
import torch
from jsonargparse.typing import PositiveInt
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from lightning_ae import losses
from lightning_ae.callbacks.stage_cache import StageInputCache
from lightning_ae.errors import ConfigError
from lightning_ae.networks import block_shape, layer_blocks

PLAIN_DDP = ("GreedyLayerwisePretraining under DDP: each stage trains one layer pair and the frozen layers get "
             "no gradient, which DDP allows only when told; run with --trainer.strategy ddp_find_unused_parameters_true.")


class GreedyLayerwisePretraining(L.Callback):
    """Train a stacked autoencoder one shallow autoencoder per stage, then fine-tune it end to end.

    Args:
        epochs_per_stage: epochs of each stage, one entry per encoder layer, bottom first
            (e.g. [4, 4] for 784-300-150). Epochs left until `trainer.max_epochs` fine-tune the
            whole network; set `max_epochs` to the sum for pretraining only.
        cache_inputs: compute the frozen lower layers' outputs for the whole training split once
            per stage instead of on every batch (same result, fewer operations).
        finetune_optimizer: builds the optimizer of the end-to-end fine-tuning (None: the module's
            own, fresh). The pretrained net sits near a minimum: a fresh Adam at the pretraining
            rate (0.01) moves every weight by ~lr on its first steps and undoes most of the pretraining.
        finetune_lr_scheduler: its learning-rate schedule, stepped per epoch (None: the module's own).
        corrupt_hidden: stages above the first also corrupt their input, the frozen hidden units,
            with the module's `corrupt` (stacked denoising autoencoders, Vincent et al., JMLR 2010;
            meant for masking noise: Gaussian noise with clipping would clip the hidden units).
        cache_chunk: rows per forward pass when filling the cache.
    """

    def __init__(self, epochs_per_stage: Sequence[PositiveInt] = (4, 4), cache_inputs: bool = False,
                 finetune_optimizer: OptimizerCallable | None = None,
                 finetune_lr_scheduler: LRSchedulerCallable | None = None,
                 corrupt_hidden: bool = False, cache_chunk: PositiveInt = 10_000) -> None:
        if len(epochs_per_stage) == 0:
            raise ConfigError("epochs_per_stage is empty; give one number of epochs per encoder layer, e.g. [4, 4].")
        self.epochs_per_stage = [int(e) for e in epochs_per_stage]
        self.stage_ends = list(accumulate(self.epochs_per_stage))  # first epoch after each stage
        self.cache_inputs, self.corrupt_hidden = cache_inputs, corrupt_hidden
        self.finetune_optimizer, self.finetune_lr_scheduler = finetune_optimizer, finetune_lr_scheduler
        self.cache = StageInputCache(cache_chunk)
        self.stage: int | None = None  # 0-based; == num_stages during fine-tuning
        self.encoder_blocks: list[nn.Module] = []
        self.decoder_blocks: list[nn.Module] = []  # decoder_blocks[k] mirrors encoder_blocks[k]
        self.module: L.LightningModule | None = None
        self.module_optimizer: tuple | None = None  # the module's own (optimizer, lr_scheduler) callables

    @property
    def num_stages(self) -> int:
        return len(self.epochs_per_stage)

    def stage_at(self, epoch: int) -> int:
        """The stage trained in `epoch` (0-based); `num_stages` means end-to-end fine-tuning."""
        return next((k for k, end in enumerate(self.stage_ends) if epoch < end), self.num_stages)

    # -- structure -------------------------------------------------------------------------------
    def attach(self, pl_module: L.LightningModule) -> None:
        """Read the layer structure of `pl_module.encoder` / `pl_module.decoder` and check it."""
        if not (hasattr(pl_module, "encoder") and hasattr(pl_module, "decoder") and hasattr(pl_module, "train_objective")):
            raise ConfigError(
                f"GreedyLayerwisePretraining needs an AutoencoderModule with `encoder` and `decoder` networks, "
                f"got {type(pl_module).__name__}."
            )
        enc, dec = layer_blocks(pl_module.encoder), layer_blocks(pl_module.decoder)[::-1]
        if len(enc) != len(dec):
            raise ConfigError(f"the encoder has {len(enc)} linear layers but the decoder {len(dec)}; they must mirror.")
        dims = [block_shape(enc[0])[0]]
        for k, (e, d) in enumerate(zip(enc, dec)):
            e_in, e_out = block_shape(e)
            d_in, d_out = block_shape(d)
            if (d_in, d_out) != (e_out, e_in):
                raise ConfigError(
                    f"decoder layer {d_in}->{d_out} does not mirror encoder layer {e_in}->{e_out} (stage {k + 1})."
                )
            dims.append(e_out)
        if len(enc) != self.num_stages:
            raise ConfigError(
                f"epochs_per_stage has {self.num_stages} entries but the encoder "
                f"{'-'.join(map(str, dims))} has {len(enc)} layers; give one entry per layer, "
                f"e.g. {[self.epochs_per_stage[0]] * len(enc)}."
            )
        self.encoder_blocks, self.decoder_blocks = enc, dec

    def stage_parameters(self, k: int) -> list[nn.Parameter]:
        """The parameters trained in stage `k` (0-based): encoder layer k and its mirror decoder layer."""
        seen: dict[int, nn.Parameter] = {}
        for p in [*self.encoder_blocks[k].parameters(), *self.decoder_blocks[k].parameters()]:
            seen.setdefault(id(p), p)
        return list(seen.values())

    def apply_stage(self, pl_module: L.LightningModule, k: int) -> None:
        """Freeze everything but stage k's layers and train the stage's shallow autoencoder (k < n),
        or unfreeze everything and train the whole network (k == n)."""
        if k >= self.num_stages:
            for p in pl_module.parameters():
                p.requires_grad_(True)
            pl_module.train_objective = None
            return
        for p in pl_module.parameters():
            p.requires_grad_(False)
        for p in self.stage_parameters(k):
            p.requires_grad_(True)
        pl_module.train_objective = partial(self.stage_objective, pl_module, k)

    # -- the shallow autoencoder of a stage ------------------------------------------------------
    @torch.no_grad()
    def lower(self, x: Tensor, k: int) -> Tensor:
        """Output h_k of the (frozen) encoder layers below stage k: (B, 784) -> (B, d_k)."""
        for block in self.encoder_blocks[:k]:
            x = block(x)
        return x

    def stage_inputs(self, x: Tensor, k: int) -> Tensor:
        """h_k for the clean batch `x`, read from the cache when it holds this stage's outputs."""
        if self.cache.stage != k:
            return self.lower(x, k)
        return self.cache(x)

    def stage_objective(self, pl_module, k: int, x_in: Tensor, x: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Loss of stage k's shallow autoencoder, its reconstruction of h_k, and the loss as a named term."""
        if k == 0:  # (B, 784) -> (B, d_1) -> (B, 784): the pixels, with the module's loss (and corruption)
            target, h_in = x, x_in
            kind = getattr(pl_module, "loss_kind", "mse")
        else:  # (B, d_k) -> (B, d_{k+1}) -> (B, d_k): the hidden units of the frozen layers below
            target = h_in = self.stage_inputs(x, k)
            if self.corrupt_hidden and pl_module.training:
                h_in = pl_module.corrupt(target)
            kind = "mse"
        h_hat = self.decoder_blocks[k](self.encoder_blocks[k](h_in))
        loss = losses.reconstruction(h_hat, target, kind)
        return loss, h_hat, {f"stage{k + 1}_loss": loss.detach()}

    # -- optimizers --------------------------------------------------------------------------------
    def use_optimizer_of(self, pl_module: L.LightningModule, k: int) -> None:
        """Point the module's injected callables at stage k's optimizer and schedule: the module's own
        for the greedy stages, the fine-tuning ones (where given) after them."""
        optimizer, lr_scheduler = self.module_optimizer
        if k >= self.num_stages:
            optimizer = self.finetune_optimizer or optimizer
            lr_scheduler = self.finetune_lr_scheduler or lr_scheduler
        pl_module.optimizer, pl_module.lr_scheduler = optimizer, lr_scheduler

    # -- Lightning hooks -------------------------------------------------------------------------
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        self.attach(pl_module)
        self.module, self.module_optimizer = pl_module, (pl_module.optimizer, pl_module.lr_scheduler)
        if trainer.max_epochs is not None and 0 <= trainer.max_epochs < self.stage_ends[-1]:
            rank_zero_warn(
                f"max_epochs={trainer.max_epochs} ends before the last greedy stage (epoch {self.stage_ends[-1]}); "
                "the upper layers stay untrained."
            )

    @staticmethod
    def refuse_strategy(name: str) -> None:
        """Before `fit` launches its processes (the CLI calls this): a strategy registered under `name`
        (Lightning's `StrategyRegistry`: `ddp`, `ddp_spawn`, ...) that is DDP without
        `find_unused_parameters` is refused at once, not after every rank has started and loaded the data."""
        entry = StrategyRegistry[name] if name in StrategyRegistry else None
        if entry and issubclass(entry["strategy"], DDPStrategy) and not entry["init_params"].get("find_unused_parameters"):
            raise ConfigError(PLAIN_DDP)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        wrapped = trainer.strategy.model  # the DistributedDataParallel wrapper under DDP (any strategy object)
        if isinstance(wrapped, DistributedDataParallel) and not wrapped.find_unused_parameters:
            raise ConfigError(PLAIN_DDP)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        k = self.stage_at(trainer.current_epoch)
        if k != self.stage:  # a new stage: a fresh optimizer (a resumed run has rebuilt its stage's already)
            self.stage = k
            self.use_optimizer_of(pl_module, k)
            trainer.strategy.setup_optimizers(trainer)  # runs the module's configure_optimizers again
        self.apply_stage(pl_module, k)
        if self.cache_inputs and 0 < k < self.num_stages and self.cache.stage != k:
            x_train, _ = trainer.datamodule.split("train")
            self.cache.fill(x_train.to(pl_module.device), self.lower, k)
        elif k >= self.num_stages:
            self.cache.clear()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # 1-based in TensorBoard: 1..n the greedy stages, n + 1 end-to-end fine-tuning
        pl_module.log("greedy/stage", float(self.stage + 1), on_step=False, on_epoch=True, sync_dist=True)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit" and self.encoder_blocks:
            self.apply_stage(pl_module, self.num_stages)  # leave a normal, fully trainable module
            pl_module.optimizer, pl_module.lr_scheduler = self.module_optimizer
            self.cache.clear()

    # -- checkpointing ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"stage": self.stage, "epochs_per_stage": list(self.epochs_per_stage)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the stage; runs after `setup` and before `configure_optimizers`, so the optimizer
        rebuilt for the resumed run is the stage's, and the checkpoint's optimizer state fits it."""
        if list(state_dict["epochs_per_stage"]) != self.epochs_per_stage:
            raise ConfigError(
                f"the checkpoint was saved with epochs_per_stage={state_dict['epochs_per_stage']}, "
                f"this run has {self.epochs_per_stage}; resume with the same schedule."
            )
        self.stage = state_dict["stage"]
        if self.stage is not None and self.module is not None:
            self.use_optimizer_of(self.module, self.stage)
