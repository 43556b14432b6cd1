"""Render the report (README.md and its figures) from the committed run records alone.

Byte for byte the same on every run over the same records: no clock, sorted inputs, fixed number
formats. Every sentence of the report is written here or in `results.py`/`stats.py`; every number
comes from a record (`reports/runs/`) or, for the "published" column, from `results.py`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from lightning_ae.report.choice_section import choices_section
from lightning_ae.report.curves import CURVE_RECORDS, CURVES, save_png
from lightning_ae.report.records import load_records
from lightning_ae.report.results import (
    RESULTS, SEED_PROTOCOL, SOURCES, TARGETS, TEST_IN_VIEW, TEST_IN_VIEW_NOTE, UNITS, UNRECORDED, Result, Row)
from lightning_ae.report.stale import record_differences, stale_note, stale_section
from lightning_ae.report.stats import RULE, Stats, fmt_stats, verdict

Records = dict[tuple[str, str], list[dict]]


def value(record: dict, stage: str, metric: str) -> float | None:
    v = record.get(stage, {}).get("metrics", {}).get(metric)
    return None if v is None or not math.isfinite(v) else float(v)


def row_stats(records: Records, config: str, version: str, stage: str, metric: str) -> Stats | None:
    values = [value(r, stage, metric) for r in records.get((config, version), [])]
    values = [v for v in values if v is not None]
    return Stats(tuple(values)) if values else None


def declared_split(config: str) -> str:
    return "test" if config in SEED_PROTOCOL else "holdout"


def protocol_cell(row: Row, rows: list[dict]) -> tuple[str, bool]:
    """The row's protocol and whether every record followed it."""
    split = declared_split(row.config)
    text = "holdout" if split == "holdout" else f"test set: {SEED_PROTOCOL[row.config]}"
    if row.config in TEST_IN_VIEW:
        text += f"; **{TEST_IN_VIEW_NOTE}** ({TEST_IN_VIEW[row.config]})"
    used = sorted({str(r.get("val_split")) for r in rows if r.get("val_split") != split})
    if used:
        text += f"; records used val_split {', '.join(used)}"
    return text + stale_note(rows), not used


def metric_cell(row: Row, rows: list[dict]) -> str:
    text = f"`{row.metric}`"
    if row.metric == "test/nll":
        parts = sorted({f"k={r.get('hparams', {}).get('nll_samples')}, "
                        + (f"first {r['hparams']['nll_images']} test images" if r.get("hparams", {}).get("nll_images")
                           else "all test images") for r in rows})
        text += "".join(f" ({p})" for p in parts)
    return text


def result_section(result: Result, records: Records, runs: Path, out: Path) -> list[str]:
    lines = [f"## {result.title}", "", ", ".join(f"`make {t}`" for t in result.targets), ""]
    if result.note:
        lines += [result.note, ""]
    lines += measures_table(result, records)
    if result.rows:
        lines += ["| run | metric | ours: mean ± sample std (seeds) | computed here | published | source | verdict | "
                  "protocol | epochs | fit wall time per seed |", "|---|---|---:|---:|---:|---|---|---|---:|---:|"]
    for row in result.rows:
        rows = records.get((row.config, row.version), [])
        stats = row_stats(records, row.config, row.version, row.stage, row.metric)
        protocol, followed = protocol_cell(row, rows)
        v = verdict(stats, row.published, row.metric, row.lower_is_better)
        if stats is not None and not followed:
            v = "protocol not followed: no verdict"
        computed = row_stats(records, *row.computed[:2], "test", row.computed[2]) if row.computed else None
        ref = f"{fmt_stats(computed)} `{row.computed[0]}`" if row.computed else ""
        epochs = sorted({r.get("fit", {}).get("epochs") for r in rows} - {None})  # none for a test-only record
        walls = [r["fit"]["wall_time_s"] for r in rows if "wall_time_s" in r.get("fit", {})]
        version = "" if row.version == "repro" else f", {row.version}"
        lines.append(
            f"| {row.label} (`configs/{row.config}.yaml`{version}) | {metric_cell(row, rows)} | "
            f"{fmt_stats(stats, row.published)} | {ref} | {row.published or '—'} | "
            f"{SOURCES[row.source] if row.source else ''} | {v} | {protocol} | {', '.join(map(str, epochs))} | "
            f"{f'{math.fsum(walls) / len(walls):.0f} s' if walls else ''} |")
    if result.rows:
        lines += [""] + [f"- `{m}`: {UNITS[m]}" for m in sorted({r.metric for r in result.rows})] + [""]
    for pattern in result.tables:
        if not any(runs.glob(pattern)):
            lines += [f"*No table `{pattern}` among the records yet.*", ""]
        for path in sorted(runs.glob(pattern)):
            lines += [f"From `{rel(path, out)}` (written by the experiment, copied by its make target):", "",
                      path.read_text().strip(), ""]
    lines += references_table(result)
    for config, stem in result.figures:
        target = next((t for t, keys in sorted(TARGETS.items()) if f"{config}/repro" in keys), result.targets[0])
        lines += figure(config, stem, records, runs, out, target)
    for key in result.curves:
        lines += curve(key, records, runs, out, result.targets[0])
    return lines


def curve(key: str, records: Records, runs: Path, out: Path, target: str) -> list[str]:
    """A picture drawn here from the records' per-epoch series (`lightning_ae.report.curves`), into <out>/figures/."""
    drawn = CURVES[key](records, runs)
    if drawn is None:
        return [f"*Figure `{key}`: its records or their per-epoch curves are not there yet (`make {target}`).*", ""]
    fig, note = drawn
    png = save_png(fig, out / "figures" / f"{key}.png")
    sources = ", ".join(f"`{rel(runs / c / 'repro', out)}/`" for c in CURVE_RECORDS[key])
    return [f"![{key}]({rel(png, out)})", "",
            f"*Figure: `{rel(png, out)}`, drawn by `make report` from the per-epoch curves of the records in {sources} "
            f"(TensorBoard scalars of the runs, kept in each record or, for records made before, in its `history/` "
            f"folder).* {note}", ""]


def measures_table(result: Result, records: Records) -> list[str]:
    """The numbers an experiment wrote into its own records (`Result.measures`), mean ± sample std over seeds."""
    if not result.measures:
        return []
    lines = ["| quantity | record | ours: mean ± sample std (seeds) |", "|---|---|---:|"]
    for m in result.measures:
        stats = row_stats(records, m.config, m.version, "test", m.metric)
        f = lambda v: f"{v:.{m.decimals}f}"  # noqa: E731
        cell = "not run" if stats is None else f(stats.mean) + (f" ± {f(stats.std)}" if stats.std is not None else "") + f" (n={stats.n})"
        lines.append(f"| {m.label} | `{m.config}/{m.version}`, `{m.metric}` | {cell} |")
    return lines + [""]


def references_table(result: Result) -> list[str]:
    """Published numbers of other methods (`Result.references`), for scale beside the tables: no verdict."""
    if not result.references:
        return []
    lines = ["Published, a different method (for scale beside the tables above; not a reproduction, no verdict):", "",
             "| reference | published | source |", "|---|---:|---|"]
    lines += [f"| {r.label} | {r.published} | {SOURCES[r.source]} |" for r in result.references]
    return lines + [""]


def rel(path: Path, out: Path) -> str:
    return Path(os.path.relpath(path, out)).as_posix()


def figure(config: str, stem: str, records: Records, runs: Path, out: Path, target: str) -> list[str]:
    """The picture the record's run drew (copied beside the record by `collect`), linked where it lies."""
    png = runs / config / "repro" / "figures" / f"{stem}.png"
    if not png.is_file():
        return [f"*Figure `{stem}` of `{config}`: not made yet (`make {target}`).*", ""]
    first = (records.get((config, "repro")) or [{}])[0]
    return [f"![{config}: {stem}]({rel(png, out)})", "",
            f"*Figure: `{rel(png, out)}`, drawn by the run `{first.get('run_dir', '?')}` "
            f"(seed {first.get('seed', '?')}, commit {str(first.get('commit'))[:10]}).*", ""]


def protocol_section() -> list[str]:
    exceptions = [f"- `configs/{c}.yaml`: {why}" for c, why in sorted(SEED_PROTOCOL.items())]
    in_view = [f"- `configs/{c}.yaml`: {why}" for c, why in sorted(TEST_IN_VIEW.items())]
    return ["## Protocol", "",
            "- Hyperparameters are chosen on the 5,000-image holdout of the training images (`val_split: holdout`); "
            "the test set is scored once, with the final weights (`last.ckpt`), by `lightning-ae test`.",
            "- A config keeps `val_split: test` (all 60,000 training images, validation curves on the test set) only "
            "where its row reproduces a seed's printed number under that seed's own protocol; the config says so in "
            "a comment, the row's protocol cell names it, and a row whose records used another split gets no verdict:",
            *[f"  {e}" for e in exceptions],
            *([f"- Settings {TEST_IN_VIEW_NOTE} (their rows say so):", *[f"  {e}" for e in in_view]] if in_view else
              ["- Settings chosen with the test set in view: none left (each was chosen again on the holdout; "
               "the section below shows every candidate)."]),
            "- Headline rows (those with a published number) run 3 seeds (`SEEDS ?= 0 1 2` in the Makefile, "
            "`--seed_everything N`); other rows 1.",
            f"- Verdict: {RULE}",
            "- *published*: only numbers printed in the named source (seed file or paper and table), as printed. "
            "*computed here*: this project's own number for the reference the row is compared with (mean over its records).",
            ""]


def wall_section(records: Records) -> list[str]:
    def secs(r: dict) -> float:
        fit = r.get("fit", {})
        return fit.get("wall_time_last_process_s", fit.get("wall_time_s", 0.0)) + r.get("test", {}).get("wall_time_s", 0.0)

    lines = ["## How long the reproductions take", "",
             "Sum of the fit and test wall times of the processes that made each record (a fit resumed from another "
             "record's checkpoint counts once: its earlier processes are in that record), over every run and seed "
             "the target makes; process start-up and data loading outside fit and test are not counted. The rows' "
             "*fit wall time per seed* is the whole fit, summed over resumed processes. The devices column says "
             "where: the times are those of the 2-core CPU machine only where it says `cpu` alone.", "",
             "| make target | runs recorded | wall time | devices |", "|---|---:|---:|---|"]
    seen: dict[tuple[str, str, object], float] = {}
    for target, keys in sorted(TARGETS.items()):
        rows = [r for k in keys for r in records.get(tuple(k.split("/")), [])]
        done = sum(1 for k in keys if records.get(tuple(k.split("/"))))
        for r in rows:
            seen[(r["config"], r["version"], r.get("seed"))] = secs(r)
        wall = f"{math.fsum(secs(r) for r in rows) / 60:.1f} min" if rows else "not yet measured"
        if rows and done < len(keys):
            wall += f" (only {done} of {len(keys)} runs recorded)"
        devices = sorted({d for r in rows for d in r.get("devices", [])})
        lines.append(f"| `make {target}` | {len(rows)} | {wall} | {', '.join(devices)} |")
    total = f"{math.fsum(seen.values()) / 3600:.2f} h" if seen else "not yet measured"
    lines += [f"| `make repro` (every run once) | {len(seen)} | {total} | |", "",
              "Not recorded: " + ", ".join(f"`make {t}`" for t in UNRECORDED)
              + " (their classifier runs leave no record; their tables are in the Classifiers section).", ""]
    return lines


def probe_section(records: Records) -> list[str]:
    lines = ["## Representation quality of the codes", "",
             "Every recorded run whose test logged code probes (PCA's rows are the computed-here floor).", "",
             "| run | code size | 5-NN accuracy | linear probe accuracy |", "|---|---:|---:|---:|"]
    for (config, version), rows in sorted(records.items()):
        knn = row_stats(records, config, version, "test", "test/knn_acc")
        probe = row_stats(records, config, version, "test", "test/probe_acc")
        if knn is None and probe is None:
            continue
        hp = rows[0].get("hparams", {})
        size = hp.get("latent_dim", hp.get("n_components", ""))
        lines.append(f"| `{config}` {version} | {size} | {fmt_stats(knn)} | {fmt_stats(probe)} |")
    lines += ["", f"- `test/knn_acc`: {UNITS['test/knn_acc']}", f"- `test/probe_acc`: {UNITS['test/probe_acc']}", ""]
    return lines


def _commits(record: dict) -> str:
    """The record's commit; 'fit X, test Y' where its stages say they ran different code (records since 2026-12-02)."""
    fit, test = (record.get(stage, {}).get("commit") for stage in ("fit", "test"))
    if fit and test and fit != test:
        return f"fit {fit[:10]}, test {test[:10]}"
    return str(record.get("commit"))[:10]


def runs_section(records: Records) -> list[str]:
    lines = ["## The records", "", "One line per run and seed: where its numbers come from; *config*: whether the "
             "values its config file sets now are the run's (`lightning_ae.report.stale`).", "",
             "| record | commit | devices | fit processes | torch | lightning | python | config |",
             "|---|---|---|---:|---|---|---|---|"]
    for (config, version), rows in sorted(records.items()):
        for r in rows:
            ver = r.get("versions", {})
            lines.append(f"| `{config}/{version}/seed{r.get('seed')}.json` | {_commits(r)} | "
                         f"{', '.join(r.get('devices', []))} | {r.get('fit', {}).get('processes', '')} | "
                         f"{ver.get('torch', '')} | {ver.get('lightning', '')} | {ver.get('python', '')} | "
                         f"{config_state(r)} |")
    return lines + [""] + stale_section(records)


def config_state(record: dict) -> str:
    diffs = record_differences(record)
    return "—" if diffs is None else "**stale**" if diffs else "same"


def write_report(runs: str | Path = "reports/runs", out: str | Path = "reports") -> Path:
    runs, out = Path(runs), Path(out)
    records = load_records(runs)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# lightning-ae: the reproductions", "",
             f"Generated by `make report` (`python -m lightning_ae.report`) from the run records in `{rel(runs, out)}/` "
             "alone: do not edit by hand. Each record is written by `make repro-*` when a run's test ends "
             f"(`lightning_ae.report.collect`). {sum(map(len, records.values()))} records; "
             f"rows without one say *not run*.", ""]
    lines += protocol_section() + choices_section(runs) + wall_section(records)
    for result in RESULTS:
        lines += result_section(result, records, runs, out)
    lines += probe_section(records) + runs_section(records)
    path = out / "README.md"
    path.write_text("\n".join(lines))
    return path
