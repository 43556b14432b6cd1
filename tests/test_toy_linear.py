"""Géron's toy experiment (lightning_ae.experiments.toy_linear): a linear 3-2-3 autoencoder reaches PCA-2's error."""

from __future__ import annotations

import json

import pytest
import torch

from lightning_ae import report
from lightning_ae.experiments import toy_linear
from lightning_ae.toy import curved_sheet


def test_closed_form_pca_errors_of_the_toy_set():
    x = curved_sheet()
    _, axes, pca2 = toy_linear.pca(x, 2)
    _, _, pca1 = toy_linear.pca(x, 1)
    # standardised columns: total variance 3 per point; the MSE per coordinate is the dropped eigenvalues' sum / 3
    eig = torch.linalg.eigvalsh((x.double().T @ x.double()) / len(x))  # ascending
    assert pca2 == pytest.approx(float(eig[0]) / 3, rel=1e-5)
    assert pca1 == pytest.approx(float(eig[:2].sum()) / 3, rel=1e-5)
    assert torch.allclose(axes.T @ axes, torch.eye(2, dtype=torch.float64), atol=1e-10)


def test_the_linear_autoencoder_matches_pca_and_beats_one_component(tmp_path):
    result, panels = toy_linear.run(seed=0, steps=1500)
    m = result["metrics"]
    assert m["toy/ae_mse"] == pytest.approx(m["toy/pca2_mse"], rel=0.03)  # within 3% of the closed form
    assert m["toy/ae_mse"] >= m["toy/pca2_mse"] * (1 - 1e-4)  # PCA-2 is the optimum: never below it
    assert m["toy/ae_mse"] < 0.25 * m["toy/pca1_mse"]  # far below a 1-D code
    assert m["toy/max_angle_deg"] < 2.0  # the decoder spans PCA's top-2 subspace
    assert [p[0].split(" (")[0] for p in panels] == ["linear autoencoder 3-2-3", "PCA, 2 components"]
    assert sorted(set(panels[0][2].tolist())) == [0, 1, 2, 3]  # quartiles of PC 1: 25 points each
    assert [int((panels[0][2] == q).sum()) for q in range(4)] == [25, 25, 25, 25]


def test_an_untrained_net_is_far_from_pca():
    """The check above is not vacuous: a few steps leave the error well above PCA-2's."""
    m = toy_linear.run(seed=0, steps=5)[0]["metrics"]
    assert m["toy/ae_mse"] > 1.5 * m["toy/pca2_mse"]


def test_the_record_and_its_rows_in_the_report(tmp_path):
    runs = tmp_path / "reports" / "runs"
    path = toy_linear.write(seed=3, steps=300, lr=0.01, runs=runs)
    rec = json.loads(path.read_text())
    assert path == runs / "toy_linear" / "repro" / "seed3.json" and rec["seed"] == 3 and rec["fit"]["global_step"] == 300
    assert (runs / "toy_linear" / "repro" / "figures" / "toy_codes.png").read_bytes().startswith(b"\x89PNG")
    text = report.write_report(runs, tmp_path / "reports").read_text()
    pca2 = rec["test"]["metrics"]["toy/pca2_mse"]
    assert (f"| PCA, 2 components, reconstruction MSE (closed form, SVD) | `toy_linear/repro`, `toy/pca2_mse` | "
            f"{pca2:.6f} (n=1) |") in text
    assert "![toy_linear: toy_codes](runs/toy_linear/repro/figures/toy_codes.png)" in text
    assert "| `make repro-toy-linear` | 1 |" in text
