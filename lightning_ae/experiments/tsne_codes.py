"""Seed 004's two views of a 32-D code: its first two units, and a t-SNE map of all 32.

    python -m lightning_ae.experiments.tsne_codes RUN_DIR [--points 2000] [--perplexity 30]

encodes the first `points` test digits with the run's final weights (`checkpoints/last.ckpt`) and
writes `RUN_DIR/figures/tsne_codes.png`: the codes' first two units side by side with their exact
t-SNE map (van der Maaten & Hinton, JMLR 2008; `lightning_ae.tsne`), coloured by digit, each panel
titled with the 5-nearest-neighbour accuracy of the digits in it (leave one out: how far the view
keeps the classes apart). `make reports/runs/ae_32d/repro/seed0.json` runs it between the test and
`collect`, which copies the picture beside the record; the report shows it beside the 2-D VAE's scatter.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import lightning as L
import torch
from matplotlib import pyplot as plt

from lightning_ae import figures, tsne
from lightning_ae.callbacks.images import legend_of
from lightning_ae.checkpoints import load_checkpoint
from lightning_ae.data import MNISTDataModule
from lightning_ae.models import Autoencoder  # noqa: F401  Lightning loads only classes already imported


@torch.no_grad()
def test_codes(run_dir: Path, points: int, data_dir: str | None = None) -> tuple[torch.Tensor, torch.Tensor, MNISTDataModule]:
    """Codes (points, latent_dim) of the first test digits under the run's last.ckpt, their labels, the data."""
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    load_checkpoint(ckpt)  # a missing or unsafe file: one clear error (weights_only=True)
    model = L.LightningModule.load_from_checkpoint(ckpt, map_location="cpu", weights_only=True).eval()
    dm = MNISTDataModule(data_dir=data_dir)
    x, y = dm.split("test")
    return torch.cat([model.encode(b) for b in x[:points].split(1000)]), y[:points], dm


def draw(run_dir: str | Path, points: int = 2000, perplexity: float = 30.0, data_dir: str | None = None) -> Path:
    run_dir = Path(run_dir)
    z, y, dm = test_codes(run_dir, points, data_dir)  # (N, d), (N,)
    start = time.perf_counter()
    mapped = tsne.tsne(z, perplexity=perplexity, seed=0)  # (N, 2)
    seconds = time.perf_counter() - start
    d = z.shape[1]
    knn_units, knn_map, knn_codes = tsne.knn_accuracy(z[:, :2], y), tsne.knn_accuracy(mapped, y), tsne.knn_accuracy(z, y)
    panels = [(f"first 2 of the {d} code units (5-NN acc. {knn_units:.2f})", z[:, :2].numpy(), y.numpy(), "unit 1", "unit 2"),
              (f"t-SNE of the {d}-D codes, perplexity {perplexity:g} (5-NN acc. {knn_map:.2f}; "
               f"in {d}-D: {knn_codes:.2f})", mapped.numpy(), y.numpy(), "t-SNE 1", "t-SNE 2")]
    run = f"{run_dir.parent.name}/{run_dir.name}"
    fig = figures.scatter_figure(panels, title=f"{run}: {len(z)} test digits, {d}-D codes of the final weights",
                                 **legend_of(dm))
    out = figures.save(fig, run_dir / "figures" / "tsne_codes.png")
    plt.close(fig)
    print(f"t-SNE of {len(z)} codes in {seconds:.0f} s; 5-NN accuracy: first 2 units {knn_units:.3f}, "
          f"t-SNE map {knn_map:.3f}, {d}-D codes {knn_codes:.3f}; wrote {out}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a finished run's folder (holding checkpoints/last.ckpt)")
    parser.add_argument("--points", type=int, default=2000, help="first test digits to map (exact t-SNE: O(N^2))")
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    draw(args.run_dir, args.points, args.perplexity, args.data_dir)


if __name__ == "__main__":
    main()
