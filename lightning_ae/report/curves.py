"""The report's training curves, drawn by `make report` from the records' per-epoch series alone.

- `ae_2d_vs_pca`: seed 000's claim "the autoencoder beats PCA after two epochs": every ae_2d seed's
  per-epoch validation MSE (on the test set: seed 000's protocol) and training loss, the horizontal line
  of PCA-2's test MSE (its records), and the per-epoch losses seed 000 printed (its Keras log).
- `vae_20d_cost`, `vae_2d_cost`: the two terms of the VAE's cost per epoch, in nats per image, as
  Géron's notebook (seed 002) prints them while training: reconstruction (-log p(x|z)) and latent
  loss (KL(q(z|x) || p(z))), training and validation.

Each picture is `lightning_ae.figures.WIDTH` (350) pixels wide per panel, with labelled axes, a legend
and a title, and is written with fixed PNG metadata (no software version, no time), so the same
records and library versions give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from lightning_ae import figures
from lightning_ae.report.history import history_of
from lightning_ae.report.results import SEED000_EPOCHS

Records = dict[tuple[str, str], list[dict]]
SEED_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown")


@dataclass
class Panel:
    title: str
    ylabel: str
    lines: list[tuple[str, list[int], list[float], dict]] = field(default_factory=list)  # label, epochs, values, style
    hlines: list[tuple[str, float, dict]] = field(default_factory=list)  # label, y, style


def curve_figure(panels: list[Panel], title: str, width: int = figures.WIDTH, plot_px: int = 170, columns: int = 2) -> Figure:
    """One panel per `Panel`, `width` pixels each, epochs on x, the legend under the plot in `columns` columns
    (a label starting with "_" has no entry)."""
    left, right, bottom = 50, 10, 30
    legend_rows = max(math.ceil((sum(not label.startswith("_") for label, *_ in p.lines) + len(p.hlines)) / columns)
                      for p in panels)
    legend_px = legend_rows * 12 + 10
    title_lines = figures.title_lines(title, width * len(panels) - 2 * figures.MARGIN)
    title_px = len(title_lines) * figures.LINE_PX + 2
    names = [figures.title_lines(p.title, width - left - right) for p in panels]
    name_px = max(len(n) for n in names) * 13 + 4
    height = title_px + name_px + plot_px + bottom + legend_px
    fig_w = width * len(panels)
    fig = plt.figure(figsize=(fig_w / figures.DPI, height / figures.DPI), dpi=figures.DPI)
    fig.text(0.5, 1 - 1 / height, "\n".join(title_lines), ha="center", va="top", fontsize=figures.FONT,
             fontweight="bold", linespacing=1.1)
    for i, (panel, name) in enumerate(zip(panels, names)):
        ax = fig.add_axes(((i * width + left) / fig_w, (bottom + legend_px) / height, (width - left - right) / fig_w,
                           plot_px / height))
        epochs = sorted({e for _, xs, _, _ in panel.lines for e in xs})
        for label, xs, ys, style in panel.lines:
            ax.plot(xs, ys, label=label, **{"linewidth": 1.2, **style})
        for label, y, style in panel.hlines:
            ax.axhline(y, label=label, **{"linewidth": 1.0, **style})
        ax.set_xticks(epochs if len(epochs) <= 12 else epochs[:: math.ceil(len(epochs) / 10)])
        ax.set_title("\n".join(name), fontsize=figures.SMALL + 0.5, pad=3, linespacing=1.0)
        ax.set_xlabel("epoch", fontsize=figures.SMALL, labelpad=1)
        ax.set_ylabel(panel.ylabel, fontsize=figures.SMALL, labelpad=1)
        ax.tick_params(labelsize=figures.SMALL - 1, length=2, pad=1)
        ax.grid(True, linewidth=0.3, alpha=0.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=columns, frameon=False, fontsize=figures.SMALL - 1.5,
                  handlelength=1.8, columnspacing=0.8, labelspacing=0.15, borderaxespad=0.0)
    return fig


def save_png(fig: Figure, path: Path) -> Path:
    """The figure as a PNG file whose bytes depend on the picture only (no software version or time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=fig.dpi, metadata={"Software": None})
    plt.close(fig)
    return path


def series(runs: Path, record: dict, tag: str) -> tuple[list[int], list[float]]:
    """(epochs, values) of one per-epoch series of a record (empty without one)."""
    history = history_of(runs, record) or {"epoch": [], "series": {}}
    pairs = [(e, v) for e, v in zip(history["epoch"], history["series"].get(tag, [])) if e is not None and v is not None]
    return [e for e, _ in pairs], [v for _, v in pairs]


def mean_test(records: Records, config: str, metric: str) -> float | None:
    values = [r["test"]["metrics"][metric] for r in records.get((config, "repro"), []) if metric in r.get("test", {}).get("metrics", {})]
    return math.fsum(values) / len(values) if values else None


def first_epoch_below(epochs: list[int], values: list[float], line: float) -> int | None:
    return next((e for e, v in zip(epochs, values) if v < line), None)


def ae_2d_vs_pca(records: Records, runs: Path) -> tuple[Figure, str] | None:
    rows = [r for r in records.get(("ae_2d", "repro"), []) if series(runs, r, "val/mse")[0]]
    pca = mean_test(records, "pca_2d", "test/mse")
    if not rows or pca is None:
        return None
    panel = Panel("784-512-128-2 ELU autoencoder, PCA-2", "per-pixel MSE")
    below = []
    for i, r in enumerate(rows):  # one legend entry for all seeds' lines of a kind
        epochs, val = series(runs, r, "val/mse")
        seeds = f" ({len(rows)} seeds)" if i == 0 else ""
        panel.lines.append(("_" * i + f"ours: val MSE (test set){seeds}", epochs, val,
                            {"color": "tab:blue", "marker": "o", "markersize": 3, "alpha": 0.8}))
        panel.lines.append(("_" * i + f"ours: train loss{seeds}", *series(runs, r, "train/loss"),
                            {"color": "tab:blue", "linestyle": "--", "alpha": 0.8}))
        below.append(first_epoch_below(epochs, val, pca))
    printed = {k: [float(v) for v in vs] for k, vs in SEED000_EPOCHS.items()}
    keras = list(range(1, len(printed["val_loss"]) + 1))
    panel.lines.append(("seed 000 (Keras): val_loss, printed", keras, printed["val_loss"],
                        {"color": "black", "marker": "x", "markersize": 5, "linestyle": "none"}))
    panel.lines.append(("seed 000 (Keras): loss, printed", keras, printed["loss"],
                        {"color": "black", "marker": "+", "markersize": 6, "linestyle": "none"}))
    panel.hlines.append((f"PCA-2 test MSE {pca:.4f} (here)", pca, {"color": "tab:red", "linestyle": ":"}))
    seeds = ", ".join(f"seed {r['seed']}: epoch {b if b is not None else 'never'}" for r, b in zip(rows, below))
    theirs = first_epoch_below(keras, printed["val_loss"], pca)
    note = (f"First epoch whose validation MSE (on the test set) is below PCA-2's test MSE ({pca:.4f}): {seeds}. "
            f"Seed 000's printed val_loss is below it from epoch {theirs} ({SEED000_EPOCHS['val_loss'][theirs - 1]}); "
            "its text says \"after only two training epochs\".")
    return curve_figure([panel], "ae_2d vs PCA-2, per epoch", columns=1), note


def vae_cost(config: str, label: str) -> Callable[[Records, Path], tuple[Figure, str] | None]:
    def draw(records: Records, runs: Path) -> tuple[Figure, str] | None:
        rows = [r for r in records.get((config, "repro"), []) if series(runs, r, "val/kl")[0]]
        if not rows:
            return None
        r = rows[0]
        split = "holdout" if r.get("val_split") == "holdout" else "test set"
        panels = [Panel("reconstruction: -log p(x|z)", "nats per image"), Panel("latent loss: KL(q(z|x) || p(z))", "nats per image")]
        for panel, term in zip(panels, ("rec", "kl")):
            panel.lines.append(("training (epoch mean)", *series(runs, r, f"train/{term}"), {"color": "tab:blue", "linestyle": "--"}))
            panel.lines.append((f"validation ({split})", *series(runs, r, f"val/{term}"), {"color": "tab:orange", "marker": "o", "markersize": 3}))
        epochs, rec = series(runs, r, "val/rec")
        _, kl = series(runs, r, "val/kl")
        note = (f"{label}, seed {r['seed']}: validation reconstruction {rec[0]:.1f} → {rec[-1]:.1f} nats, "
                f"KL {kl[0]:.2f} → {kl[-1]:.2f} nats over epochs {epochs[0]}-{epochs[-1]}.")
        return curve_figure(panels, f"{config}: the VAE's two cost terms per epoch, seed {r['seed']}"), note
    return draw


CURVES: dict[str, Callable[[Records, Path], tuple[Figure, str] | None]] = {
    "ae_2d_vs_pca": ae_2d_vs_pca,
    "vae_20d_cost": vae_cost("vae_20d", "784-500-500-20 VAE, binarised MNIST"),
    "vae_2d_cost": vae_cost("vae_2d", "784-500-500-2 VAE"),
}
# the records each curve reads (for the figure's credit line and "not made yet")
CURVE_RECORDS = {"ae_2d_vs_pca": ("ae_2d", "pca_2d"), "vae_20d_cost": ("vae_20d",), "vae_2d_cost": ("vae_2d",)}
