"""The sparse autoencoder: hyperparameter checks, the penalties, float32 KL, non-negative weights and a
short real training that pulls the mean code activation to rho."""

from __future__ import annotations

from functools import partial

import math

import pytest
from jsonargparse import ArgumentError
import torch
from matplotlib.figure import Figure
from torch.utils.data import DataLoader, TensorDataset

from lightning_ae import losses
from lightning_ae.models import SparseAutoencoder
from typed import build


def tiny(**kwargs) -> SparseAutoencoder:
    torch.manual_seed(0)
    return SparseAutoencoder(latent_dim=kwargs.pop("latent_dim", 20), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"sparsity_target": 1.5}, "sparsity_target"),
    ({"sparsity_target": 0.0}, "sparsity_target"),
    ({"sparsity_weight": -0.1}, "sparsity_weight"),
    ({"penalty": "l2"}, "penalty"),
    ({"code_activation": "relu"}, "penalty='kl' needs code_activation='sigmoid'"),
    ({"penalty": "l1", "code_activation": "tanh"}, "code_activation"),
])
def test_bad_hyperparameters_name_the_problem(kwargs, message):
    with pytest.raises((ArgumentError, ValueError), match=message):
        build(SparseAutoencoder, **kwargs)


def test_kl_penalty_is_zero_exactly_at_rho_and_grows_away_from_it():
    rho = 0.1
    at_target = losses.kl_sparsity(torch.full((50,), rho), rho)
    assert abs(at_target.item()) < 1e-6
    assert losses.kl_sparsity(torch.full((50,), 0.3), rho) > losses.kl_sparsity(torch.full((50,), 0.2), rho) > 0
    # through the module: codes whose batch mean is rho for every unit give a zero penalty
    ae = tiny(sparsity_target=rho)
    h = torch.zeros(10, 20)
    h[0] = 1.0  # one image in ten fires: mean activation 0.1 per unit
    penalty, rho_hat = ae.sparsity(h)
    assert torch.allclose(rho_hat, torch.full((20,), rho)) and abs(penalty.item()) < 1e-5
    expected = 20 * (rho * math.log(rho / 0.5) + (1 - rho) * math.log((1 - rho) / 0.5))
    assert math.isclose(ae.sparsity(torch.full((4, 20), 0.5))[0].item(), expected, rel_tol=1e-5)


def test_objective_adds_beta_times_the_penalty_and_reports_its_terms():
    x = torch.rand(8, 784)
    for penalty in ("kl", "l1"):
        ae = tiny(penalty=penalty, sparsity_weight=0.5)
        loss, x_hat, terms = ae.objective(x, x)
        assert set(terms) == {"rec", "sparsity", "mean_activation"}
        assert torch.allclose(loss, terms["rec"] + 0.5 * terms["sparsity"])
        h = ae.encode(x)
        assert torch.allclose(terms["mean_activation"], h.mean())
        if penalty == "l1":
            assert torch.allclose(terms["sparsity"], h.abs().sum(-1).mean())
        assert x_hat.shape == (8, 784) and ((h > 0) & (h < 1)).all()  # sigmoid code
    off = tiny(sparsity_weight=0.0)
    loss, _, terms = off.objective(x, x)
    assert torch.allclose(loss, terms["rec"])


def test_kl_is_float32_under_bf16_autocast():
    ae = tiny()
    x = torch.rand(16, 784)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = ae.encode(x)
        penalty, rho_hat = ae.sparsity(h)
        loss, _, terms = ae.objective(x, x)
    assert h.dtype == torch.bfloat16
    assert penalty.dtype == rho_hat.dtype == terms["sparsity"].dtype == torch.float32
    assert torch.isfinite(loss)


def test_nonneg_weights_are_clamped_after_each_optimizer_step():
    import lightning as L

    x = torch.rand(64, 784)
    loader = DataLoader(TensorDataset(x, torch.zeros(64)), batch_size=16)
    for nonneg in (True, False):
        ae = tiny(nonneg_weights=nonneg, optimizer=partial(torch.optim.Adam, lr=0.05))
        trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, accelerator="cpu")
        trainer.fit(ae, loader)
        smallest = min(m.weight.min().item() for m in [ae.encoder[0], ae.decoder[0]])
        assert (smallest >= 0.0) is nonneg, smallest
        assert ae.encoder[0].bias.min() < 0 or not nonneg or ae.decoder[0].bias.min() < 0  # biases stay free


def test_histogram_of_unit_activations_uses_the_scored_images():
    ae = tiny(latent_dim=30)
    x = torch.rand(12, 784)
    ae.eval()
    ae.on_validation_epoch_start()
    with torch.no_grad():
        ae.objective(x, x)  # a validation batch: accumulates the per-unit means
        expected = ae.encode(x).mean(0)
    assert torch.allclose(ae.unit_means(x[:2]), expected, atol=1e-6)
    pictures = ae.figures(x[:2], torch.zeros(2))  # one panel per picture
    assert all(isinstance(fig, Figure) and len(fig.axes) == 1 for fig in pictures.values())
    counts = sum(p.get_height() for p in pictures["sparse/unit_means"].axes[0].patches)
    assert counts == 30  # one entry per code unit
    assert sum(p.get_height() for p in pictures["sparse/activations"].axes[0].patches) == 2 * 30  # every activation
    ae.on_test_epoch_start()
    assert torch.allclose(ae.unit_means(x[:2]), ae.encode(x[:2]).mean(0))  # nothing scored yet: falls back to x


def test_short_training_pulls_mean_activation_to_rho(mnist):
    torch.manual_seed(0)
    x = mnist.split("train")[0][:2000]
    rho = 0.05
    ae = SparseAutoencoder(latent_dim=200, sparsity_target=rho, sparsity_weight=0.2, optimizer=partial(torch.optim.Adam, lr=0.003))
    opt = ae.configure_optimizers()
    with torch.no_grad():
        start = ae.encode(x).mean().item()
    assert abs(start - rho) > 0.2  # He-initialised sigmoid units start near 0.5
    for _ in range(2):
        for i in range(0, len(x), 250):
            loss, _, terms = ae.objective(x[i:i + 250], x[i:i + 250])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        end = ae.encode(x).mean().item()
    assert abs(end - rho) < 0.02, (start, end)
