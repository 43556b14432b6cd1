"""Pure loss functions: tensors in, scalar tensors out. No module state, tested on their own.

Every reduction is stated: `per-pixel` means a mean over batch and pixels; `per-image` a sum over
pixels averaged over the batch.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
from torch import Tensor
from torch.nn import functional as F

ReconstructionLoss = Literal["mse", "bce"]
RECONSTRUCTION = get_args(ReconstructionLoss)


def reconstruction(x_hat: Tensor, x: Tensor, kind: ReconstructionLoss = "mse") -> Tensor:
    """Per-pixel reconstruction loss of probabilities `x_hat` against targets `x` in [0, 1]."""
    if kind == "mse":
        return F.mse_loss(x_hat, x)
    if kind == "bce":
        return F.binary_cross_entropy(x_hat.float().clamp(1e-7, 1 - 1e-7), x.float())
    raise ValueError(f"loss={kind!r} is not known; choose one of: {', '.join(RECONSTRUCTION)}.")


def bernoulli_nll(logits: Tensor, x: Tensor) -> Tensor:
    """-log p(x | logits) per image, in nats: BCE-with-logits summed over pixels, (B, D) -> (B,)."""
    return F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="none").sum(-1)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per example, summed over latent dims, (B, L) -> (B,)."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def gaussian_log_prob(z: Tensor, mu: Tensor | None = None, logvar: Tensor | None = None) -> Tensor:
    """log N(z; mu, exp(logvar)) summed over the last dim; standard normal when mu/logvar are None."""
    z = z.float()
    if mu is None:
        return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


def kl_sparsity(rho_hat: Tensor, rho: float, eps: float = 1e-6) -> Tensor:
    """Sum over units of KL(Bernoulli(rho) || Bernoulli(rho_hat)), rho_hat: mean activation per unit (H,)."""
    rho_hat = rho_hat.float().clamp(eps, 1 - eps)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def l1_activity(h: Tensor) -> Tensor:
    """Mean over the batch of the L1 norm of the code: (B, H) -> scalar."""
    return h.float().abs().sum(-1).mean()
