"""The linear autoencoder learns PCA's subspace and error: on Géron's 3-D toy sheet and on real digits."""

from __future__ import annotations

import math

import pytest
import torch

from lightning_ae.models import PCA, LinearAutoencoder
from lightning_ae.models.linear import principal_angles
from lightning_ae.networks import ACTIVATIONS
from lightning_ae.toy import curved_sheet


def fit_lbfgs(model: LinearAutoencoder, x: torch.Tensor, iterations: int) -> float:
    """Full-batch L-BFGS on the model's own objective; returns the final per-pixel MSE on `x`."""
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=iterations, history_size=20,
                            tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = model.objective(x, x)[0]
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return torch.mean((model(x) - x) ** 2).item()


def pca_error(x: torch.Tensor, k: int) -> tuple[PCA, float]:
    pca = PCA.from_data(x, k)
    with torch.no_grad():
        return pca, torch.mean((pca(x) - x) ** 2).item()


def test_toy_sheet_is_seeded_and_standardised():
    x = curved_sheet()
    assert x.shape == (100, 3) and x.dtype == torch.float32
    assert torch.allclose(x.mean(0), torch.zeros(3), atol=1e-6)
    assert torch.allclose(x.var(0, unbiased=False), torch.ones(3), atol=1e-5)
    assert torch.equal(x, curved_sheet()) and not torch.equal(x, curved_sheet(seed=5))
    with pytest.raises(ValueError, match="n must be at least 2"):
        curved_sheet(n=1)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        curved_sheet(noise=-0.1)


def test_principal_angles_of_known_planes():
    e = torch.eye(3)
    assert torch.allclose(principal_angles(e[:, :2], e[:, [1, 0]]), torch.zeros(2, dtype=torch.float64), atol=1e-7)
    tilted = torch.stack([e[:, 0], (e[:, 1] + e[:, 2]) / math.sqrt(2)], 1)  # the xy-plane turned 45 degrees about x
    assert torch.allclose(principal_angles(e[:, :2], tilted), torch.tensor([0.0, math.pi / 4], dtype=torch.float64),
                          atol=1e-6)


def test_every_layer_is_linear_and_the_decoder_matrix_is_the_map():
    for kwargs in ({}, {"hidden_dims": [8]}, {"hidden_dims": [8], "tie_weights": True}):
        torch.manual_seed(0)
        ae = LinearAutoencoder(latent_dim=2, input_dim=5, **kwargs)
        z = torch.randn(4, 2)
        # the decoder is affine: decode(z) - decode(0) = z @ M^T
        with torch.no_grad():
            assert torch.allclose(ae.decode(z) - ae.decode(torch.zeros(1, 2)), z @ ae.decoder_matrix().T, atol=1e-5)
        nonlinear = [m for m in ae.modules() if isinstance(m, tuple(ACTIVATIONS[a] for a in ("elu", "relu", "sigmoid", "tanh")))]
        assert not nonlinear


@pytest.mark.parametrize("kwargs", [{}, {"hidden_dims": [3]}, {"tie_weights": True}],
                         ids=["shallow", "deep", "tied"])
def test_reaches_pca_on_the_toy_sheet(kwargs):
    x = curved_sheet()  # (100, 3), standardised
    pca, target = pca_error(x, 2)
    torch.manual_seed(0)
    ae = LinearAutoencoder(latent_dim=2, input_dim=3, **kwargs)
    error = fit_lbfgs(ae, x, iterations=500)
    assert error >= target - 1e-6  # PCA is optimal among rank-2 affine maps
    assert (error - target) / target < 1e-4, (error, target)
    angles = principal_angles(ae.decoder_matrix().detach(), pca.components.T)
    assert angles.max() < 1e-3, angles


def test_reaches_pca_on_real_digits(mnist):
    x = mnist.split("train")[0][:2000]
    pca, target = pca_error(x, 2)
    torch.manual_seed(0)
    ae = LinearAutoencoder(latent_dim=2)
    with torch.no_grad():
        start = torch.mean((ae(x) - x) ** 2).item()
    error = fit_lbfgs(ae, x, iterations=150)
    assert start > 2 * target  # it did have to learn
    assert error >= target - 1e-6 and (error - target) / target < 1e-3, (error, target)
    angles = principal_angles(ae.decoder_matrix().detach(), pca.components.T)
    assert angles.max() < 0.02, angles
