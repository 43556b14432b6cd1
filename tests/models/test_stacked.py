"""The stacked autoencoder: Géron's architecture, tied weights, L2 penalty and the first-layer filters picture."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest
from jsonargparse import ArgumentError
import torch
from torch import nn

from conftest import ROOT
from lightning_ae import figures
from lightning_ae.models import StackedAutoencoder
from lightning_ae.callbacks import latest_checkpoint
from typed import build


def weights(model: nn.Module) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))


def test_geron_architecture_and_defaults():
    ae = StackedAutoencoder()
    sizes = [m.out_features for m in [*ae.encoder, *ae.decoder] if isinstance(m, nn.Linear)]
    assert sizes == [300, 150, 300, 784]
    assert isinstance(ae.encoder[-1], nn.ELU) and isinstance(ae.decoder[-1], nn.Identity)  # ELU code, linear output
    x = torch.rand(5, 784)
    assert ae.encode(x).shape == (5, 150) and ae(x).shape == (5, 784)
    assert ae.hparams.init == "he"
    opt = ae.configure_optimizers()
    assert isinstance(opt, torch.optim.Adam)  # the notebook's L2 1e-4 is configs/stacked.yaml's optimizer: section
    first = ae.encoder[0].weight
    assert abs(first.std().item() - (2 / 784) ** 0.5) < 0.005  # He: std sqrt(2 / fan_in)


def test_tied_model_has_half_the_weights_and_shares_them():
    untied, tied = StackedAutoencoder(), StackedAutoencoder(tie_weights=True)
    assert weights(untied) == 2 * (784 * 300 + 300 * 150) == 2 * weights(tied)
    assert sum(p.numel() for p in tied.parameters()) == 784 * 300 + 300 * 150 + 300 + 150 + 300 + 784
    x = torch.rand(4, 784)
    tied(x).pow(2).sum().backward()
    assert tied.encoder[0].weight.grad.abs().sum() > 0  # the output layer's gradient reaches the shared W1
    with torch.no_grad():
        tied.encoder[0].weight.mul_(2.0)  # changing W1 changes the decoder's last layer too
    assert not torch.allclose(tied.decode(torch.ones(1, 150)), StackedAutoencoder(tie_weights=True).decode(torch.ones(1, 150)))


def test_filters_picture_shows_the_first_rows_of_w1():
    ae = StackedAutoencoder(hidden_dims=[40], latent_dim=10, num_filters=9)
    pattern = torch.zeros(28, 28)
    pattern[:, :14] = 1.0  # left half bright
    with torch.no_grad():
        ae.encoder[0].weight[0] = pattern.flatten() * 0.01 - 0.003
    fig = ae.figures(torch.rand(3, 784), torch.arange(3))["stacked/filters"]
    assert json.loads(fig.axes[0].get_label())["per_line"] == 3  # 3 x 3 tiles
    pixels = fig.axes[0].images[0].get_array()
    assert pixels.min() >= 0 and pixels.max() <= 1
    tile = figures.cell(fig, 0, 0)  # first filter, rescaled to [0, 1] on its own
    assert np.allclose(tile, pattern.numpy(), atol=1e-5)
    assert ae.filters().shape == (9, 1, 28, 28)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_filters": 0}, "num_filters"),
    ({"num_filters": 301}, "num_filters must be between 1 and the first layer's 300 units, got 301"),
    ({"input_dim": 780}, "not a square"),
    ({"activation": "swish"}, "activation"),
])
def test_bad_hyperparameters_name_the_problem(kwargs, message):
    with pytest.raises((ArgumentError, ValueError), match=message):
        build(StackedAutoencoder, **kwargs)


def test_learns_on_real_digits(mnist):
    torch.manual_seed(0)
    x = mnist.split("train")[0][:600]
    ae = StackedAutoencoder(hidden_dims=[64], latent_dim=32, optimizer=partial(torch.optim.Adam, lr=0.003, weight_decay=1e-4))
    opt = ae.configure_optimizers()
    with torch.no_grad():
        start = torch.mean((ae(x) - x) ** 2).item()
    for _ in range(150):
        loss, _, _ = ae.objective(x, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < start / 5, (start, loss.item())


@pytest.mark.parametrize("config", ["stacked", "tied"])
def test_cli_writes_the_filters_png(config, run_cli, tmp_path):
    run = run_cli("fit", "--config", str(ROOT / "configs" / f"{config}.yaml"))
    run_cli("test", "--config", str(ROOT / "configs" / f"{config}.yaml"),
            "--ckpt_path", latest_checkpoint(run.trainer))
    pngs = {p.name for p in (tmp_path / "logs").rglob("figures/*.png")}
    assert {"stacked_filters.png", "recon_grid.png"} <= pngs
    assert run.model.tie_weights is (config == "tied")
