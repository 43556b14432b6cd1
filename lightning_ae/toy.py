"""The classic 3-D toy set for "a linear autoencoder performs PCA".

Géron, "Hands-On Machine Learning", ch. 15: points on a noisy curved sheet in 3-D whose third
coordinate is almost a linear function of the first two, so a 2-D code keeps nearly everything.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def curved_sheet(n: int = 100, noise: float = 0.1, seed: int = 4) -> Tensor:
    """`n` points on a noisy curved 2-D sheet in 3-D, standardised per coordinate: (n, 3) float32.

    Angles are uniform in [-0.5, 3*pi/2 - 0.5); x0, x1 trace a bent arc, x2 = 0.1*x0 + 0.3*x1 plus
    noise. Each column is centred and scaled to unit (population) variance, like StandardScaler.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2 to standardise, got {n}.")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}.")
    g = torch.Generator().manual_seed(seed)
    angles = torch.rand(n, generator=g, dtype=torch.float64) * 3 * math.pi / 2 - 0.5
    x = torch.empty(n, 3, dtype=torch.float64)
    x[:, 0] = angles.cos() + angles.sin() / 2 + noise * torch.randn(n, generator=g, dtype=torch.float64) / 2
    x[:, 1] = 0.7 * angles.sin() + noise * torch.randn(n, generator=g, dtype=torch.float64) / 2
    x[:, 2] = 0.1 * x[:, 0] + 0.3 * x[:, 1] + noise * torch.randn(n, generator=g, dtype=torch.float64)
    x = (x - x.mean(0)) / x.std(0, unbiased=False)
    return x.float()
