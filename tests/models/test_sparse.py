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

from lightning_ae import losses, weight_penalties
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
    ({"weight_l2": -0.003}, "weight_l2"),
    ({"nonneg_penalty": -1.0}, "nonneg_penalty"),
    ({"penalised_layers": "decoder"}, "penalised_layers"),
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


def train(ae, opt, x, epochs: int, batch: int) -> None:
    """`epochs` passes of plain minibatch steps on the model's objective, in order."""
    for _ in range(epochs):
        for i in range(0, len(x), batch):
            loss, _, _ = ae.objective(x[i:i + batch], x[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()


def test_short_training_pulls_mean_activation_to_rho(mnist):
    torch.manual_seed(0)
    x = mnist.split("train")[0][:2000]
    rho = 0.05
    ae = SparseAutoencoder(latent_dim=200, sparsity_target=rho, sparsity_weight=0.2, optimizer=partial(torch.optim.Adam, lr=0.003))
    opt = ae.configure_optimizers()
    with torch.no_grad():
        start = ae.encode(x).mean().item()
    assert abs(start - rho) > 0.2  # He-initialised sigmoid units start near 0.5
    train(ae, opt, x, epochs=2, batch=250)
    with torch.no_grad():
        end = ae.encode(x).mean().item()
    assert abs(end - rho) < 0.02, (start, end)


def test_weight_penalties_equal_their_closed_forms():
    a = torch.tensor([[1.0, -2.0], [0.5, -0.1]])
    b = torch.tensor([[-3.0, 0.0, 4.0]])
    assert math.isclose(weight_penalties.l2([a, b]).item(), 1 + 4 + 0.25 + 0.01 + 9 + 16, rel_tol=1e-6)
    assert math.isclose(weight_penalties.negative_l2([a, b]).item(), 0.5 * (4 + 0.01 + 9), rel_tol=1e-6)
    assert weight_penalties.negative_l2([a.abs(), b.abs()]).item() == 0.0
    assert math.isclose(weight_penalties.negative_fraction([a, b]).item(), 3 / 7, rel_tol=1e-6)
    assert math.isclose(weight_penalties.negative_share([a, b]).item(), (4 + 0.01 + 9) / 30.26, rel_tol=1e-6)


def test_weight_penalties_enter_the_loss_on_the_weight_matrices_only():
    x = torch.rand(8, 784)
    ae = tiny(weight_l2=0.003, nonneg_penalty=0.5, sparsity_weight=3.0, sparsity_target=0.05)
    assert [tuple(w.shape) for w in ae.weight_matrices()] == [(20, 784), (784, 20)]  # no biases
    enc, dec = ae.encoder[0].weight, ae.decoder[0].weight
    loss, _, terms = ae.objective(x, x)
    expected_l2 = enc.pow(2).sum() + dec.pow(2).sum()
    expected_neg = 0.5 * (enc.clamp(max=0).pow(2).sum() + dec.clamp(max=0).pow(2).sum())
    assert torch.allclose(terms["weight_l2"], expected_l2) and torch.allclose(terms["nonneg"], expected_neg)
    assert torch.allclose(loss, terms["rec"] + 3.0 * terms["sparsity"] + 0.003 * expected_l2 + 0.5 * expected_neg)
    assert "neg_weights" not in terms  # weight statistics at validation and test only
    ae.eval()
    with torch.no_grad():
        terms = ae.objective(x, x)[2]
    frac = ((enc < 0).sum() + (dec < 0).sum()) / (enc.numel() + dec.numel())
    assert torch.allclose(terms["neg_weights"], frac) and 0.4 < frac < 0.6  # He init: half negative
    assert torch.allclose(terms["neg_share"], 2 * expected_neg / expected_l2) and 0.4 < terms["neg_share"] < 0.6
    tied = tiny(weight_l2=0.003, tie_weights=True)
    assert len(tied.weight_matrices()) == 1  # the tied decoder's weights are the encoder's: counted once
    enc_only = tiny(weight_l2=0.003, nonneg_penalty=0.5, penalised_layers="encoder")
    terms = enc_only.objective(x, x)[2]
    w = enc_only.encoder[0].weight
    assert torch.allclose(terms["weight_l2"], w.pow(2).sum()) and torch.allclose(terms["nonneg"], 0.5 * w.clamp(max=0).pow(2).sum())


def test_weight_l2_adds_2_lambda_w_to_weight_gradients_and_nothing_to_bias_gradients():
    x = torch.rand(16, 784)
    grads = {}
    for lam in (0.0, 0.003):
        ae = tiny(weight_l2=lam, sparsity_target=0.05, sparsity_weight=3.0)
        ae.objective(x, x)[0].backward()
        grads[lam] = {name: p.grad.clone() for name, p in ae.named_parameters()}
        weights = {name: p.detach() for name, p in ae.named_parameters()}
    for name, g in grads[0.003].items():
        if name.endswith("bias"):
            assert torch.equal(g, grads[0.0][name]), name
        else:
            assert torch.allclose(g - grads[0.0][name], 2 * 0.003 * weights[name], atol=1e-7), name
            assert (g - grads[0.0][name]).abs().max() > 1e-5  # and the weights' do change


def test_nonneg_penalty_gradient_is_alpha_min_w_0():
    x = torch.rand(16, 784)
    grads = {}
    for alpha in (0.0, 2.0):
        ae = tiny(nonneg_penalty=alpha)
        ae.objective(x, x)[0].backward()
        grads[alpha] = {name: p.grad.clone() for name, p in ae.named_parameters()}
        weights = {name: p.detach() for name, p in ae.named_parameters()}
    for name, g in grads[2.0].items():
        extra = g - grads[0.0][name]
        expected = torch.zeros_like(extra) if name.endswith("bias") else 2.0 * weights[name].clamp(max=0)
        assert torch.allclose(extra, expected, atol=1e-6), name


def test_nonneg_penalty_drives_negative_weights_out_in_a_short_training(mnist):
    """A soft constraint: weights settle just below 0 (about -1e-3), so count those below -0.01, a fifth
    of the He init's standard deviation (0.05). Measured: 60% unconstrained, 8% with alpha = 1."""
    x = mnist.split("train")[0][:2000]
    below, mass = {}, {}
    for alpha in (0.0, 1.0):
        torch.manual_seed(0)
        ae = SparseAutoencoder(latent_dim=100, sparsity_target=0.05, sparsity_weight=0.1, nonneg_penalty=alpha,
                               output_activation="sigmoid", optimizer=partial(torch.optim.Adam, lr=0.003))
        train(ae, ae.configure_optimizers(), x, epochs=3, batch=100)
        w = ae.encoder[0].weight.detach()
        below[alpha] = (w < -0.01).float().mean().item()
        mass[alpha] = weight_penalties.negative_l2([w]).item()
    assert below[0.0] > 0.4 and below[1.0] < below[0.0] / 4, below
    assert mass[1.0] < mass[0.0] / 20, mass
