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
With `cache_inputs`, h_{k-1} is computed once for the whole training split at the start of
stage k (the "cache the frozen layers' outputs" trick); each batch then reads its rows of the
cache, found by an exact fingerprint of the batch's pixels, so the batches and their order are
those of the uncached run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from itertools import accumulate

import lightning as L
import torch
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import Tensor, nn
from torch.nn import functional as F

from lightning_ae import losses
from lightning_ae.networks import TiedDecoder


class _TransposedBlock(nn.Module):
    """One layer of a `TiedDecoder`: act(h W + b) with W the (transposed) weight of its encoder layer."""

    def __init__(self, layer: nn.Linear, bias: nn.Parameter, act: nn.Module) -> None:
        super().__init__()
        self.layer, self.bias, self.act = layer, bias, act

    def forward(self, h: Tensor) -> Tensor:  # (B, out_features) -> (B, in_features)
        return self.act(F.linear(h, self.layer.weight.t(), self.bias))


def layer_blocks(net: nn.Module) -> list[nn.Module]:
    """Split a network into one block per linear layer (the layer and the activation after it).

    Works on `nn.Sequential` of Linear + activation modules (`networks.mlp`) and on `TiedDecoder`.
    """
    if isinstance(net, TiedDecoder):
        layers = list(reversed(net.encoder_layers))
        return [_TransposedBlock(layer, bias, act) for layer, bias, act in zip(layers, net.biases, net.acts)]
    if not isinstance(net, nn.Sequential):
        raise ValueError(
            f"greedy pretraining needs nn.Sequential encoder/decoder networks (or a TiedDecoder), "
            f"got {type(net).__name__}; use an Autoencoder built with networks.mlp."
        )
    blocks: list[list[nn.Module]] = []
    for module in net:
        if isinstance(module, nn.Linear):
            blocks.append([module])
        elif blocks:
            blocks[-1].append(module)  # the activation after the layer
        else:
            raise ValueError(f"the network starts with {type(module).__name__}, expected an nn.Linear layer.")
    return [nn.Sequential(*b) for b in blocks]


class GreedyLayerwisePretraining(L.Callback):
    """Train a stacked autoencoder one shallow autoencoder per stage, then fine-tune it end to end.

    Args:
        epochs_per_stage: epochs of each stage, one entry per encoder layer, bottom first
            (e.g. [4, 4] for 784-300-150). Epochs left until `trainer.max_epochs` fine-tune the
            whole network; set `max_epochs` to the sum for pretraining only.
        cache_inputs: compute the frozen lower layers' outputs for the whole training split once
            per stage instead of on every batch (same result, fewer operations).
        reset_optimizer: clear the optimizer's state (Adam moments) when a stage begins, as if
            each stage had its own optimizer.
        finetune_lr: learning rate of the end-to-end fine-tuning (None: keep the optimizer's). The
            pretrained net sits near a minimum: a fresh Adam at the pretraining rate (0.01) moves
            every weight by ~lr on its first steps and undoes most of the pretraining.
        corrupt_hidden: stages above the first also corrupt their input, the frozen hidden units,
            with the module's `corrupt` (stacked denoising autoencoders, Vincent et al., JMLR 2010;
            meant for masking noise: Gaussian noise with clipping would clip the hidden units).
        finetune_schedule: constant (keep the fine-tuning rate, or the module's own scheduler) or
            cosine (decay it to 0 over the fine-tuning epochs, set on every batch).
        cache_chunk: rows per forward pass when filling the cache.
    """

    def __init__(self, epochs_per_stage: Sequence[int] = (4, 4), cache_inputs: bool = False,
                 reset_optimizer: bool = True, finetune_lr: float | None = None,
                 finetune_schedule: str = "constant", corrupt_hidden: bool = False, cache_chunk: int = 10_000) -> None:
        if len(epochs_per_stage) == 0 or any(int(e) != e or e <= 0 for e in epochs_per_stage):
            raise ValueError(
                f"epochs_per_stage must be a non-empty list of positive integers, got {list(epochs_per_stage)}."
            )
        if finetune_lr is not None and not finetune_lr > 0:
            raise ValueError(f"finetune_lr must be positive (or null to keep the optimizer's), got {finetune_lr}.")
        if finetune_schedule not in ("constant", "cosine"):
            raise ValueError(f"finetune_schedule must be 'constant' or 'cosine', got {finetune_schedule!r}.")
        if cache_chunk <= 0:
            raise ValueError(f"cache_chunk must be positive, got {cache_chunk}.")
        self.epochs_per_stage = [int(e) for e in epochs_per_stage]
        self.stage_ends = list(accumulate(self.epochs_per_stage))  # first epoch after each stage
        self.cache_inputs, self.reset_optimizer, self.cache_chunk = cache_inputs, reset_optimizer, cache_chunk
        self.finetune_lr, self.finetune_schedule = finetune_lr, finetune_schedule
        self.corrupt_hidden = corrupt_hidden
        self._peak_lr: list[float] = []  # each param group's rate when fine-tuning began (cosine schedule)
        self.stage: int | None = None  # 0-based; == num_stages during fine-tuning
        self.encoder_blocks: list[nn.Module] = []
        self.decoder_blocks: list[nn.Module] = []  # decoder_blocks[k] mirrors encoder_blocks[k]
        self._cache: Tensor | None = None
        self._cache_stage: int | None = None
        self._keys: Tensor | None = None  # sorted fingerprints of the training rows
        self._rows: Tensor | None = None  # training row of each sorted fingerprint
        self._weights: Tensor | None = None  # fingerprint weights

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
            raise ValueError(
                f"GreedyLayerwisePretraining needs an AutoencoderModule with `encoder` and `decoder` networks, "
                f"got {type(pl_module).__name__}."
            )
        enc, dec = layer_blocks(pl_module.encoder), layer_blocks(pl_module.decoder)[::-1]
        if len(enc) != len(dec):
            raise ValueError(f"the encoder has {len(enc)} linear layers but the decoder {len(dec)}; they must mirror.")
        dims = [_shape(enc[0])[0]]
        for k, (e, d) in enumerate(zip(enc, dec)):
            e_in, e_out = _shape(e)
            d_in, d_out = _shape(d)
            if (d_in, d_out) != (e_out, e_in):
                raise ValueError(
                    f"decoder layer {d_in}->{d_out} does not mirror encoder layer {e_in}->{e_out} (stage {k + 1})."
                )
            dims.append(e_out)
        if len(enc) != self.num_stages:
            raise ValueError(
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
        if self._cache is None or self._cache_stage != k:
            return self.lower(x, k)
        return self._cache[self.cache_rows(x)]

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

    # -- cache of the frozen layers' outputs -----------------------------------------------------
    def _fingerprint(self, x: Tensor) -> Tensor:
        """An exact, order-independent hash of each row's float bits: (B, D) -> (B,) int64."""
        bits = x.float().contiguous().view(torch.int32).long()
        return (bits * self._weights).sum(-1)  # integer arithmetic: wraps, never rounds

    @torch.no_grad()
    def build_cache(self, trainer: L.Trainer, pl_module: L.LightningModule, k: int) -> None:
        """Compute h_k for every training image once (frozen layers: it stays valid all stage)."""
        datamodule = trainer.datamodule
        if datamodule is None or not hasattr(datamodule, "split"):
            raise ValueError("cache_inputs needs a datamodule with split('train') (MNISTDataModule); "
                             "set cache_inputs: false to train without the cache.")
        x_train, _ = datamodule.split("train")
        x_train = x_train.to(pl_module.device)
        g = torch.Generator().manual_seed(0)
        self._weights = torch.randint(-2**62, 2**62, (x_train.shape[1],), generator=g).to(x_train.device)
        keys = torch.cat([self._fingerprint(c) for c in x_train.split(self.cache_chunk)])
        self._keys, self._rows = keys.sort()
        self._cache = torch.cat([self.lower(c, k) for c in x_train.split(self.cache_chunk)])  # (N, d_k)
        self._cache_stage = k

    def cache_rows(self, x: Tensor) -> Tensor:
        """Row of the training split holding each image of the batch `x`: (B, 784) -> (B,)."""
        keys = self._fingerprint(x)
        pos = torch.searchsorted(self._keys, keys).clamp_(max=len(self._keys) - 1)
        if not torch.equal(self._keys[pos], keys):  # a 64-bit hash of the exact bits: equal keys, equal images
            raise ValueError(
                "cache_inputs: a training batch is not made of rows of the training split (dynamic "
                "binarisation or augmentation changes the images every epoch); set cache_inputs: false."
            )
        return self._rows[pos]

    def _drop_cache(self) -> None:
        self._cache = self._cache_stage = self._keys = self._rows = self._weights = None

    # -- Lightning hooks -------------------------------------------------------------------------
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        _let_ddp_skip_frozen_layers(trainer)
        self.attach(pl_module)
        if trainer.max_epochs is not None and 0 <= trainer.max_epochs < self.stage_ends[-1]:
            rank_zero_warn(
                f"max_epochs={trainer.max_epochs} ends before the last greedy stage (epoch {self.stage_ends[-1]}); "
                "the upper layers stay untrained."
            )

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        k = self.stage_at(trainer.current_epoch)
        if k != self.stage:  # a new stage begins (a resumed run restores the optimizer of its stage)
            for optimizer in trainer.optimizers:
                if self.reset_optimizer:
                    optimizer.state.clear()  # a fresh Adam for the new stage
                if k == self.num_stages and self.finetune_lr is not None:
                    for group in optimizer.param_groups:
                        group["lr"] = self.finetune_lr
        if k == self.num_stages and not self._peak_lr:
            self._peak_lr = [self.finetune_lr or g["lr"] for opt in trainer.optimizers for g in opt.param_groups]
        self.stage = k
        self.apply_stage(pl_module, k)
        if self.cache_inputs and 0 < k < self.num_stages and self._cache_stage != k:
            self.build_cache(trainer, pl_module, k)
        elif k >= self.num_stages and self._cache is not None:
            self._drop_cache()

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if self.stage != self.num_stages or self.finetune_schedule != "cosine" or trainer.max_epochs is None:
            return
        per_epoch = trainer.num_training_batches
        done = (trainer.current_epoch - self.stage_ends[-1]) * per_epoch + batch_idx
        total = max(1, (trainer.max_epochs - self.stage_ends[-1]) * per_epoch)
        scale = 0.5 * (1 + math.cos(math.pi * min(done, total) / total))
        groups = [g for opt in trainer.optimizers for g in opt.param_groups]
        for group, peak in zip(groups, self._peak_lr):
            group["lr"] = peak * scale

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # 1-based in TensorBoard: 1..n the greedy stages, n + 1 end-to-end fine-tuning
        pl_module.log("greedy/stage", float(self.stage + 1), on_step=False, on_epoch=True, sync_dist=True)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit" and self.encoder_blocks:
            self.apply_stage(pl_module, self.num_stages)  # leave a normal, fully trainable module
            self._drop_cache()

    # -- checkpointing ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"stage": self.stage, "epochs_per_stage": list(self.epochs_per_stage), "peak_lr": list(self._peak_lr)}

    def load_state_dict(self, state_dict: dict) -> None:
        if list(state_dict["epochs_per_stage"]) != self.epochs_per_stage:
            raise ValueError(
                f"the checkpoint was saved with epochs_per_stage={state_dict['epochs_per_stage']}, "
                f"this run has {self.epochs_per_stage}; resume with the same schedule."
            )
        self.stage = state_dict["stage"]
        self._peak_lr = list(state_dict.get("peak_lr", []))


def _let_ddp_skip_frozen_layers(trainer: L.Trainer) -> None:
    """Under DDP, let the layers a stage freezes go without a gradient (`find_unused_parameters`).

    DDP waits for a gradient of every parameter it wrapped; each greedy stage trains one layer pair
    and leaves the others without one. Lightning wraps the model after the `setup` hooks, so the
    option set here is the one DDP is built with: `--trainer.strategy ddp` works unchanged.
    """
    strategy = trainer.strategy
    if not isinstance(strategy, DDPStrategy):
        return
    ddp_kwargs = getattr(strategy, "_ddp_kwargs", None)
    if not isinstance(ddp_kwargs, dict):  # a Lightning whose DDPStrategy keeps its options elsewhere
        raise ValueError(
            "GreedyLayerwisePretraining under DDP needs find_unused_parameters (each stage trains one layer "
            "pair); run with --trainer.strategy ddp_find_unused_parameters_true."
        )
    if not ddp_kwargs.get("find_unused_parameters"):
        ddp_kwargs["find_unused_parameters"] = True
        rank_zero_info("GreedyLayerwisePretraining: DDP set to find unused parameters (each greedy stage "
                       "trains one layer pair; the frozen layers get no gradient).")


def _shape(block: nn.Module) -> tuple[int, int]:
    """(in, out) features of a layer block."""
    if isinstance(block, _TransposedBlock):
        return block.layer.out_features, block.layer.in_features
    return block[0].in_features, block[0].out_features
