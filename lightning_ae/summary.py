"""Finished runs' records: the one reader of `run.json`, and their test metrics side by side.

`read_record(run_dir)` is how the report, the experiment tables and the RunRecord callback itself
read a run's `run.json` (written by `lightning_ae.callbacks.RunRecord`).
`python -m lightning_ae.summary RUN_DIR ...` prints the test metrics of finished runs side by side.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RECORD_FILE = "run.json"  # in every run's folder
COLUMNS = ("test/mse", "test/rmse", "test/sq_err_per_image", "test/psnr", "test/ssim")


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


def table(run_dirs: list[str]) -> str:
    lines = [f"{'run':<28}" + "".join(f"{c:>24}" for c in ("train/loss",) + COLUMNS)]
    for d in run_dirs:
        record = load(d)
        fit = record.get("fit", {}).get("metrics", {})
        test = record.get("test", {}).get("metrics", {})
        # PCA logs train/mse; the others their epoch loss, `train/loss` (`train/loss_epoch` in older runs)
        train_mse = fit.get("train/mse", fit.get("train/loss", fit.get("train/loss_epoch", float("nan"))))
        cells = [train_mse] + [test.get(c, float("nan")) for c in COLUMNS]
        lines.append(f"{str(d):<28}" + "".join(f"{v:>24.4f}" for v in cells))
    for d in run_dirs:  # the variant's own test numbers: ELBO/NLL, probe accuracies, sparsity, ...
        test = load(d).get("test", {}).get("metrics", {})
        extra = {k: v for k, v in sorted(test.items()) if k not in COLUMNS and k != "test/loss"}
        if extra:
            lines.append(f"{str(d):<28}" + "  ".join(f"{k}={v:.4f}" for k, v in extra.items()))
    for d in run_dirs:
        for png in sorted((Path(d) / "figures").glob("*.png")):
            lines.append(f"figure: {png}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1:]))
