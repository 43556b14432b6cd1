"""Batches by slicing in-memory tensors: `TensorLoader`, a DataLoader without the per-sample path.

The order of the rows is torch's own `DistributedSampler` (the loader's `sampler` attribute, as in
a DataLoader): a permutation seeded by (seed, epoch), and under DDP every `world_size`-th index of
it, padded so that all ranks serve equal shares. Lightning calls `sampler.set_epoch(epoch)` at each
epoch start, as it does for any DataLoader. `binarize` is the project's one dynamic binarisation.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import DistributedSampler

# the binarisation stream of an epoch is seeded by seed + BINARIZE_STRIDE * (epoch + 1)
BINARIZE_STRIDE = 7919


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Binarised pixels: each one 1 with probability its intensity in [0, 1], else 0 (a Bernoulli sample)."""
    return torch.bernoulli(x, generator=generator)


class TensorLoader:
    """Serve (x, y) batches by slicing in-memory tensors; a DataLoader without the per-sample path.

    `sampler` (a `torch.utils.data.DistributedSampler` over the rows, `batch_sampler` None as in a
    DataLoader that batches by itself) gives the order: seeded by (seed, epoch), so runs and resumed
    runs see the same order; under DDP each rank serves every `world_size`-th index, padded as
    `DistributedSampler` pads, so every sample is seen once per epoch across ranks. With `binarize`
    every batch is a fresh Bernoulli sample, from a stream seeded by (seed, epoch). Stateful for
    Lightning: a mid-epoch checkpoint stores how many batches were served, and a run resumed from it
    skips them, so it sees the batches the uninterrupted run would have seen.
    """

    batch_sampler = None  # batches are slices of the sampler's order, not a BatchSampler's lists

    def __init__(
        self,
        x: Tensor,
        y: Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        binarize: bool = False,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size, self.drop_last, self.binarize = batch_size, drop_last, binarize
        self.sampler = DistributedSampler(range(len(x)), num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed)
        self._served, self._resume_at = 0, 0  # batches served this epoch; batches to skip on resume

    @property
    def epoch(self) -> int:
        return self.sampler.epoch

    def set_epoch(self, epoch: int) -> None:
        """The sampler's `set_epoch` (what Lightning calls), for callers that hold the loader."""
        self.sampler.set_epoch(epoch)

    def state_dict(self) -> dict[str, int]:
        """Where this epoch's iteration stands (Lightning saves it in every checkpoint)."""
        return {"epoch": self.epoch, "batches_served": self._served}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume mid-epoch: the next iteration skips the batches the checkpointed run had served."""
        self.sampler.set_epoch(state["epoch"])
        self._resume_at = state["batches_served"]

    def __len__(self) -> int:
        rows = len(self.sampler)
        return rows // self.batch_size if self.drop_last else -(-rows // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        start, self._resume_at, self._served = self._resume_at, 0, 0
        in_order = not self.sampler.shuffle and self.sampler.num_replicas == 1  # rows 0..N-1: plain slices
        idx = None if in_order else torch.as_tensor(list(self.sampler), device=self.x.device)
        g = None
        if self.binarize:
            seed = self.sampler.seed + BINARIZE_STRIDE * (self.epoch + 1)
            g = torch.Generator(device=self.x.device).manual_seed(seed)
        for b in range(len(self)):
            s = slice(b * self.batch_size, (b + 1) * self.batch_size)
            x, y = (self.x[s], self.y[s]) if idx is None else (self.x[idx[s]], self.y[idx[s]])
            if self.binarize:  # drawn for skipped batches too: the same stream as an unbroken epoch
                x = binarize(x, g)
            self._served = b + 1
            if b >= start:
                yield x, y
