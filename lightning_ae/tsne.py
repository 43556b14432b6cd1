"""Exact t-SNE in torch: a 2-D map of a few thousand codes, for pictures only.

van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 9 (2008) 2579-2605: Gaussian
conditional affinities p_{j|i} whose bandwidths are set by binary search so that every row has the
given perplexity 2^H(P_i), symmetrised p_ij = (p_{j|i} + p_{i|j}) / 2N; a Student-t (one degree of
freedom) kernel q_ij in the map; gradient descent on KL(P || Q) with the paper's momentum (0.5, then
0.8 after 250 iterations), early exaggeration (P x 12 for the first 250 iterations, the value of the
authors' later implementations; the paper uses 4) and per-coordinate adaptive gains (Jacobs 1988).
O(N^2) memory and time: meant for at most a few thousand points.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def squared_distances(x: Tensor) -> Tensor:
    """Pairwise squared Euclidean distances (N, D) -> (N, N), exact zeros on the diagonal."""
    sq = x.pow(2).sum(1)
    d = (sq[:, None] + sq[None, :] - 2 * x @ x.T).clamp_min(0)
    return d.fill_diagonal_(0)


def conditional_affinities(d2: Tensor, perplexity: float = 30.0, tol: float = 1e-5, steps: int = 100) -> Tensor:
    """p_{j|i} (N, N), rows summing to 1, each with entropy log2(perplexity) bits (binary search on the
    precision beta_i = 1 / 2 sigma_i^2, all rows at once). `d2`: squared distances (N, N)."""
    n = d2.shape[0]
    if not 1 <= perplexity < n:
        raise ValueError(f"perplexity must be in [1, {n}) for {n} points, got {perplexity}.")
    d2 = d2.double()
    target = math.log(perplexity)  # entropy in nats
    beta = torch.ones(n, dtype=torch.float64)
    lo = torch.full_like(beta, 0.0)
    hi = torch.full_like(beta, math.inf)
    off = ~torch.eye(n, dtype=torch.bool)
    for _ in range(steps):
        # distances shifted per row by their smallest off-diagonal value: exp never underflows to all zeros
        shifted = d2 - torch.where(off, d2, math.inf).amin(1, keepdim=True)
        w = torch.exp(-shifted * beta[:, None]) * off  # (N, N)
        p = w / w.sum(1, keepdim=True)
        entropy = -(p * torch.log(p.clamp_min(1e-300))).sum(1)  # nats
        too_flat = entropy > target  # entropy too high: narrow the Gaussian (raise beta)
        lo = torch.where(too_flat, beta, lo)
        hi = torch.where(too_flat, hi, beta)
        beta = torch.where(torch.isinf(hi), beta * 2, (lo + hi) / 2)
        if (entropy - target).abs().max() < tol:
            break
    return p


def joint_affinities(x: Tensor, perplexity: float = 30.0) -> Tensor:
    """Symmetric p_ij = (p_{j|i} + p_{i|j}) / 2N (N, N), summing to 1, for points `x` (N, D)."""
    p = conditional_affinities(squared_distances(x.double()), perplexity)
    return (p + p.T) / (2 * len(x))


def student_kernel(y: Tensor) -> Tensor:
    """(1 + |y_i - y_j|^2)^-1 (N, N), zero on the diagonal: the map's unnormalised affinities."""
    kernel = 1 / (1 + squared_distances(y))
    return kernel.fill_diagonal_(0)


def kl_divergence(p: Tensor, y: Tensor) -> Tensor:
    """KL(P || Q) of the map `y` (N, 2), q_ij = kernel_ij / sum of the kernel (the paper's eq. 4): the cost t-SNE minimises."""
    q = student_kernel(y)
    q = q / q.sum()
    return (p * (torch.log(p.clamp_min(1e-12)) - torch.log(q.clamp_min(1e-12)))).sum()


def gradient(p: Tensor, y: Tensor) -> Tensor:
    """dKL(P || Q)/dy (N, 2) = 4 sum_j (p_ij - q_ij)(y_i - y_j) / (1 + |y_i - y_j|^2) (the paper's eq. 5)."""
    kernel = student_kernel(y)  # (N, N)
    m = (p - kernel / kernel.sum()) * kernel  # (N, N)
    return 4 * (m.sum(1, keepdim=True) * y - m @ y)


def tsne(x: Tensor, perplexity: float = 30.0, iterations: int = 1000, learning_rate: float | None = None,
         exaggeration: float = 12.0, exaggeration_iters: int = 250, seed: int = 0) -> Tensor:
    """The 2-D t-SNE map (N, 2), float32, of points `x` (N, D), deterministic for a seed (on one machine).

    learning_rate None: max(N / exaggeration, 50) (Belkina et al., Nat. Commun. 2019, for the paper's
    gradient with its factor 4); the initial map is drawn from N(0, 1e-4 I) as in the paper."""
    x = x.detach().double().cpu()
    n = len(x)  # affinities in float64, the descent in float32 (3x faster; a picture needs no more)
    lr = learning_rate if learning_rate is not None else max(n / exaggeration, 50.0)
    p = joint_affinities(x, perplexity).clamp_min(1e-12).float()
    g = torch.Generator().manual_seed(seed)
    y = torch.randn(n, 2, generator=g) * 1e-2
    velocity, gains = torch.zeros_like(y), torch.ones_like(y)
    exaggerated = p * exaggeration
    for it in range(iterations):
        grad = gradient(exaggerated if it < exaggeration_iters else p, y)
        momentum = 0.5 if it < 250 else 0.8
        same_sign = (grad > 0) == (velocity > 0)
        gains = torch.where(same_sign, gains * 0.8, gains + 0.2).clamp_min(0.01)
        velocity = momentum * velocity - lr * gains * grad
        y = y + velocity
        y = y - y.mean(0)
    return y


def knn_accuracy(y: Tensor, labels: Tensor, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy of `labels` (N,) in the map `y` (N, d): how well the map keeps classes apart."""
    d = squared_distances(y.double())
    d.fill_diagonal_(math.inf)
    nearest = d.topk(k, largest=False).indices  # (N, k)
    votes = torch.nn.functional.one_hot(labels[nearest], int(labels.max()) + 1).sum(1)  # (N, classes)
    return float((votes.argmax(1) == labels).double().mean())
