"""`python -m lightning_ae.report.backfill RUN_DIR --version V`: curves for a record made before records held them.

The command line of `lightning_ae.report.history.backfill` (see that module): writes the run's per-epoch
curves beside its record, `<runs>/<config>/<version>/history/seed<N>.json`, leaving the record as it
is. A module of its own, so that `-m` does not run a module the package imports.
"""

from __future__ import annotations

import argparse

from lightning_ae.report.history import backfill


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="the run folder the record was made from (its TensorBoard events)")
    parser.add_argument("--version", required=True, help="the record's version: repro, ...")
    parser.add_argument("--runs", default="reports/runs", help="the records folder (default reports/runs)")
    parser.add_argument("--config", default=None, help="config name (default: the run folder's parent's name)")
    args = parser.parse_args(argv)
    print(f"wrote {backfill(args.run_dir, args.version, args.runs, args.config)}")


if __name__ == "__main__":
    main()
