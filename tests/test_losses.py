"""Pure loss functions against closed forms and their defining properties."""

from __future__ import annotations

import math

import torch

from lightning_ae import losses


def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zero = torch.zeros(4, 3)
    assert torch.allclose(losses.gaussian_kl(zero, zero), torch.zeros(4))
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(100, 5, generator=g) * 2, torch.randn(100, 5, generator=g) * 2
    kl = losses.gaussian_kl(mu, logvar)
    assert kl.shape == (100,) and (kl > 0).all()
    # one dimension, closed form: KL(N(1, 4) || N(0, 1)) = (mu^2 + s^2 - 1) / 2 - log s = 2 - log 2
    assert losses.gaussian_kl(torch.tensor([[1.0]]), torch.tensor([[math.log(4.0)]])).item() == \
        torch.tensor(2 - math.log(2)).item()


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(losses.gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1), atol=1e-5)


def test_bernoulli_nll_sums_pixels_in_nats():
    x = torch.bernoulli(torch.full((3, 784), 0.5))
    assert torch.allclose(losses.bernoulli_nll(torch.zeros(3, 784), x), torch.full((3,), 784 * math.log(2)))
    assert losses.bernoulli_nll(torch.zeros(3, 784, dtype=torch.bfloat16), x).dtype == torch.float32


def test_gaussian_log_prob_matches_torch_distributions():
    g = torch.Generator().manual_seed(2)
    z, mu, logvar = (torch.randn(5, 3, generator=g) for _ in range(3))
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    assert torch.allclose(losses.gaussian_log_prob(z, mu, logvar), q.log_prob(z).sum(-1), atol=1e-5)
    prior = torch.distributions.Normal(0.0, 1.0)
    assert torch.allclose(losses.gaussian_log_prob(z), prior.log_prob(z).sum(-1), atol=1e-5)
