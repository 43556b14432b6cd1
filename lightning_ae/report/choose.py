"""`make choose-<config>`: fit every declared candidate of a config on the holdout and record it.

    python -m lightning_ae.report.choose CONFIG [--runs reports/runs] [--logs logs] [--only LABEL ...] [--redo]

For each candidate of `lightning_ae.report.choices.CHOICES[CONFIG]` without a record (all of them with
--redo), one at a time: `lightning-ae fit --config configs/CONFIG.yaml --seed_everything 0 <overrides>
<screen> --data.val_split holdout` into `<logs>/CONFIG/holdout_<slug>` (never `test`), then the run's record
(`lightning_ae.report.records.condense`: fit metrics, resolved config, seed, commit, fit wall time)
with the candidate, its overrides, the holdout metric at the end of the fit and the whole process's
wall time, in `<runs>/CONFIG/holdout/<slug>.json`. Arguments after `--` go to every fit (a short
budget for a smoke test); the record keeps them (`extra_args`), and the report names them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lightning_ae.config_files import configs_dir
from lightning_ae.report.choices import CHOICES, SEED, VERSION, choice_path, holdout_value, slug
from lightning_ae.report.records import RUNS, condense, write_json


def fit_command(config: str, label: str, logs: str | Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "lightning_ae", "fit", "--config", str(configs_dir() / f"{config}.yaml"),
            "--seed_everything", str(SEED), "--trainer.logger.init_args.save_dir", str(logs),
            "--trainer.logger.init_args.version", f"{VERSION}_{slug(label)}", "--trainer.enable_progress_bar", "false",
            *CHOICES[config].candidates[label], *CHOICES[config].screen_args, "--data.val_split", VERSION, *extra]


def run_candidate(config: str, label: str, runs: str | Path, logs: str | Path, extra: list[str]) -> Path:
    run_dir = Path(logs) / config / f"{VERSION}_{slug(label)}"
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = fit_command(config, label, logs, extra)
    print(f"[choose] {config}: {label}\n  {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    record = condense(run_dir, config, VERSION)
    if record["val_split"] != VERSION:
        raise RuntimeError(f"{run_dir}: val_split {record['val_split']!r}, not the holdout")
    metric = CHOICES[config].metric
    record.update(candidate=label, overrides=list(CHOICES[config].candidates[label]), metric=metric,
                  holdout=holdout_value(record, metric), process_wall_time_s=wall, extra_args=list(extra),
                  screen=dict(CHOICES[config].screen))
    path = choice_path(runs, config, label)
    write_json(path, record)
    print(f"[choose] {config}: {label}: {metric} {record['holdout']} on the holdout, "
          f"fit {record.get('fit', {}).get('wall_time_s', 0):.0f} s, process {wall:.0f} s -> {path}", flush=True)
    return path


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", choices=sorted(CHOICES))
    parser.add_argument("--runs", default=str(RUNS), help="the records folder (default reports/runs)")
    parser.add_argument("--logs", default="logs", help="the runs' save_dir (default logs)")
    parser.add_argument("--only", nargs="+", default=None, help="these candidates (labels or slugs) alone")
    parser.add_argument("--redo", action="store_true", help="fit candidates that already have a record again")
    args = parser.parse_args(argv)
    labels = list(CHOICES[args.config].candidates)
    if args.only:
        unknown = set(args.only) - set(labels) - {slug(label) for label in labels}
        if unknown:
            parser.error(f"no candidate {sorted(unknown)} for {args.config}; candidates: {labels}")
        labels = [label for label in labels if label in args.only or slug(label) in args.only]
    for label in labels:
        if args.redo or not choice_path(args.runs, args.config, label).is_file():
            run_candidate(args.config, label, args.runs, args.logs, extra)


if __name__ == "__main__":
    main()
