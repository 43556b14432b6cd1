"""A linear 3-2-3 autoencoder performs PCA: Géron's 3-D toy experiment, with the closed form beside it.

    python -m lightning_ae.experiments.toy_linear [--seed 0] [--steps 10000] [--runs reports/runs]

Géron, "Hands-On Machine Learning", ch. 15 (seed 002): 100 points on a noisy curved sheet in 3-D
(`lightning_ae.toy.curved_sheet`), a 3-2-3 autoencoder without activations (`LinearAutoencoder`),
MSE, Adam 0.01, 10,000 full-batch steps; its 2-D codes look like PCA's projection. Baldi & Hornik
(1989): its minimum spans PCA's top-2 subspace. Measured: the autoencoder's reconstruction MSE beside
PCA-2's and PCA-1's (closed form, SVD), and the largest principal angle between the decoder's columns
and PCA's top-2 axes. Writes the record `<runs>/toy_linear/repro/seed<N>.json` (the report's table)
and `<runs>/toy_linear/repro/figures/toy_codes.png`: both 2-D codes side by side.
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from functools import partial
from pathlib import Path

import lightning as L
import torch
from matplotlib import pyplot as plt
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from lightning_ae import figures
from lightning_ae.callbacks.records import git_commit
from lightning_ae.models.linear import LinearAutoencoder, principal_angles
from lightning_ae.report.records import write_json
from lightning_ae.toy import curved_sheet

QUARTILES = ("Q1", "Q2", "Q3", "Q4")  # of the points' first principal component: which point is which


def pca(x: Tensor, k: int) -> tuple[Tensor, Tensor, float]:
    """Closed-form PCA of `x` (N, D): codes (N, k), axes (D, k), reconstruction MSE (mean over N x D)."""
    mean = x.mean(0)
    _, _, vt = torch.linalg.svd((x - mean).double(), full_matrices=False)
    axes = vt[:k].T  # (D, k), largest variance first
    codes = (x - mean).double() @ axes
    return codes.float(), axes, float(((codes @ axes.T + mean - x) ** 2).mean())


def train(x: Tensor, steps: int, lr: float, seed: int) -> LinearAutoencoder:
    """The 3-2-3 linear autoencoder after `steps` full-batch Adam steps (one Lightning epoch of them)."""
    L.seed_everything(seed, verbose=False)
    model = LinearAutoencoder(input_dim=x.shape[1], latent_dim=2, optimizer=partial(torch.optim.Adam, lr=lr))
    batches = TensorDataset(x.repeat(steps, 1), torch.zeros(steps * len(x), dtype=torch.long))  # the set, `steps` times
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, DataLoader(batches, batch_size=len(x)))
    return model.eval()


def run(seed: int = 0, steps: int = 10_000, lr: float = 0.01) -> tuple[dict, tuple]:
    """The record's metrics and the figure's panels."""
    x = curved_sheet()  # (100, 3), standardised
    start = time.perf_counter()
    model = train(x, steps, lr, seed)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        z = model.encode(x)  # (100, 2)
        ae_mse = float(((model.decode(z) - x) ** 2).mean())
    pca_codes, axes, pca2 = pca(x, 2)
    _, _, pca1 = pca(x, 1)
    angle = float(principal_angles(model.decoder_matrix().detach(), axes).max())
    metrics = {"toy/ae_mse": ae_mse, "toy/pca2_mse": pca2, "toy/pca1_mse": pca1, "toy/ae_over_pca2": ae_mse / pca2,
               "toy/max_angle_deg": math.degrees(angle)}
    pc1 = pca_codes[:, 0].contiguous()
    quartile = torch.bucketize(pc1, pc1.quantile(torch.tensor([0.25, 0.5, 0.75]))).numpy()
    panels = [(f"linear autoencoder 3-2-3 (MSE {ae_mse:.4f})", z.numpy(), quartile, "z1", "z2"),
              (f"PCA, 2 components (MSE {pca2:.4f})", pca_codes.numpy(), quartile, "PC 1", "PC 2")]
    return {"metrics": metrics, "wall_time_s": seconds, "steps": steps}, panels


def write(seed: int, steps: int, lr: float, runs: Path) -> Path:
    result, panels = run(seed, steps, lr)
    folder = runs / "toy_linear" / "repro"
    fig = figures.scatter_figure(panels, title=f"Géron's 3-D toy set: 2-D codes (seed {seed}, {steps} steps), "
                                 "colour: quartile of PC 1", class_names=QUARTILES, legend_title="quartile")
    figures.save(fig, folder / "figures" / "toy_codes.png")
    plt.close(fig)
    record = {"config": "toy_linear", "version": "repro", "seed": seed, "val_split": None,
              "run_dir": "python -m lightning_ae.experiments.toy_linear",
              "fit": {"metrics": {}, "wall_time_s": result["wall_time_s"], "epochs": 1, "global_step": steps,
                      "processes": 1, "devices": ["cpu"]},
              "test": {"metrics": result["metrics"], "wall_time_s": 0.0}, "devices": ["cpu"],
              "hparams": {"steps": steps, "lr": lr, "latent_dim": 2}, "commit": git_commit(),
              "versions": {"torch": torch.__version__, "lightning": L.__version__, "python": platform.python_version()}}
    path = folder / f"seed{seed}.json"
    write_json(path, record)
    print(*(f"{k:<20}{v:.6f}" for k, v in result["metrics"].items()), f"wrote {path}", sep="\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10_000, help="full-batch Adam steps (Géron: 10,000)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--runs", default="reports/runs")
    args = parser.parse_args(argv)
    write(args.seed, args.steps, args.lr, Path(args.runs))


if __name__ == "__main__":
    main()
