"""Exact t-SNE (lightning_ae.tsne): calibrated affinities, the paper's gradient, clusters kept apart."""

from __future__ import annotations

import math

import pytest
import torch

from lightning_ae import tsne


def clusters(k: int = 5, per: int = 40, dim: int = 10, spread: float = 10.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, dim, generator=g) * spread
    x = torch.cat([c + torch.randn(per, dim, generator=g) for c in centres])  # (k * per, dim)
    return x, torch.arange(k).repeat_interleave(per)


@pytest.mark.parametrize("perplexity", [5.0, 30.0])
def test_every_row_has_the_asked_perplexity(perplexity):
    x, _ = clusters()
    p = tsne.conditional_affinities(tsne.squared_distances(x.double()), perplexity)
    assert torch.allclose(p.sum(1), torch.ones(len(x), dtype=torch.float64))
    assert float(p.diagonal().abs().max()) == 0.0
    entropy_bits = -(p * torch.log2(p.clamp_min(1e-300))).sum(1)
    assert torch.allclose(2 ** entropy_bits, torch.full_like(entropy_bits, perplexity), rtol=1e-3)
    # a nearer neighbour never gets less affinity than a farther one (a Gaussian of the distance)
    d = tsne.squared_distances(x.double())
    i = 7
    order = d[i].argsort()[1:]  # skip itself
    assert bool((p[i, order][:-1] >= p[i, order][1:] - 1e-15).all())


def test_joint_affinities_are_symmetric_and_sum_to_one():
    x, _ = clusters()
    p = tsne.joint_affinities(x, 30.0)
    assert torch.allclose(p, p.T) and math.isclose(float(p.sum()), 1.0, rel_tol=1e-9)
    assert float(p.min()) >= 0 and float(p.sum(1).min()) > 1 / (2 * len(x)) - 1e-12  # each row sums to >= 1/2N


def test_the_gradient_is_the_papers_equation_5_of_the_kl():
    x, _ = clusters(per=10)
    p = tsne.joint_affinities(x, 5.0)
    y = torch.randn(len(x), 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    tsne.kl_divergence(p, y).backward()
    assert torch.allclose(tsne.gradient(p, y.detach()), y.grad, rtol=1e-6, atol=1e-9)


def test_well_separated_clusters_stay_separated_and_the_cost_falls():
    x, labels = clusters()
    y = tsne.tsne(x, perplexity=30.0, iterations=400, seed=0)
    assert y.shape == (200, 2) and bool(torch.isfinite(y).all())
    assert tsne.knn_accuracy(y, labels) >= 0.99
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]
    assert tsne.knn_accuracy(y, shuffled) < 0.5  # the score measures the map, not the labels' frequencies
    p = tsne.joint_affinities(x, 30.0)
    start = torch.randn(200, 2, generator=torch.Generator().manual_seed(0)) * 1e-2
    assert float(tsne.kl_divergence(p, y.double())) < 0.5 * float(tsne.kl_divergence(p, start.double()))
    # the map's clusters: each centroid farther from the others than the clusters' own spread
    centroids = torch.stack([y[labels == c].mean(0) for c in range(5)])
    spread = max(float((y[labels == c] - centroids[c]).norm(dim=1).max()) for c in range(5))
    gaps = torch.cdist(centroids, centroids) + torch.eye(5) * 1e9
    assert float(gaps.min()) > spread
    assert torch.equal(y, tsne.tsne(x, perplexity=30.0, iterations=400, seed=0))  # deterministic


def test_a_perplexity_the_points_cannot_have_is_refused():
    x, _ = clusters(per=4)  # 20 points
    with pytest.raises(ValueError, match="perplexity"):
        tsne.joint_affinities(x, 30.0)
