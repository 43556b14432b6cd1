"""`python -m lightning_ae.report.collect RUN_DIR --version V`: a finished run's committed record.

The command line of `lightning_ae.report.records.collect` (see that module); `make repro-*` runs it
after every test. A module of its own, so that `-m` does not run a module the package imports.
"""

from __future__ import annotations

import argparse

from lightning_ae.report.records import RUNS, collect


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a finished run's folder (holding run.json and config.yaml)")
    parser.add_argument("--version", required=True, help="the record's version: repro, repro_pretrain_only, eval_masking, ...")
    parser.add_argument("--runs", default=str(RUNS), help="the records folder (default reports/runs)")
    parser.add_argument("--config", default=None, help="config name (default: the run folder's parent's name)")
    args = parser.parse_args(argv)
    print(f"wrote {collect(args.run_dir, args.version, args.runs, args.config)}")


if __name__ == "__main__":
    main()
