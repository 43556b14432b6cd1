"""The report's "Choices on the holdout" section: every declared candidate's holdout number and the winner.

Read from the holdout records `make choose-<config>` writes (`lightning_ae.report.choose`); whether
`configs/<config>.yaml` carries the winner is every value the file sets against the winning run's
resolved config (`lightning_ae.report.stale`), the validation split and the run's own keys aside;
tests/test_choices.py checks it exactly, through LightningCLI's resolution of the winner's overrides.
"""

from __future__ import annotations

import math
from pathlib import Path

from lightning_ae.report.choices import CHOICES, SEED, holdout_value, load_choice, slug, winner
from lightning_ae.report.results import TEST_IN_VIEW
from lightning_ae.report.stale import RUN_KEYS, describe, record_differences

CHOICE_IGNORE = (*RUN_KEYS, "data.val_split")  # the candidates run on the holdout; seed-protocol configs keep test


def carries(config: str, record: dict) -> list[tuple[str, object, object]] | None:
    """Where configs/<config>.yaml differs from the winning run (empty: it carries the winner)."""
    return record_differences(record, ignore=(*CHOICE_IGNORE, *CHOICES[config].screen))


def choice_table(config: str, runs: Path) -> list[str]:
    choice = CHOICES[config]
    records = load_choice(runs, config)
    best = winner(config, records)
    screen = (f" Screened on a shorter budget than the config's: every candidate ran with "
              f"`{' '.join(choice.screen_args)}`." if choice.screen else "")
    lines = [f"### `configs/{config}.yaml`: {choice.what}", "",
             f"`make choose-{config}`; lowest `{choice.metric}` on the holdout at the end of the fit wins.{screen}", "",
             f"| candidate | overrides | `{choice.metric}`, holdout | fit wall time | commit | |",
             "|---|---|---:|---:|---|---|"]
    for label, r in records.items():
        if r is None:
            lines.append(f"| {label} | `{' '.join(choice.candidates[label])}` | not run | | | |")
            continue
        v = holdout_value(r, choice.metric)
        wall = r.get("fit", {}).get("wall_time_s")
        extra = f" (with `{' '.join(r['extra_args'])}`)" if r.get("extra_args") else ""
        lines.append(f"| {label}{extra} | `{' '.join(r.get('overrides', []))}` | {'—' if v is None else f'{v:.5g}'} | "
                     f"{'' if wall is None else f'{wall:.0f} s'} | {str(r.get('commit'))[:10]} | "
                     f"{'**chosen**' if label == best else ''} |")
    done = sum(r is not None for r in records.values())
    lines.append("")
    if best is None:
        lines += [f"Not run yet: the setting stays *{TEST_IN_VIEW.get(config, 'as it is')}*.", ""]
        return lines
    diffs = carries(config, records[best])
    state = ("carries it" if not diffs else f"**does not carry it** ({describe(diffs)})") if diffs is not None else "?"
    complete = "every candidate run" if done == len(records) else f"**{done} of {len(records)} candidates run**"
    lines.append(f"Chosen: **{best}** (`{slug(best)}.json`; {complete}). `configs/{config}.yaml` {state}."
                 + (f" Still flagged: {TEST_IN_VIEW[config]}." if config in TEST_IN_VIEW else ""))
    return lines + [""]


def choices_section(runs: str | Path) -> list[str]:
    runs = Path(runs)
    walls = [r["fit"]["wall_time_s"] for c in CHOICES for r in load_choice(runs, c).values()
             if r is not None and "wall_time_s" in r.get("fit", {})]
    lines = ["## Choices on the holdout", "",
             "Settings chosen on the 5,000-image holdout alone: those first chosen with the test set in view, "
             "chosen again, and those of newer configs. Each "
             "candidate declared in `lightning_ae/report/choices.py` is fitted once (seed "
             f"{SEED}: one seed per candidate, so differences of the size of the seed-to-seed spread are not "
             "resolved) with `--data.val_split holdout` by `make choose-<config>`, and never tested; its record is "
             "`runs/<config>/holdout/<candidate>.json`. The lowest holdout number at the end of the fit is chosen, "
             "and `tests/test_choices.py` fails if the config file does not carry it. A config that keeps "
             "`val_split: test` for its published-number row is chosen on the holdout all the same. "
             f"Fit wall time of all candidates run: {math.fsum(walls) / 60:.1f} min.", ""]
    for config in sorted(CHOICES):
        lines += choice_table(config, runs)
    return lines
