"""Linear autoencoder: no activations, MSE loss, so it learns the principal subspace.

Baldi & Hornik, "Neural networks and principal component analysis: learning from examples without
local minima", Neural Networks 1989: every minimum of a linear autoencoder's squared error spans
the top-k principal subspace (the code axes need not be the principal axes themselves).
Géron's notebook shows it on a 3-D toy set (`lightning_ae.toy.curved_sheet`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jsonargparse.typing import PositiveInt
from torch import Tensor

from lightning_ae.models.autoencoder import Autoencoder
from lightning_ae.networks import Init, linear_layers


def principal_angles(a: Tensor, b: Tensor) -> Tensor:
    """Principal angles (radians, ascending) between the column spaces of `a` (D, k) and `b` (D, m)."""
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)  # (k, D) @ (D, m) -> singular values
    return torch.arccos(cosines)  # cosines descend, so the angles ascend


class LinearAutoencoder(Autoencoder):
    """input_dim -> hidden_dims -> latent_dim -> mirror, all layers linear, per-pixel MSE.

    Args:
        latent_dim: size of the code (the number of principal components it matches).
        hidden_dims: optional linear hidden layers (a deep linear net spans the same subspace).
        init: xavier (default), he or default.
    """

    def __init__(self, latent_dim: PositiveInt = 2, hidden_dims: Sequence[PositiveInt] = (), init: Init = "xavier", **kwargs) -> None:
        super().__init__(hidden_dims=hidden_dims, latent_dim=latent_dim, activation="linear",
                         code_activation="linear", output_activation="linear", loss="mse", init=init, **kwargs)

    def decoder_matrix(self) -> Tensor:
        """The decoder as one matrix (D, latent_dim): its columns span the subspace the model reconstructs in."""
        if self.tie_weights:  # decoder layer k is encoder layer L-k transposed
            matrices = [m.weight.T for m in linear_layers(self.encoder)]
        else:
            matrices = [m.weight for m in reversed(linear_layers(self.decoder))]  # the output layer first
        eye = torch.eye(self.latent_dim, device=matrices[0].device)
        return torch.linalg.multi_dot([*matrices, eye])  # (D, h) @ ... @ (h', k) -> (D, k)
