"""A run's per-epoch curves, kept with its record: the report draws them from the records alone.

`read_history(run_dir)` reads the epoch-level scalars a fit wrote to TensorBoard (`train/<term>` at
each epoch's end, `val/<metric>` after each validation; not `train/batch_loss`, nor `val/psnr` and
`val/rmse`, functions of `val/mse`) from the run's event
files and returns them compactly: {"epoch": [1, 2, ...], "step": [...], "series": {tag: [value per
epoch, None where not logged]}}, values to 6 significant digits. `collect` stores it in every new
record (`record["history"]`).

Records made before that keep their bytes; for them

    python -m lightning_ae.report.backfill RUN_DIR --version repro [--runs reports/runs]

writes the curves beside the record, `<runs>/<config>/<version>/history/seed<N>.json`, only if the run
folder is the record's (`run_dir`) and its last epoch's values are the record's fit metrics.
`history_of(runs, record)` returns either.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator


SKIP = {"train/batch_loss", "val/psnr", "val/rmse"}  # single batches; functions of val/mse


def compact(v: float) -> float | None:
    return float(f"{v:.6g}") if math.isfinite(v) else None


def read_history(run_dir: str | Path) -> dict | None:
    """The fit's per-epoch `train/*` and `val/*` scalars from the run's TensorBoard events (None without any)."""
    by_tag: dict[str, dict[int, float]] = {}
    epoch_at: dict[int, int] = {}
    for path in sorted(Path(run_dir).glob("events.out.tfevents.*")):  # a resumed fit: later files win
        acc = EventAccumulator(str(path), size_guidance={SCALARS: 0})
        acc.Reload()
        tags = acc.Tags().get(SCALARS, [])
        for tag in tags:
            if tag == "epoch":
                epoch_at.update({e.step: int(e.value) + 1 for e in acc.Scalars(tag)})
            elif tag.startswith(("train/", "val/")) and tag not in SKIP:
                by_tag.setdefault(tag, {}).update({e.step: e.value for e in acc.Scalars(tag)})
    steps = sorted({s for values in by_tag.values() for s in values})
    if not steps:
        return None
    return {"step": steps, "epoch": [epoch_at.get(s) for s in steps],
            "series": {tag: [compact(values[s]) if s in values else None for s in steps]
                       for tag, values in sorted(by_tag.items())}}


def last_values(history: dict) -> dict[str, float]:
    """Each series' last logged value."""
    return {tag: next(v for v in reversed(values) if v is not None) for tag, values in history["series"].items()
            if any(v is not None for v in values)}


def side_path(runs: Path, record: dict) -> Path:
    from lightning_ae.report.records import record_path  # records imports this module

    return record_path(runs, record["config"], record["version"], record["seed"]).parent / "history" / f"seed{record['seed']}.json"


def history_of(runs: str | Path, record: dict) -> dict | None:
    """The record's curves: in the record, else in its side file (if that names the record's run folder)."""
    if record.get("history"):
        return record["history"]
    path = side_path(Path(runs), record)
    if not path.is_file():
        return None
    side = json.loads(path.read_text())
    return side["history"] if side.get("run_dir") == record.get("run_dir") else None


def backfill(run_dir: str | Path, version: str, runs: str | Path = "reports/runs", config: str | None = None) -> Path:
    """Write the side file of the record already made from `run_dir` (see the module docstring)."""
    from lightning_ae.report.records import write_json
    run_dir = Path(run_dir)
    config = config or run_dir.parent.name
    candidates = sorted((Path(runs) / config / version).glob("seed*.json"))
    records = [json.loads(p.read_text()) for p in candidates]
    record = next((r for r in records if Path(r.get("run_dir", "")) == run_dir), None)
    if record is None:
        raise SystemExit(f"no record in {Path(runs) / config / version} was made from {run_dir}")
    history = read_history(run_dir)
    if history is None:
        raise SystemExit(f"{run_dir} holds no TensorBoard scalars of a fit")
    fit = record.get("fit", {}).get("metrics", {})
    last = last_values(history)
    wrong = [t for t, v in last.items() if t in fit and not math.isclose(v, fit[t], rel_tol=1e-5)]
    if wrong or not set(last) & set(fit):
        raise SystemExit(f"{run_dir}'s events are not the record's run: last epoch {wrong or sorted(last)} "
                         f"differ from the record's fit metrics")
    path = side_path(Path(runs), record)
    write_json(path, {"config": config, "version": version, "seed": record["seed"], "run_dir": record["run_dir"],
                      "history": history})
    return path
