"""Print the test metrics of finished runs side by side: `python -m lightning_ae.summary RUN_DIR ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ("test/mse", "test/rmse", "test/sq_err_per_image", "test/psnr", "test/ssim")


def load(run_dir: str | Path) -> dict:
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise SystemExit(f"no run record at {path}: run `lightning-ae fit` and `test` for it first.")
    return json.loads(path.read_text())


def table(run_dirs: list[str]) -> str:
    lines = [f"{'run':<28}" + "".join(f"{c:>24}" for c in ("train/loss",) + COLUMNS)]
    for d in run_dirs:
        record = load(d)
        fit = record.get("fit", {}).get("metrics", {})
        test = record.get("test", {}).get("metrics", {})
        train_mse = fit.get("train/mse", fit.get("train/loss_epoch", float("nan")))  # PCA logs train/mse
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
