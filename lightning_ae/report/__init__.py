"""`make report`: every reproduction's numbers beside the published ones, from committed run records.

    python -m lightning_ae.report [--runs reports/runs] [--out reports]

reads only the run records under `--runs` (one JSON file per run and seed, written by `make repro-*`
through `python -m lightning_ae.report.collect`) and writes `<out>/README.md`, byte for byte the
same over the same records; its figures are the ones `collect` copied beside the records. What it
shows is set in `results.py` (rows, published numbers and their sources, the protocol) and
`stats.py` (the one verdict rule).
"""

from __future__ import annotations

import argparse

from lightning_ae.report.records import collect, load_records
from lightning_ae.report.render import write_report
from lightning_ae.report.results import RESULTS, SEED_PROTOCOL, SOURCES, TARGETS, TEST_IN_VIEW, UNITS, Result, Row
from lightning_ae.report.stats import Stats, published_value, verdict

__all__ = ["RESULTS", "SEED_PROTOCOL", "SOURCES", "TARGETS", "TEST_IN_VIEW", "UNITS", "Result", "Row", "Stats",
           "collect", "load_records", "main", "published_value", "verdict", "write_report"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="reports/runs", help="the run records (make repro-* writes them)")
    parser.add_argument("--out", default="reports", help="folder of the report's README.md")
    args = parser.parse_args(argv)
    path = write_report(args.runs, args.out)
    missing = path.read_text().count("| not run |")
    print(f"wrote {path}" + (f" ({missing} rows not run yet)" if missing else ""))
