"""Choices on the holdout: declared candidates, their records, and configs that carry the winner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import FAST, ROOT
from lightning_ae import report
from lightning_ae.report import choose
from lightning_ae.report.choice_section import carries, choices_section
from lightning_ae.report.choices import CHOICES, SEED, choice_path, holdout_value, load_choice, slug, winner
from lightning_ae.report.records import write_json
from lightning_ae.report.resolve import differences, resolve
from lightning_ae.report.results import TEST_IN_VIEW

RUNS = ROOT / "reports" / "runs"


@pytest.fixture(scope="module")
def resolved():
    """configs/<config>.yaml resolved as `fit` runs it, with and without each candidate's overrides."""
    return {(c, label): resolve(c, over) for c, choice in CHOICES.items()
            for label, over in [(None, ()), *choice.candidates.items()]}


def test_every_choice_is_declared_and_resolves(resolved):
    for config, choice in CHOICES.items():
        assert (ROOT / "configs" / f"{config}.yaml").is_file() and choice.metric.startswith("val/")
        slugs = [slug(label) for label in choice.candidates]
        assert len(set(slugs)) == len(slugs) and not any(s.startswith("seed") for s in slugs)  # not a repro record
        base = resolved[(config, None)]
        # the config as it stands is one of its candidates (the one it carries), and each candidate is a change
        same = [label for label in choice.candidates if not differences(base, resolved[(config, label)])]
        assert len(same) == 1, (config, same)
        assert len({json.dumps(resolved[(config, label)], sort_keys=True) for label in choice.candidates}) == len(slugs)


def test_configs_carry_their_holdout_winner(resolved):
    """A config whose candidates have holdout records holds the winner's values: LightningCLI resolves the
    config with the winner's overrides to exactly what it resolves the config to alone."""
    for config, choice in CHOICES.items():
        records = load_choice(RUNS, config)
        best = winner(config, records)
        if best is None:
            assert config in TEST_IN_VIEW, f"{config}: no holdout record, so still chosen with the test set in view"
            continue
        assert not differences(resolved[(config, None)], resolved[(config, best)]), \
            f"configs/{config}.yaml does not carry its holdout winner {best!r}: {CHOICES[config].candidates[best]}"
        assert carries(config, records[best]) == [], config  # the report's check agrees
        if config not in TEST_IN_VIEW:  # unflagged only once every candidate has run
            assert all(r is not None for r in records.values()), f"{config}: candidates not run yet"


def test_holdout_records_are_holdout_fits_of_the_declared_candidates():
    for config, choice in CHOICES.items():
        for label, r in load_choice(RUNS, config).items():
            if r is None:
                continue
            assert (r["config"], r["version"], r["candidate"], r["seed"]) == (config, "holdout", label, SEED)
            assert r["val_split"] == "holdout" and "test" not in r, (config, label)  # never tested
            assert r["overrides"] == list(choice.candidates[label]) and r["extra_args"] == [], (config, label)
            assert r.get("screen", {}) == choice.screen, (config, label)  # the declared budget, if shorter
            assert r["metric"] == choice.metric and r["holdout"] == holdout_value(r, choice.metric) is not None
            assert r["fit"]["wall_time_s"] > 0 and r["commit"]


def fake(runs: Path, config: str, label: str, value: float, **changes) -> None:
    resolved = yaml.safe_load((ROOT / "configs" / f"{config}.yaml").read_text())
    for key, v in changes.items():
        resolved["optimizer"]["init_args"][key] = v
    write_json(choice_path(runs, config, label), {
        "config": config, "version": "holdout", "seed": SEED, "val_split": "holdout", "candidate": label,
        "overrides": list(CHOICES[config].candidates[label]), "metric": "val/mse", "holdout": value, "extra_args": [],
        "fit": {"metrics": {"val/mse": value}, "wall_time_s": 120.0}, "commit": "0123456789abcdef",
        "resolved_config": resolved})


def test_the_section_shows_every_candidate_and_whether_the_config_carries_the_winner(tmp_path):
    runs = tmp_path / "runs"
    lr = yaml.safe_load((ROOT / "configs" / "ae_2d_25ep.yaml").read_text())["optimizer"]["init_args"]["lr"]
    own = {0.001: "lr 1e-3 cosine", 0.003: "lr 3e-3 cosine", 0.005: "lr 5e-3 cosine"}[lr]  # the file's setting
    other, other_lr = ("lr 5e-3 cosine", 0.005) if own != "lr 5e-3 cosine" else ("lr 1e-3 cosine", 0.001)
    fake(runs, "ae_2d_25ep", other, 0.0361, lr=other_lr)
    fake(runs, "ae_2d_25ep", own, 0.0352)
    text = "\n".join(choices_section(runs))
    assert f"| {own} | `--optimizer.lr {lr} --lr_scheduler" in text and "| 0.0352 | 120 s | 0123456789 | **chosen** |" in text
    assert f"| {other} | `--optimizer.lr {other_lr} " in text and "| 0.0361 | 120 s | 0123456789 |  |" in text
    assert "| lr 1e-3 constant (the post's) | `--optimizer.lr 0.001 --lr_scheduler null` | not run |" in text
    assert f"Chosen: **{own}** (`{slug(own)}.json`; **2 of 4 candidates run**). " \
           "`configs/ae_2d_25ep.yaml` carries it." in text
    fake(runs, "ae_2d_25ep", other, 0.0350, lr=other_lr)  # now the winner: the file does not carry it
    text = "\n".join(choices_section(runs))
    assert f"Chosen: **{other}**" in text
    assert f"**does not carry it** (`optimizer.init_args.lr` {other_lr} in the run, {lr} in the file now)" in text
    assert "Fit wall time of all candidates run: 4.0 min." in text


def test_a_record_of_another_config_is_marked_stale(tmp_path):
    runs, out = tmp_path / "reports" / "runs", tmp_path / "reports"
    current = yaml.safe_load((ROOT / "configs" / "sparse_l1.yaml").read_text())
    old = json.loads(json.dumps(current))
    old["optimizer"]["init_args"]["lr"] = 0.123
    for seed, resolved in ((0, current), (1, old)):
        write_json(runs / "sparse_l1" / "repro" / f"seed{seed}.json", {
            "config": "sparse_l1", "version": "repro", "seed": seed, "val_split": "holdout",
            "test": {"metrics": {"test/mse": 0.01}}, "resolved_config": resolved})
    text = report.write_report(runs, out).read_text()
    assert "**stale: the config file changed since the run** (seed 1: `optimizer.init_args.lr` 0.123 in the run" in text
    assert "| `sparse_l1/repro/seed0.json` |" in text and "| same |" in text and "| **stale** |" in text
    assert "`make REDO=1 reports/runs/sparse_l1/repro/seed1.json`" in text


def test_the_keys_a_make_rule_sets_per_run_are_not_staleness():
    import re

    from lightning_ae.report.stale import RULE_KEYS

    budget = re.search(r"^BURDA_BUDGET \?= (.*)$", (ROOT / "mk" / "vae.mk").read_text(), re.M).group(1)
    flags = {f.replace(".init_args", "") for f in re.findall(r"--([\w.]+)", budget)}
    for config in ("vae_burda", "iwae_burda"):
        assert flags == {k.replace(".init_args", "") for k in RULE_KEYS[config]}


@pytest.mark.processes
def test_choose_fits_a_candidate_on_the_holdout_and_records_it(tmp_path, mnist_dir):
    label = "batch 250, lr 3e-3"
    runs, logs = tmp_path / "runs", tmp_path / "logs"
    extra = [*FAST, "--data.data_dir", str(mnist_dir)]
    choose.main(["sparse_kl", "--runs", str(runs), "--logs", str(logs), "--only", slug(label), "--", *extra])
    path = choice_path(runs, "sparse_kl", label)
    rec = json.loads(path.read_text())
    run = json.loads((logs / "sparse_kl" / f"holdout_{slug(label)}" / "run.json").read_text())
    assert rec["holdout"] == run["fit"]["metrics"]["val/mse"] and 0 < rec["holdout"] < 1
    assert rec["val_split"] == "holdout" and "test" not in rec and "test" not in run  # fitted, never tested
    assert (rec["seed"], rec["candidate"], rec["extra_args"]) == (SEED, label, extra)
    cfg = rec["resolved_config"]
    assert cfg["data"]["batch_size"] == 250 and cfg["optimizer"]["init_args"]["lr"] == 0.003
    assert rec["process_wall_time_s"] > rec["fit"]["wall_time_s"] > 0
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # the one candidate asked for
    shutil.rmtree(logs / "sparse_kl")
    choose.main(["sparse_kl", "--runs", str(runs), "--logs", str(logs), "--only", label])  # recorded: not fitted again
    assert not (logs / "sparse_kl").exists()
