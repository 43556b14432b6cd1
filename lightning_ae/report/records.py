"""The committed run records: one small JSON file per reproduction run and seed.

    python -m lightning_ae.report.collect RUN_DIR --version repro [--runs reports/runs]

condenses a finished run's `run.json` (written by the RunRecord callback), its `config.yaml`
(LightningCLI's resolved configuration) and its TensorBoard events into
`<runs>/<config>/<version>/seed<N>.json`: the fit and test metrics, epochs and wall times (the fit's
summed over resumed processes), the seed, commit, devices, library versions, the resolved config and
the per-epoch curves (`lightning_ae.report.history`); and copies the run's figures that the report
shows (`lightning_ae.report.results.RESULTS`) to `<runs>/<config>/<version>/figures/` from the
lowest seed. `make repro-*` runs it after every test; `make report` reads only these records.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import yaml

from lightning_ae.report.history import read_history
from lightning_ae.report.results import RESULTS
from lightning_ae.summary import CONFIG_FILE, load

RUNS = Path("reports") / "runs"
STAGE_KEYS = ("metrics", "wall_time_s", "wall_time_last_process_s", "epochs", "global_step", "processes", "devices",
              "commit")  # the code each stage ran: a fit and its test may run different commits


def record_path(runs: Path, config: str, version: str, seed: int) -> Path:
    return Path(runs) / config / version / f"seed{seed}.json"


def condense(run_dir: Path, config: str, version: str) -> dict:
    """The record of the run in `run_dir` (see the module docstring)."""
    run = load(run_dir)
    cfg_path = run_dir / CONFIG_FILE
    resolved = yaml.safe_load(cfg_path.read_text()) if cfg_path.is_file() else None
    data = (resolved or {}).get("data") or {}
    data = data.get("init_args", data) if isinstance(data, dict) else {}
    fit_devices = run.get("fit", {}).get("devices") or []
    return {
        "config": config, "version": version, "seed": run.get("seed"), "run_dir": str(run_dir),
        "val_split": data.get("val_split"),
        **{stage: {k: run[stage][k] for k in STAGE_KEYS if k in run[stage]} for stage in ("fit", "test") if stage in run},
        "devices": list(dict.fromkeys([*fit_devices, *([run["device"]] if run.get("device") else [])])),
        "model": run.get("model"), "hparams": run.get("hparams", {}), "commit": run.get("commit"),
        "versions": run.get("versions", {}), "precision": run.get("precision"), "world_size": run.get("world_size"),
        "resolved_config": resolved,
        "history": read_history(run_dir),  # per-epoch curves, for the report's pictures
    }


def write_json(path: Path, obj: object) -> None:
    """Sorted keys, fixed indentation, written atomically (a parallel make never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def collect(run_dir: str | Path, version: str, runs: str | Path = RUNS, config: str | None = None) -> Path:
    """Write the record of the run in `run_dir` (config: the run folder's parent's name) and copy its figures."""
    run_dir = Path(run_dir)
    config = config or run_dir.parent.name
    record = condense(run_dir, config, version)
    seed = record["seed"] if isinstance(record["seed"], int) else -1
    path = record_path(Path(runs), config, version, seed)
    write_json(path, record)
    seeds = sorted(int(p.stem[4:]) for p in path.parent.glob("seed*.json") if p.stem[4:].lstrip("-").isdigit())
    if seeds and seed == seeds[0]:  # the lowest seed's pictures
        for stem in sorted({s for r in RESULTS for c, s in r.figures if c == config}):
            png = run_dir / "figures" / f"{stem}.png"
            if png.is_file():
                dest = path.parent / "figures" / png.name
                dest.parent.mkdir(exist_ok=True)
                tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
                shutil.copyfile(png, tmp)
                tmp.replace(dest)
    return path


def load_records(runs: str | Path) -> dict[tuple[str, str], list[dict]]:
    """Every record under `runs`, by (config, version), sorted by seed."""
    out: dict[tuple[str, str], list[dict]] = {}
    for path in sorted(Path(runs).glob("*/*/seed*.json")):
        record = json.loads(path.read_text())
        record.setdefault("seed", None)
        out.setdefault((path.parent.parent.name, path.parent.name), []).append(record)
    for records in out.values():
        records.sort(key=lambda r: (r["seed"] is None, r["seed"] if isinstance(r["seed"], int) else 0))
    return out

