"""`make report`: every reproduction's numbers beside the published ones, with its pictures.

`python -m lightning_ae.report [--logs logs] [--out reports]` reads the finished runs of the `make
repro-*` targets (`<logs>/<config>/repro/run.json`, written by the RunRecord callback and read by
`lightning_ae.summary.read_record`, and the PNG files under `.../figures/`) and writes
`<out>/README.md`, copying the pictures beside it. Every number in it comes from a run's own logged
metrics; only the published values are typed in here, each with its source, metric and reduction,
so that per-pixel MSE, per-pixel RMSE, squared error per image and nats are never mixed. A run that
has not been made shows as "not run".
"""

from __future__ import annotations

import argparse
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from lightning_ae.summary import read_record

# metric key -> what it is, with its reduction
UNITS = {
    "train/mse": "per-pixel MSE on the training images (mean over pixels and images)",
    "test/mse": "per-pixel MSE on the 10,000 test images (mean over pixels and images)",
    "test/rmse": "RMSE over all test pixels (root of the per-pixel MSE)",
    "val/rmse": "RMSE over all test pixels of the final weights (the last validation, on the test set: val_split test)",
    "test/acc": "classification accuracy on the 10,000 test images (1 - test error)",
    "test/sq_err_per_image": "squared error per test image (sum over 784 pixels, mean over images)",
    "test/elbo": "ELBO in nats per test image (summed Bernoulli log-likelihood minus KL; higher is better)",
    "test/nll": "negative log-likelihood in nats per test image, importance sampled (lower is better)",
    "test/mean_activation": "mean activation of the sigmoid code units on the test images (target: rho)",
    "test/knn_acc": "5-nearest-neighbour accuracy of the test codes (neighbours: 10,000 training codes)",
    "test/probe_acc": "logistic-regression probe accuracy of the test codes",
}
SOURCES = {
    "cv": "Cross Validated answer, Keras 784-512-128-2 ELU (seed 000)",
    "r": "R reproduction of the same answer (seed 001)",
    "hs": "Hinton & Salakhutdinov, Science 2006",
    "bn": "BatchNorm+ReLU reproduction of Hinton & Salakhutdinov",
    "geron": "Géron's autoencoder notebook (seed 002)",
    "blog": "configurable autoencoder blog post, tied sigmoid nets (seed 003)",
    "burda": "Burda et al. 2016, plain VAE 784-200-200-50, k=5000, 3,280 epochs",
    "target": "the configured sparsity target rho",
}


@dataclass(frozen=True)
class Row:
    label: str
    config: str  # configs/<config>.yaml, run in <logs>/<config>/<version>
    metric: str
    published: float | None = None
    source: str | None = None  # a key of SOURCES
    stage: str = "test"
    version: str = "repro"
    lower_is_better: bool = True
    tolerance: float = 0.01  # relative: within it, the row "matches"


@dataclass(frozen=True)
class Result:
    title: str
    target: str  # the make target that produces the runs
    rows: tuple[Row, ...]
    figures: tuple[tuple[str, str], ...] = ()  # (config, PNG stem under its figures/)
    note: str = ""
    tables: tuple[str, ...] = ()  # globs (relative to logs) of markdown tables an experiment wrote; the newest is shown


RESULTS: tuple[Result, ...] = (
    Result("2-D autoencoder vs PCA, 5 epochs", "repro-pca-vs-ae", (
        Row("PCA, 2 components (train)", "pca_2d", "train/mse", 0.0560, "cv", stage="fit"),
        Row("PCA, 2 components", "pca_2d", "test/mse", 0.0557, "cv"),
        Row("784-512-128-2 ELU autoencoder, 5 epochs", "ae_2d", "test/mse", 0.0407, "cv"),
    ), figures=(("ae_2d", "recon_grid"), ("ae_2d", "latent_scatter"))),
    Result("The same autoencoder, 25 epochs, vs PCA-9", "repro-25-epochs", (
        Row("784-512-128-2 ELU autoencoder, 25 epochs", "ae_2d_25ep", "test/mse", 0.0359, "r"),
        Row("PCA, 9 components", "pca_9", "test/mse", 0.0356, "r"),
    ), figures=(("ae_2d_25ep", "recon_grid"), ("ae_2d_25ep", "latent_scatter"))),
    Result("Hinton & Salakhutdinov 2006: 30-D deep autoencoder vs PCA-30", "repro-hinton2006", (
        Row("784-1000-500-250-30 autoencoder", "hinton_30d", "test/sq_err_per_image", 3.00, "hs"),
        Row("784-1000-500-250-30 autoencoder", "hinton_30d", "test/sq_err_per_image", 2.65, "bn"),
        Row("PCA, 30 components", "pca_30", "test/sq_err_per_image", 13.87, "hs"),
        Row("784-1000-500-250-2 autoencoder", "hinton_2d", "test/mse"),
    ), figures=(("hinton_30d", "recon_grid"), ("hinton_2d", "latent_scatter"))),
    Result("Linear autoencoder = PCA", "repro-linear", (
        Row("linear autoencoder, 2-D code", "linear_2d", "test/mse", 0.0557, "cv", tolerance=0.02),
    ), note="The published value is PCA-2's error: a linear autoencoder can at best match it (within 2%)."),
    Result("Stacked autoencoders, untied and tied", "repro-stacked repro-tied", (
        Row("784-300-150-300-784 ELU, untied", "stacked", "test/mse"),
        Row("784-300-150-300-784 ELU, tied weights", "tied", "test/mse"),
    ), figures=(("stacked", "stacked_filters"), ("tied", "stacked_filters"), ("tied", "recon_grid"))),
    Result("Greedy layer-wise pretraining", "repro-greedy", (
        Row("greedy 4+4 epochs (the notebook's setting)", "greedy_stacked", "test/mse", 0.0098, "geron", version="repro_pretrain_only"),
        Row("greedy 4+4 epochs + 2 fine-tuning", "greedy_stacked", "test/mse", 0.0098, "geron"),
        Row("end to end, same 10-epoch budget", "stacked_e2e", "test/mse"),
    ), note="The notebook's 0.0098 may be its stage-2 (hidden-unit) MSE; the greedy run logs that one too."),
    Result("Denoising and the tied sigmoid nets of the blog", "repro-denoising", (
        Row("784-10, RMSprop 0.1", "dae_784_10", "val/rmse", 0.206152, "blog", stage="fit", tolerance=0.0146),
        Row("784-128-10, Adam 0.01", "dae_784_128_10", "val/rmse", 0.136408, "blog", stage="fit", tolerance=0.022),
        Row("784-128-128-10, Adam 0.01", "dae_784_128_128_10", "val/rmse", 0.131669, "blog", stage="fit"),
        Row("784-512-128-10, Adam 0.01", "dae_784_512_128_10", "val/rmse", 0.127140, "blog", stage="fit"),
        Row("784-512-128-1 (a 1-unit code)", "dae_784_1", "val/rmse", 0.213122, "blog", stage="fit"),
    ), figures=(("dae_784_128_10_masking", "denoising_grid"), ("dae_784_128_10", "recon_grid")),
        tables=("denoising/table*.md",),
        note="Tolerance: the issue's 0.003 for the first two nets, 1% otherwise. Rows score the weights after "
             "epoch 100 (the blog's); the table below also tests each run's saved checkpoint."),
    Result("Sparse autoencoders", "repro-sparse-kl repro-sparse-l1", (
        Row("KL penalty: mean code activation", "sparse_kl", "test/mean_activation", 0.1, "target", tolerance=0.2),
        Row("KL penalty", "sparse_kl", "test/mse"),
        Row("L1 penalty: mean code activation", "sparse_l1", "test/mean_activation"),
        Row("L1 penalty", "sparse_l1", "test/mse"),
    ), figures=(("sparse_kl", "recon_grid"), ("sparse_kl", "sparse_activations"))),
    Result("Variational autoencoders", "repro-vae-2d repro-vae-20d", (
        Row("784-500-500-20 VAE, binarised MNIST", "vae_20d", "test/nll", 86.76, "burda"),
        Row("784-500-500-20 VAE, binarised MNIST", "vae_20d", "test/elbo", lower_is_better=False),
        Row("784-500-500-2 VAE", "vae_2d", "test/elbo", lower_is_better=False),
    ), figures=(("vae_20d", "vae_samples"), ("vae_20d", "vae_interpolation"), ("vae_2d", "vae_manifold"),
                ("vae_2d", "latent_scatter")),
        note="Burda et al.'s network is smaller (784-200-200-50) but trained 3,280 epochs; ours trains a CPU budget."),
    Result("Pretraining a classifier", "repro-pretrain-classifier repro-pretrain-classifier-denoising repro-classifier-full", (
        Row("784-800-800 MLP with dropout, all 60,000 labels", "classifier_full", "test/acc", 0.988, "hs",
            lower_is_better=False, tolerance=0.0005),
    ), tables=("pretrain_classifier/table_greedy_stacked_lr*.md", "pretrain_classifier/table_greedy_stacked_denoising_*.md"),
        note="Published: 1.2% test error for a pretrained 784-500-500-2000-10 net (1.6% by backprop alone). "
             "Tables: test accuracy, mean ± std over 3 seeds (each seed also draws the labelled subset)."),
)
PROBE_FLOOR = {"PCA-2 5-NN (published floor)": 0.42, "PCA-10 5-NN (published floor)": 0.93}


def value(record: dict | None, stage: str, metric: str) -> float | None:
    if record is None:
        return None
    v = record.get(stage, {}).get("metrics", {}).get(metric)
    return None if v is None or not math.isfinite(v) else float(v)


def verdict(row: Row, ours: float | None) -> str:
    if ours is None:
        return "not run"
    if row.published is None:
        return ""
    if abs(ours - row.published) <= row.tolerance * abs(row.published):
        return "matches"
    better = ours < row.published if row.lower_is_better else ours > row.published
    return "beats" if better else "misses"


def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}"


def result_section(result: Result, logs: Path, out: Path) -> list[str]:
    lines = [f"## {result.title}", "", f"`make {result.target.split()[0]}`" + (
        "".join(f", `make {t}`" for t in result.target.split()[1:])), ""]
    if result.note:
        lines += [result.note, ""]
    if result.rows:
        lines += ["| run | metric | ours | published | source | verdict | epochs | fit wall time | device |",
                  "|---|---|---:|---:|---|---|---:|---:|---|"]
        for row in result.rows:
            record = read_record(logs / row.config / row.version)
            ours = value(record, row.stage, row.metric)
            fit = (record or {}).get("fit", {})
            epochs = fit.get("epochs")
            wall = fit.get("wall_time_s")
            lines.append(
                f"| {row.label} (`configs/{row.config}.yaml`) | {row.metric} | {fmt(ours)} | {fmt(row.published)} | "
                f"{SOURCES.get(row.source, '') if row.source else ''} | {verdict(row, ours)} | "
                f"{'' if epochs is None else epochs} | "
                f"{'' if wall is None else f'{wall:.0f} s'} | {(record or {}).get('device', '')} |")
        used = sorted({r.metric for r in result.rows})
        lines += [""] + [f"- `{m}`: {UNITS[m]}" for m in used] + [""]
    for pattern in result.tables:
        found = sorted(logs.glob(pattern), key=lambda p: p.stat().st_mtime)
        text = found[-1].read_text().strip() if found else "(not run)"
        lines += [f"From `{found[-1].relative_to(logs) if found else pattern}`:", "", text, ""]
    for config, stem in result.figures:
        png = logs / config / "repro" / "figures" / f"{stem}.png"
        if png.is_file():
            dest = out / "figures" / f"{config}_{stem}.png"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, dest)
            lines += [f"![{config}: {stem}](figures/{dest.name})", ""]
    return lines


def probe_section(logs: Path) -> list[str]:
    """kNN and probe accuracy of every finished run's test codes, beside PCA's floor."""
    lines = ["## Representation quality of the codes", "",
             "| run | code size | 5-NN accuracy | linear probe accuracy |", "|---|---:|---:|---:|"]
    for run_dir in sorted(logs.glob("*/repro")):
        record = read_record(run_dir)
        knn, probe = value(record, "test", "test/knn_acc"), value(record, "test", "test/probe_acc")
        if knn is None and probe is None:
            continue
        hp = record.get("hparams", {})
        size = hp.get("latent_dim", hp.get("n_components", ""))
        lines.append(f"| {run_dir.parent.name} | {size} | {fmt(knn)} | {fmt(probe)} |")
    lines += [f"| {k} | | {v:.2f} | |" for k, v in PROBE_FLOOR.items()]
    lines += ["", f"- `test/knn_acc`: {UNITS['test/knn_acc']}", f"- `test/probe_acc`: {UNITS['test/probe_acc']}", ""]
    return lines


def write_report(logs: str | Path = "logs", out: str | Path = "reports") -> Path:
    logs, out = Path(logs), Path(out)
    if not logs.is_dir():
        raise SystemExit(f"no logs at {logs}: run `make repro` (or `make repro-quick`) first.")
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# lightning-ae: the reproductions", "",
             f"Written by `python -m lightning_ae.report --logs {logs} --out {out}` from the runs' own records "
             "(`run.json`, TensorBoard figures). Verdict: *matches* within the row's tolerance (1% unless noted), "
             "*beats* or *misses* otherwise. Epochs and wall time are those of `fit`; the config, seed, commit "
             "and versions of every run are in its `run.json` and `config.yaml`.", ""]
    for result in RESULTS:
        lines += result_section(result, logs, out)
    lines += probe_section(logs)
    path = out / "README.md"
    path.write_text("\n".join(lines))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", default="logs", help="where the make repro-* targets wrote their runs")
    parser.add_argument("--out", default="reports", help="folder of the report (README.md and figures/)")
    args = parser.parse_args(argv)
    path = write_report(args.logs, args.out)
    missing = path.read_text().count("| not run |")
    print(f"wrote {path}" + (f" ({missing} rows not run yet)" if missing else ""))


if __name__ == "__main__":
    main()
