"""Principal component analysis as a model of the pipeline: the baseline every autoencoder must beat.

Pearson 1901; Hotelling 1933. A linear autoencoder trained with MSE converges to the same subspace
(Baldi & Hornik 1989). Fitting is closed form: one pass over the training loader accumulates the
mean and the scatter matrix in float64 (summed across DDP ranks), then `torch.linalg.svd` of the
covariance gives the components. `fit`, `test` and `predict` run through the CLI like any model.
"""

from __future__ import annotations

import torch
from jsonargparse.typing import PositiveInt
from torch import Tensor

from lightning_ae.errors import ConfigError
from lightning_ae.models.base import AutoencoderModule


class PCA(AutoencoderModule):
    """Closed-form PCA with `n_components` components, with the autoencoder interface.

    Args:
        n_components: number of principal components (the code size).
    """

    def __init__(self, n_components: PositiveInt = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        if n_components > self.input_dim:
            raise ConfigError(f"n_components must be between 1 and {self.input_dim}, got {n_components}.")
        self.latent_dim = n_components
        self.automatic_optimization = False  # nothing to optimise: fitting is closed form
        d = self.input_dim
        self.register_buffer("mean", torch.zeros(d))
        # (k, D), orthonormal rows: the weights of the linear autoencoder PCA solves for. A parameter (set in
        # closed form, never by an optimizer) because DDP refuses to wrap a module without trainable ones.
        self.components = torch.nn.Parameter(torch.zeros(n_components, d))
        self.register_buffer("explained_variance", torch.zeros(n_components))
        self._reset_sums()

    @classmethod
    def from_data(cls, x: Tensor, n_components: int) -> "PCA":
        """A PCA fitted on the rows of `x` (N, D), outside any Trainer."""
        pca = cls(n_components=n_components, input_dim=x.shape[1])
        pca.to(x.device)
        pca.accumulate(x)
        pca.solve(distributed=False)  # `x` is the whole data: no sums to gather (rank 0 alone may call this)
        return pca

    def _reset_sums(self) -> None:
        d = self.input_dim
        self._n, self._solved = 0, False
        self._sum = torch.zeros(d, dtype=torch.float64)
        self._scatter = torch.zeros(d, d, dtype=torch.float64)

    def accumulate(self, x: Tensor) -> None:
        x = x.double()
        if self._sum.device != x.device:
            self._sum, self._scatter = self._sum.to(x.device), self._scatter.to(x.device)
        self._n += len(x)
        self._sum += x.sum(0)
        self._scatter += x.T @ x  # (D, N) @ (N, D) -> (D, D)

    def solve(self, distributed: bool = True) -> None:
        """Components from the accumulated sums; `distributed`: first sum them over the DDP ranks."""
        n, total, scatter = self._n, self._sum, self._scatter
        if distributed and torch.distributed.is_available() and torch.distributed.is_initialized():
            packed = torch.cat([total.new_tensor([n]), total, scatter.flatten()])
            torch.distributed.all_reduce(packed)
            n, total, scatter = int(packed[0].item()), packed[1 : 1 + len(total)], packed[1 + len(total) :].view_as(scatter)
        if n < 2:
            raise ConfigError("PCA needs at least two training images.")
        mean = total / n
        cov = (scatter - n * torch.outer(mean, mean)) / (n - 1)
        # symmetric: its eigendecomposition, about twice as fast as an SVD (which gives the same), largest first
        s, v = torch.linalg.eigh(cov)
        s, vh = s.flip(0).clamp_min(0), v.flip(1).T  # (D,), (D, D) rows: components; rounding can make s < 0
        vh = vh * vh.gather(1, vh.abs().argmax(1, keepdim=True)).sign()  # a fixed sign: largest entry positive
        k = self.latent_dim
        with torch.no_grad():
            self.mean.copy_(mean.float())
            self.components.copy_(vh[:k].float())
            self.explained_variance.copy_(s[:k].float())
        self.train_mse = float((s[k:].sum() * (n - 1) / n / len(mean)).item())  # per-pixel MSE on the fit data

    # -- the autoencoder interface ---------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        return (x - self.mean) @ self.components.T  # (B, D) -> (B, k)

    def decode(self, z: Tensor) -> Tensor:
        return z @ self.components + self.mean  # (B, k) -> (B, D)

    # -- fitting through the Trainer -------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        self._reset_sums()

    def training_step(self, batch, batch_idx):
        self.accumulate(batch[0])

    def _solve_pending(self) -> None:
        if self._n > 0 and not self._solved:
            self.solve()
            self._solved = True
            # training reconstruction error in closed form: the variance left in the dropped components,
            # both PCA's training loss (`train/loss`, every model's name for it) and its per-pixel MSE
            self.log("train/loss", self.train_mse, sync_dist=False)
            self.log("train/mse", self.train_mse, sync_dist=False)

    def on_validation_epoch_start(self) -> None:
        self._solve_pending()  # Lightning validates before `on_train_epoch_end`

    def on_train_epoch_end(self) -> None:
        self._solve_pending()

    def configure_optimizers(self):
        return None
