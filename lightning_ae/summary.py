"""Finished runs' records: the one reader of `run.json`, and one table of any set of runs.

`read_record(run_dir)` is how the report, the experiment tables and the RunRecord callback itself
read a run's `run.json` (written by `lightning_ae.callbacks.RunRecord`).

    python -m lightning_ae.summary logs/*/*          (or: lightning-ae summary logs/*/*)

prints one table of the runs, whatever their data and model: the run's folder, model class, dataset
(from the run's config.yaml), latent_dim, epochs trained, then the losses (`train/loss`, `val/loss`,
`test/loss`), the MSE and every test metric that at least one of the runs has (PSNR, SSIM, probe
accuracies, a VAE's NLL, a classifier's accuracy, ...); a run without one has a blank cell. Folders
without a run.json are named below the table (files are passed over), then the figures of the runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

RECORD_FILE = "run.json"  # in every run's folder
CONFIG_FILE = "config.yaml"  # LightningCLI's copy of the run's configuration, beside run.json
COLUMNS = ("test/mse", "test/rmse", "test/sq_err_per_image", "test/psnr", "test/ssim")
# the metric columns that come first when a run has them; any other test metric follows, sorted
HEADLINE = ("train/loss", "val/loss", "test/loss", "val/mse", *COLUMNS)
DESCRIPTION = ("run", "model", "dataset", "latent_dim", "epochs")


def read_record(run_dir: str | Path) -> dict | None:
    """The record (`run.json`: metrics per stage, wall time, seed, device, versions) of the run in
    `run_dir`, or None when it has none."""
    path = Path(run_dir) / RECORD_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def load(run_dir: str | Path) -> dict:
    """The record of the run in `run_dir`; exits with a one-line message when it has none."""
    record = read_record(run_dir)
    if record is None:
        raise SystemExit(f"no run record at {Path(run_dir) / RECORD_FILE}: run `lightning-ae fit` and `test` for it first.")
    return record


def dataset(run_dir: str | Path, record: dict) -> str | None:
    """The data the run was trained on: the record's, else its config.yaml's `data.path` / `data.dataset`
    (a config from before datasets had names read MNIST); None when the run says nothing."""
    if record.get("dataset"):
        return str(record["dataset"])
    path = Path(run_dir) / CONFIG_FILE
    try:
        data = (yaml.safe_load(path.read_text()) or {}).get("data") if path.is_file() else None
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    data = data.get("init_args", data)  # a `data: {class_path, init_args}` section
    return str(data.get("path") or data.get("dataset") or "mnist")


def metrics(record: dict) -> dict[str, float]:
    """The run's numbers by name: the fit's last training/validation values, then its test results."""
    fit = record.get("fit", {}).get("metrics", {})
    values = {k: fit[k] for k in ("val/loss", "val/mse") if k in fit}
    train = fit.get("train/loss", fit.get("train/loss_epoch"))  # `train/loss_epoch` in older runs
    if train is not None:
        values["train/loss"] = train
    values.update(record.get("test", {}).get("metrics", {}))
    return values


def row(run_dir: str | Path, record: dict) -> dict[str, object]:
    """The run's cells: its description (DESCRIPTION) and its metrics."""
    hp = record.get("hparams", {})
    latent = hp.get("latent_dim", hp.get("n_components"))
    if latent is None and hp.get("hidden_dims"):  # a Classifier: the width of its last hidden layer
        latent = hp["hidden_dims"][-1]
    epochs = record.get("fit", record.get("test", {})).get("epochs")
    return {"run": str(run_dir), "model": record.get("model"), "dataset": dataset(run_dir, record),
            "latent_dim": latent, "epochs": epochs, **metrics(record)}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def table(run_dirs: list[str]) -> str:
    """One table of the runs in `run_dirs` (see the module's docstring), their figures below it."""
    rows, skipped = [], []
    for d in run_dirs:
        d = Path(d).parent if Path(d).name == RECORD_FILE else d  # logs/*/*/run.json names the runs too
        if not Path(d).is_dir():  # a file a glob like logs/*/* matched (a screenshot, ...)
            continue
        record = read_record(d)
        (rows.append(row(d, record)) if record is not None else skipped.append(str(d)))
    if not rows:
        raise SystemExit(f"no run record ({RECORD_FILE}) in {', '.join(map(str, run_dirs)) or 'no folder given'}: "
                         "give run folders such as logs/ae_2d/run (`lightning-ae fit` writes them).")
    present = {k for r in rows for k in r if k not in DESCRIPTION}
    metric_columns = [c for c in HEADLINE if c in present] + sorted(present - set(HEADLINE))
    columns = [*DESCRIPTION, *metric_columns]
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    text = lambda line: "  ".join(  # noqa: E731  (text columns to the left, numbers to the right)
        v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in enumerate(zip(line, widths))).rstrip()
    lines = [text(columns), *(text(line) for line in cells)]
    if skipped:
        lines.append(f"no {RECORD_FILE} (not a finished run): {', '.join(skipped)}")
    for r in rows:
        lines.extend(f"figure: {png}" for png in sorted((Path(r["run"]) / "figures").glob("*.png")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m lightning_ae.summary RUN_DIR ...` / `lightning-ae summary RUN_DIR ...`."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.split("\n\n", 1)[1].strip())
        return
    try:
        print(table(args))
    except SystemExit as e:
        print(f"lightning-ae summary: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
