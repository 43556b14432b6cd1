"""The IWAE's defining property: its k-sample bound sits above the ELBO on the same weights and
tightens as k grows (Burda et al. 2016, Theorem 1), and training on it works through the CLI."""

from __future__ import annotations

import torch

from lightning_ae.models import ImportanceWeightedAutoencoder


def mean_bound(model: ImportanceWeightedAutoencoder, x: torch.Tensor, k: int, repeats: int) -> float:
    with torch.no_grad():
        return float(torch.stack([model.bound(x, x, k)[0].mean() for _ in range(repeats)]).mean())


def test_bound_is_above_the_elbo_and_tightens_with_k(mnist):
    torch.manual_seed(0)
    x = torch.bernoulli(mnist.split("test")[0][:64], generator=torch.Generator().manual_seed(0))
    model = ImportanceWeightedAutoencoder(hidden_dims=[64], latent_dim=8, activation="tanh").eval()
    b1, b5, b50, b500 = (mean_bound(model, x, k, repeats) for k, repeats in ((1, 400), (5, 80), (50, 8), (500, 2)))
    with torch.no_grad():  # k = 1: the ELBO, whose closed-form-KL estimate the VAE logs
        elbo = float(torch.stack([model.objective(x, x)[2]["elbo"] for _ in range(400)]).mean())
    assert abs(b1 - elbo) < 2.0, (b1, elbo)  # the same quantity, two estimators
    assert b1 + 5 < b5 < b50 < b500, (b1, b5, b50, b500)  # in nats per image; untrained: wide gaps
    nll = float(model.importance_sampled_nll(x, 2000).mean())
    assert b500 <= -nll + 0.5  # L_k <= L_2000 (the NLL estimate) up to its noise


def test_training_on_the_bound_raises_it(mnist):
    torch.manual_seed(0)
    x = torch.bernoulli(mnist.split("train")[0][:256], generator=torch.Generator().manual_seed(1))
    model = ImportanceWeightedAutoencoder(hidden_dims=[128], latent_dim=10, k=5)
    opt = model.configure_optimizers()
    before = mean_bound(model.eval(), x, 5, 4)
    model.train()
    for _ in range(60):  # ~500 nats per image better than untrained after these steps
        loss, _, terms = model.objective(x, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert terms["iwae_bound"] >= terms["elbo"]  # log-mean-exp >= mean of the same log weights
    assert mean_bound(model.eval(), x, 5, 4) > before + 50  # nats per image
