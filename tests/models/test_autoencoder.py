"""The deep MLP autoencoder: shapes, architectures, validation and learning on real digits."""

from __future__ import annotations

from functools import partial

import pytest
from jsonargparse import ArgumentError
import torch

from lightning_ae.models import Autoencoder
from typed import build


def test_seed_and_hinton_architectures():
    ae = Autoencoder(hidden_dims=[512, 128], latent_dim=2)
    x = torch.rand(4, 784)
    z = ae.encode(x)
    assert z.shape == (4, 2) and ae(x).shape == (4, 784)
    assert ((ae(x) >= 0) & (ae(x) <= 1)).all()
    sizes = [m.out_features for m in ae.encoder if isinstance(m, torch.nn.Linear)]
    assert sizes == [512, 128, 2]
    hinton = Autoencoder(hidden_dims=[1000, 500, 250], latent_dim=30, activation="sigmoid")
    assert [m.out_features for m in hinton.decoder if isinstance(m, torch.nn.Linear)] == [250, 500, 1000, 784]


@pytest.mark.parametrize("kwargs, message", [
    ({"latent_dim": 0}, "latent_dim"),
    ({"hidden_dims": [512, -3]}, "hidden_dims"),
    ({"activation": "swish"}, "activation"),
    ({"loss": "l1"}, "loss"),
    ({"optimizer": "lamb"}, "optimizer"),
    ({"loss": "bce", "output_activation": "linear"}, "sigmoid"),
])
def test_bad_hyperparameters_name_the_problem(kwargs, message):
    with pytest.raises((ArgumentError, ValueError), match=message):
        build(Autoencoder, **kwargs)


def test_overfits_a_slice_of_real_digits(mnist):
    torch.manual_seed(0)
    x = mnist.split("train")[0][:256]
    ae = Autoencoder(hidden_dims=[256, 64], latent_dim=8)
    opt = ae.configure_optimizers()
    with torch.no_grad():
        start = torch.mean((ae(x) - x) ** 2).item()
    for _ in range(300):
        loss, _, _ = ae.objective(x, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < start / 4, (start, loss.item())


def test_hparams_are_saved_for_checkpoints():
    ae = Autoencoder(hidden_dims=[64], latent_dim=3, optimizer=partial(torch.optim.Adam, lr=0.01))
    assert ae.hparams.hidden_dims == [64] and ae.hparams.latent_dim == 3
    assert "optimizer" not in ae.hparams  # a callable: not saved, so checkpoints stay plain data
    assert ae.configure_optimizers().param_groups[0]["lr"] == 0.01


def test_tied_weights_share_the_encoder_matrices():
    untied = Autoencoder(hidden_dims=[300], latent_dim=150)
    tied = Autoencoder(hidden_dims=[300], latent_dim=150, tie_weights=True)
    weights = lambda m: sum(p.numel() for n, p in m.named_parameters() if n.endswith("weight"))
    assert weights(tied) * 2 == weights(untied)
    x = torch.rand(3, 784)
    h = torch.nn.functional.elu(tied.encoder[0](x))
    z = tied.encode(x)
    w1, w2 = tied.encoder[0].weight, tied.encoder[2].weight
    manual = torch.sigmoid(torch.nn.functional.elu(z @ w2 + tied.decoder.biases[0]) @ w1 + tied.decoder.biases[1])
    torch.testing.assert_close(tied(x), manual)
    assert h.shape == (3, 300)
    tied(x).sum().backward()  # one matrix gets the gradient of both its encoder and decoder uses
    assert w1.grad is not None and tied.decoder.biases[1].grad is not None
