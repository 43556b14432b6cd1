"""The ladder paper's supervised baseline (configs/classifier_noisy_bn.yaml): every layer batch-normalised,
Gaussian noise on the normalised pre-activations and on the pixels in training only, and the schedule
that holds the rate and then takes it linearly to 0."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lightning_ae.models import Classifier
from lightning_ae.networks import GaussianNoise, NoisyBatchNorm
from lightning_ae.optim import ConstantThenLinear


def test_noisy_batch_norm_normalises_then_adds_noise_of_the_given_std_in_training_only():
    torch.manual_seed(0)
    z = 3.0 + 5.0 * torch.randn(4096, 6)  # far from zero mean and unit variance
    layer = NoisyBatchNorm(6, std=0.5)
    with torch.no_grad():
        layer.beta.fill_(0.25)
        out = layer.train()(z)
        clean = NoisyBatchNorm(6, std=0.0).train()(z)
    torch.testing.assert_close(clean.mean(0), torch.zeros(6), atol=1e-5, rtol=0)  # normalised, no learned scale
    torch.testing.assert_close(clean.std(0), torch.ones(6), atol=1e-3, rtol=0)
    torch.testing.assert_close(out.mean(0), torch.full((6,), 0.25), atol=0.05, rtol=0)  # + beta
    torch.testing.assert_close(out.std(0), torch.full((6,), (1 + 0.5**2) ** 0.5), atol=0.03, rtol=0)  # sqrt(1 + std^2)
    assert 0.45 < (out - 0.25 - clean).std().item() < 0.55  # what was added to the normalised values: the noise
    layer.eval()  # running statistics, no noise: deterministic, near the training normalisation
    with torch.no_grad():
        first, second = layer(z), layer(z)
    assert torch.equal(first, second)
    scaled = NoisyBatchNorm(6, std=0.0, scale=True).train()
    with torch.no_grad():
        scaled.gamma.fill_(2.0)
        torch.testing.assert_close(scaled(z), 2 * clean)


def test_gaussian_noise_is_off_in_eval_and_has_its_std_in_training():
    x = torch.zeros(100_000)
    noise = GaussianNoise(0.3)
    assert torch.equal(noise.eval()(x), x)
    assert noise.train()(x).std().item() == pytest.approx(0.3, rel=0.02)


def test_the_noisy_classifier_is_deterministic_in_eval_and_noisy_in_training():
    torch.manual_seed(0)
    clf = Classifier(hidden_dims=[32, 16], activation="relu", batch_norm=True, noise_std=0.5, input_noise=0.3)
    kinds = [type(m).__name__ for m in clf.encoder]
    assert kinds == ["Linear", "NoisyBatchNorm", "ReLU", "Linear", "NoisyBatchNorm", "ReLU"]
    assert isinstance(clf.head[1], NoisyBatchNorm) and clf.head[1].gamma is not None  # the softmax layer's too
    x = torch.rand(64, 784)
    clf.train()
    assert not torch.equal(clf(x), clf(x))
    clf.eval()
    assert torch.equal(clf(x), clf(x))


def test_noise_without_batch_norm_is_refused():
    with pytest.raises(ValueError, match="set batch_norm: true"):
        Classifier(hidden_dims=[16], noise_std=0.5)


def test_constant_then_linear_holds_the_rate_then_falls_to_zero():
    w = nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([w], lr=2e-3)
    schedule = ConstantThenLinear(opt, total_epochs=150, decay_from=0.67)
    rates = []
    for _ in range(150):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert rates[:101] == [pytest.approx(2e-3)] * 101  # epochs 0-100 (0.67 x 150 = 100.5 -> 100)
    for epoch in range(100, 150):
        assert rates[epoch] == pytest.approx(2e-3 * (150 - epoch) / 50)
    assert opt.param_groups[0]["lr"] == 0.0  # after the last epoch
    state = schedule.state_dict()
    assert type(state["total_epochs"]) is int and type(state["decay_start"]) is int  # loadable with weights_only
