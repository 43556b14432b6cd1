"""Optional `torch.compile` of the networks: what gets compiled, and the eager fallback with its message.

Nothing here runs a compiled graph (Inductor on a CPU takes tens of seconds to build one); the
fallback paths are forced by monkeypatching, and the real path is checked up to the wrapping.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from conftest import MODEL_CONFIGS
from lightning_ae import compiling
from lightning_ae.compiling import compile_networks, compile_unsupported_reason
from lightning_ae.models import Autoencoder


def _model() -> Autoencoder:
    return Autoencoder(hidden_dims=[16], latent_dim=2, compile=True)


def test_cpu_backend_without_a_cxx_compiler_is_unsupported(monkeypatch):
    monkeypatch.setattr(compiling.shutil, "which", lambda name: None)
    assert "C++ compiler" in compile_unsupported_reason("cpu")
    assert compile_unsupported_reason("meta") is None or "Windows" in compile_unsupported_reason("meta")


def test_unsupported_falls_back_to_eager_with_a_warning(monkeypatch):
    monkeypatch.setattr(compiling, "compile_unsupported_reason", lambda device: "no C++ compiler here")
    model = _model()
    with pytest.warns(UserWarning, match="compile=true ignored: no C\\+\\+ compiler here; the model runs eagerly"):
        assert compile_networks(model, "cpu") == []
    assert model.encoder._compiled_call_impl is None
    assert model(torch.rand(3, 784)).shape == (3, 784)


def test_a_network_that_fails_to_compile_runs_eagerly(monkeypatch):
    monkeypatch.setattr(compiling, "compile_unsupported_reason", lambda device: None)
    model = _model()
    real_compile = nn.Module.compile

    def compile_or_fail(self, *args, **kwargs):
        if self is model.encoder:
            raise RuntimeError("Dynamo is not supported on this Python")
        return real_compile(self, *args, **kwargs)

    monkeypatch.setattr(nn.Sequential, "compile", compile_or_fail)
    with pytest.warns(UserWarning, match="compile=true ignored for encoder: Dynamo is not supported"):
        assert compile_networks(model, "cpu") == ["decoder"]
    assert model.encoder._compiled_call_impl is None and model.decoder._compiled_call_impl is not None


def test_compiles_the_networks_in_place_not_the_metrics():
    if compile_unsupported_reason("cpu") is not None:
        pytest.skip(compile_unsupported_reason("cpu"))
    model = _model()
    keys = list(model.state_dict())
    assert sorted(compile_networks(model, "cpu")) == ["decoder", "encoder"]
    assert model.encoder._compiled_call_impl is not None and model.decoder._compiled_call_impl is not None
    assert model.val_metrics.flat["mse"]._compiled_call_impl is None
    assert list(model.state_dict()) == keys  # checkpoints keep their parameter names


def test_compile_true_through_the_cli_falls_back_with_a_message(run_cli, monkeypatch):
    monkeypatch.setattr(compiling, "compile_unsupported_reason", lambda device: "forced by the test")
    config = next(c for c in MODEL_CONFIGS if c.stem == "ae_2d")
    with pytest.warns(UserWarning, match="compile=true ignored: forced by the test"):
        fit = run_cli("fit", "--config", str(config), "--model.init_args.compile", "true")
    assert fit.model.compiled == [] and fit.model.hparams.compile is True
    assert math.isfinite(float(fit.trainer.callback_metrics["train/loss"]))
