"""Penalties on weight matrices (never biases), added to a model's loss: pure functions, tested on their own.

- `l2(weights)`: sum of w^2 over every entry, Keras's `regularizers.l2(c)` convention (the loss gets
  c * sum(w^2), no 1/2). Unlike an optimizer's `weight_decay` (Adam adds c * w to the gradient of
  every parameter, biases included, and scales it by Adam's normaliser) it is part of the objective,
  touches only the matrices it is given and works with any injected optimizer.
- `negative_fraction`, `negative_share`: the fraction of negative entries, and the negative entries'
  share of sum(w^2) (a soft constraint leaves many entries just below 0: the share says how little).
- `negative_l2(weights)`: (1/2) sum of min(w, 0)^2, the nonnegativity penalty of Hosseini-Asl, Zurada &
  Nasraoui, "Deep learning of part-based representation of data using sparse autoencoders with
  nonnegativity constraints", IEEE TNNLS 27(12), 2016, eq. (5) with f of eq. (6): alpha/2 times the sum
  over both layers of f(w) = w^2 for w < 0, 0 otherwise. Its gradient is min(w, 0): negative weights
  are pulled to 0, positive ones are left alone (a soft constraint; some weights stay slightly negative).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor


def l2(weights: Iterable[Tensor]) -> Tensor:
    """sum over all matrices of sum(w^2), in float32: a scalar."""
    return torch.stack([w.float().pow(2).sum() for w in weights]).sum()


def negative_l2(weights: Iterable[Tensor]) -> Tensor:
    """(1/2) sum over all matrices of sum(min(w, 0)^2), in float32: a scalar (0 when no weight is negative)."""
    return 0.5 * torch.stack([w.float().clamp(max=0.0).pow(2).sum() for w in weights]).sum()


def negative_fraction(weights: Iterable[Tensor]) -> Tensor:
    """Fraction of the entries of all matrices that are below 0."""
    weights = [w.detach() for w in weights]
    return sum((w < 0).sum() for w in weights) / sum(w.numel() for w in weights)


def negative_share(weights: Iterable[Tensor]) -> Tensor:
    """sum(min(w, 0)^2) / sum(w^2) over all matrices: the negative weights' share of the squared weights,
    scale-free (about half at a symmetric init; near 0 once a soft penalty leaves only tiny negatives)."""
    weights = [w.detach() for w in weights]
    return 2 * negative_l2(weights) / l2(weights)
