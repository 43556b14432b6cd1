"""The frozen lower layers' outputs for the whole training split, computed once per greedy stage.

While stage k of greedy layer-wise pretraining trains, the layers below it are frozen, so their
output h_k for a training image never changes: `StageInputCache` computes it once for every image
of the training split and each batch reads its rows. A batch's rows are found by an exact,
order-independent fingerprint of its pixels, so batches and their order stay those of the uncached
run (the result is the same, with fewer operations).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from lightning_ae.errors import ConfigError


class StageInputCache:
    """h_k = lower(x, k) for every row of a training split, looked up by each row's exact pixels."""

    def __init__(self, chunk: int = 10_000) -> None:
        self.chunk = chunk
        self.stage: int | None = None  # the stage whose inputs are held (None: empty)
        self._values: Tensor | None = None  # (N, d_k)
        self._keys: Tensor | None = None  # sorted fingerprints of the training rows
        self._rows: Tensor | None = None  # training row of each sorted fingerprint
        self._weights: Tensor | None = None  # fingerprint weights

    def _fingerprint(self, x: Tensor) -> Tensor:
        """An exact, order-independent hash of each row's float bits: (B, D) -> (B,) int64."""
        bits = x.float().contiguous().view(torch.int32).long()
        return (bits * self._weights).sum(-1)  # integer arithmetic: wraps, never rounds

    @torch.no_grad()
    def fill(self, x_train: Tensor, lower: Callable[[Tensor, int], Tensor], k: int) -> None:
        """Compute `lower(x, k)` for every row of `x_train` (N, D) once."""
        g = torch.Generator().manual_seed(0)
        self._weights = torch.randint(-2**62, 2**62, (x_train.shape[1],), generator=g).to(x_train.device)
        keys = torch.cat([self._fingerprint(c) for c in x_train.split(self.chunk)])
        self._keys, self._rows = keys.sort()
        self._values = torch.cat([lower(c, k) for c in x_train.split(self.chunk)])  # (N, d_k)
        self.stage = k

    def rows(self, x: Tensor) -> Tensor:
        """Row of the training split holding each image of the batch `x`: (B, D) -> (B,)."""
        keys = self._fingerprint(x)
        pos = torch.searchsorted(self._keys, keys).clamp_(max=len(self._keys) - 1)
        if not torch.equal(self._keys[pos], keys):  # a 64-bit hash of the exact bits: equal keys, equal images
            raise ConfigError(
                "cache_inputs: a training batch is not made of rows of the training split (dynamic "
                "binarisation or augmentation changes the images every epoch); set cache_inputs: false."
            )
        return self._rows[pos]

    def __call__(self, x: Tensor) -> Tensor:
        """The cached h_k of the batch `x`: (B, D) -> (B, d_k)."""
        return self._values[self.rows(x)]

    def clear(self) -> None:
        self.stage = self._values = self._keys = self._rows = self._weights = None
