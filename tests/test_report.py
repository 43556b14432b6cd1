"""The report: rendered from run records alone, byte for byte; one verdict rule; sources and protocol checked."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import FAST, ROOT
from lightning_ae import report
from lightning_ae.report import stats
from lightning_ae.report.records import write_json

SEEDS_DIR = ROOT.parent / "shared" / "seeds"
# numbers printed in the papers the paper sources name (Hinton & Salakhutdinov 2006 Fig. 2 and text;
# Burda et al. 2016 Table 1, one stochastic layer: VAE k=1 86.76, IWAE k=5 85.54, k=50 84.78;
# Srivastava et al. 2014 Table 2: 1.06 for 3 x 1024 ReLU with max-norm, 0.92 for DBN + dropout finetuning;
# Kingma et al. 2014 Table 1, M1 + TSVM: 11.82 (100 labels), 4.24 (1,000 labels))
PAPER_NUMBERS = {"hs2006": {"3.00", "13.87"}, "hs2006_cls": {"1.2%"}, "burda": {"86.76", "85.54", "84.78"},
                 "srivastava": {"1.06%"}, "srivastava_dbn": {"0.92%"}, "kingma2014": {"11.82%", "4.24%"}}


def find_row(config: str, metric: str, published: str | None = None, version: str = "repro") -> report.Row:
    rows = [row for result in report.RESULTS for row in result.rows
            if (row.config, row.metric, row.version) == (config, metric, version)
            and (published is None or row.published == published)]
    assert len(rows) == 1, rows
    return rows[0]


def cells(text: str, row: report.Row) -> list[str]:
    """run, metric, ours, computed here, published, source, verdict, protocol, epochs, fit wall time."""
    version = "" if row.version == "repro" else f", {row.version}"
    start = f"| {row.label} (`configs/{row.config}.yaml`{version}) | "
    lines = [line for line in text.splitlines() if line.startswith(start + f"`{row.metric}`")
             and f"| {row.published or '—'} |" in line]
    assert len(lines) == 1, (start, lines)
    return [c.strip() for c in lines[0].split("|")[1:-1]]


def record(runs: Path, config: str, seed: int, test: dict, fit: dict | None = None, version: str = "repro",
           val_split: str | None = None, **extra) -> None:
    split = val_split or ("test" if config in report.SEED_PROTOCOL else "holdout")
    rec = {"config": config, "version": version, "seed": seed, "run_dir": f"logs/{config}/{version}_seed{seed}",
           "val_split": split, "test": {"metrics": test, "wall_time_s": 1.0, "epochs": 5},
           "devices": ["cpu"], "commit": "0123456789abcdef", "versions": {"torch": "2.6.0", "lightning": "2.6.0"},
           **extra}
    if fit is not None:
        rec["fit"] = {"epochs": 5, "processes": 1, "devices": ["cpu"], **fit}
    write_json(runs / config / version / f"seed{seed}.json", rec)


def test_the_verdict_rule():
    s = stats.Stats((0.0390, 0.0392, 0.0394))
    assert s.n == 3 and s.mean == pytest.approx(0.0392) and s.std == pytest.approx(0.0002)  # sample std (n - 1)
    assert s.se == pytest.approx(0.0002 / 3 ** 0.5)
    assert stats.verdict(s, "0.0407", "test/mse") == "beats"  # gap 0.0015 > 2 SE + 0.00005
    assert stats.verdict(s, "0.0380", "test/mse") == "misses"
    assert stats.verdict(s, "0.0393", "test/mse") == "within noise"  # gap 0.0001 < 2 SE (0.00023) + 0.00005
    # the printed number's rounding: 0.056 is known to +-0.0005, so a constant 0.0556 is within it
    same = stats.Stats((0.0556, 0.0556, 0.0556))
    assert stats.verdict(same, "0.056", "train/mse") == "within noise"
    assert stats.verdict(same, "0.0560", "train/mse") == "beats"  # printed with 4 digits: +-0.00005
    assert stats.verdict(stats.Stats((0.0390,)), "0.0407", "test/mse") == "1 seed: no verdict"
    assert stats.verdict(s, None, "test/mse") == "" and stats.verdict(None, "0.0407", "test/mse") == "not run"
    # higher is better; a printed test error "1.2%" for an accuracy is 0.988 +- 0.0005
    assert stats.published_value("1.2%", "test/acc") == pytest.approx((0.988, 0.0005))
    assert stats.published_value("13.87", "test/sq_err_per_image") == pytest.approx((13.87, 0.005))
    acc = stats.Stats((0.9870, 0.9874, 0.9878))
    assert stats.verdict(acc, "1.2%", "test/acc", lower_is_better=False) == "within noise"
    assert stats.verdict(stats.Stats((0.9890, 0.9892, 0.9894)), "1.2%", "test/acc", lower_is_better=False) == "beats"
    assert stats.fmt_stats(s, "0.0407") == "0.03920 ± 0.00020 (n=3)"


def test_report_from_records_is_byte_identical_and_right(tmp_path, monkeypatch):
    runs, out = tmp_path / "reports" / "runs", tmp_path / "reports"
    # a setting still chosen with the test set in view (none is, today): its row and the protocol say so
    monkeypatch.setitem(report.TEST_IN_VIEW, "hinton_30d", "weight decay set after test errors 2.80, 2.65")
    for seed, (ae, pca_train) in enumerate([(0.0390, 0.0556), (0.0392, 0.0556), (0.0394, 0.0556)]):
        record(runs, "ae_2d", seed, {"test/mse": ae}, {"metrics": {}, "wall_time_s": 40.0, "wall_time_last_process_s": 40.0})
        record(runs, "pca_2d", seed, {"test/mse": 0.0557, "test/knn_acc": 0.42},
               {"metrics": {"train/mse": pca_train}, "wall_time_s": 5.0, "wall_time_last_process_s": 5.0})
    record(runs, "hinton_30d", 0, {"test/sq_err_per_image": 2.70}, {"metrics": {}, "wall_time_s": 1500.0})
    for seed in (0, 1):  # a record made under another split than the config declares: no verdict
        record(runs, "dae_784_10", seed, {"test/rmse": 0.25 + seed / 100}, val_split="holdout")
    record(runs, "vae_20d", 0, {"test/nll": 94.0}, hparams={"nll_samples": 5000, "nll_images": 1000})
    (runs / "ae_2d" / "repro" / "figures").mkdir(parents=True)
    (runs / "ae_2d" / "repro" / "figures" / "recon_grid.png").write_bytes(b"\x89PNG fake")
    (runs / "pretrain_classifier").mkdir()
    (runs / "pretrain_classifier" / "table_greedy_stacked_lr0.01.md").write_text("| labels | random |\n|---|---|\n| 100 | 0.757 |\n")

    first = report.write_report(runs, out).read_bytes()
    second = report.write_report(runs, out).read_bytes()
    assert first == second
    text = first.decode()

    ae = cells(text, find_row("ae_2d", "test/mse", "0.0407"))
    assert ae[2:7] == ["0.03920 ± 0.00020 (n=3)", "0.0557 ± 0.0000 (n=3) `pca_2d`", "0.0407", report.SOURCES["seed000"], "beats"]
    assert ae[7].startswith("test set: seed 000") and ae[8:] == ["5", "40 s"]
    assert cells(text, find_row("ae_2d", "test/mse", "0.0403"))[6] == "beats"
    pca = cells(text, find_row("pca_2d", "train/mse"))
    assert pca[2] == "0.0556 ± 0.0000 (n=3)" and pca[4:7] == ["0.056", report.SOURCES["seed000"], "within noise"]
    assert cells(text, find_row("pca_2d", "test/mse"))[4:7] == ["—", "", ""]  # nothing published: no verdict
    hinton = cells(text, find_row("hinton_30d", "test/sq_err_per_image"))
    assert hinton[2] == "2.700 (n=1)" and hinton[6] == "1 seed: no verdict"
    assert "chosen with the test set in view; to be re-chosen on the holdout" in hinton[7]
    assert "- `configs/hinton_30d.yaml`: weight decay set after test errors 2.80, 2.65" in text  # the protocol's list
    dae = cells(text, find_row("dae_784_10", "test/rmse"))
    assert dae[6] == "protocol not followed: no verdict" and "records used val_split holdout" in dae[7]
    assert cells(text, find_row("vae_20d", "test/nll"))[1] == "`test/nll` (k=5000, first 1000 test images)"
    assert cells(text, find_row("ae_2d_25ep", "test/mse"))[2:7] == ["—", "— `pca_9`", "0.0359", report.SOURCES["seed001"], "not run"]
    # wall time per make target: fit + test of every record it makes, "not yet measured" without any
    assert "| `make repro-pca-vs-ae` | 6 | 2.4 min | cpu |" in text  # 3 x (40 + 1) + 3 x (5 + 1) s
    assert "| `make repro-linear` | 3 | 0.3 min (only 1 of 2 runs recorded) | cpu |" in text
    assert "| `make repro-tied` | 0 | not yet measured |  |" in text
    # the figure beside the record is shown and credited; one not made says so
    assert "![ae_2d: recon_grid](runs/ae_2d/repro/figures/recon_grid.png)" in text
    assert "*Figure: `runs/ae_2d/repro/figures/recon_grid.png`, drawn by the run `logs/ae_2d/repro_seed0` (seed 0" in text
    assert "*Figure `latent_scatter` of `ae_2d`: not made yet (`make repro-pca-vs-ae`).*" in text
    # an experiment's table, copied among the records by its make target, is shown as it is
    assert ("From `runs/pretrain_classifier/table_greedy_stacked_lr0.01.md` (written by the experiment, copied by its "
            "make target):\n\n| labels | random |\n|---|---|\n| 100 | 0.757 |\n") in text
    assert "| `pca_2d` repro |  | — | — |" not in text and "0.4200 ± 0.0000 (n=3)" in text  # probe section


def test_committed_report_is_what_the_committed_records_render(tmp_path):
    """`make report` on a fresh clone regenerates reports/README.md identically (its figures lie beside the records)."""
    runs = ROOT / "reports" / "runs"
    if runs.is_dir():
        shutil.copytree(runs, tmp_path / "reports" / "runs")
    path = report.write_report(tmp_path / "reports" / "runs", tmp_path / "reports")
    assert path.read_bytes() == (ROOT / "reports" / "README.md").read_bytes(), "run `make report` and commit the result"


def test_val_split_test_only_where_a_seed_protocol_says_so():
    for cfg in sorted((ROOT / "configs").glob("*.yaml")):
        text = cfg.read_text()
        data = (yaml.safe_load(text) or {}).get("data") or {}
        split = data.get("init_args", data).get("val_split", "holdout")
        if cfg.stem in report.SEED_PROTOCOL:
            assert split == "test", cfg
            line = next(line for line in text.splitlines() if re.match(r"\s*val_split:", line))
            assert re.search(r"#.*seed 00\d's protocol", line), (cfg, line)
        else:
            assert split == "holdout", f"{cfg}: val_split test without a seed's protocol (results.SEED_PROTOCOL)"


def test_every_row_names_a_config_a_unit_and_a_source():
    for result in report.RESULTS:
        for row in result.rows:
            assert (ROOT / "configs" / f"{row.config}.yaml").is_file(), row
            assert row.metric in report.UNITS, row
            assert (row.published is None) == (row.source is None), row
            assert row.source is None or row.source in report.SOURCES, row
            assert f"{row.config}/{row.version}" in {k for keys in report.TARGETS.values() for k in keys}, row


def test_published_numbers_are_printed_in_their_sources():
    for result in report.RESULTS:
        for row in result.rows:
            if row.source in PAPER_NUMBERS:
                assert row.published in PAPER_NUMBERS[row.source], row
        for ref in result.references:  # other methods' numbers, shown for scale: paper sources only
            assert ref.published in PAPER_NUMBERS[ref.source], ref
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seed texts are not at {SEEDS_DIR}")
    from lightning_ae.report.results import SEED_FILES
    for result in report.RESULTS:
        for row in result.rows:
            if row.source in SEED_FILES:
                text = next(SEEDS_DIR.glob(f"{SEED_FILES[row.source]}*.txt")).read_text()
                assert re.search(rf"(?<![\d.]){re.escape(row.published)}(?!\d)", text), row
            else:
                assert row.source is None or row.source in PAPER_NUMBERS, row


def test_the_report_targets_are_the_makefiles():
    made = set()
    for mk in (ROOT / "mk").glob("*.mk"):
        made |= set(re.findall(r"^(repro-[a-z0-9-]+):", mk.read_text(), re.M))
    assert set(report.TARGETS) <= made
    assert made - set(report.TARGETS) == set(report.results.UNRECORDED)


def test_a_real_run_becomes_a_record_and_a_row(run_cli, tmp_path):
    cfg = str(ROOT / "configs" / "pca_2d.yaml")
    run_dir = tmp_path / "logs" / "pca_2d" / "repro_seed3"
    for sub in ("fit", "test"):
        args = [sub, "--config", cfg, "--seed_everything", "3", "--trainer.logger.init_args.version", "repro_seed3",
                "--probes.enabled", "false"]
        run_cli(*args, *(["--ckpt_path", str(run_dir / "checkpoints" / "last.ckpt")] if sub == "test" else []))
    runs, out = tmp_path / "reports" / "runs", tmp_path / "reports"
    path = report.collect(run_dir, "repro", runs)
    assert path == runs / "pca_2d" / "repro" / "seed3.json"
    rec = json.loads(path.read_text())
    run = json.loads((run_dir / "run.json").read_text())
    assert (rec["config"], rec["version"], rec["seed"], rec["val_split"]) == ("pca_2d", "repro", 3, "test")
    assert rec["test"]["metrics"]["test/mse"] == run["test"]["metrics"]["test/mse"]
    assert rec["resolved_config"]["seed_everything"] == 3 and rec["fit"]["processes"] == 1
    assert rec["devices"] == ["cpu"] and rec["fit"]["devices"] == ["cpu"] and rec["versions"]["torch"]
    mse = rec["test"]["metrics"]["test/mse"]
    assert 0.045 < mse < 0.060  # PCA-2 on the CLI's short slice, near the full-data 0.0557

    text = report.write_report(runs, out).read_text()
    assert cells(text, find_row("pca_2d", "test/mse"))[2] == f"{mse:.4f} (n=1)"
    assert cells(text, find_row("pca_2d", "train/mse"))[6] == "1 seed: no verdict"
    assert cells(text, find_row("ae_2d", "test/mse", "0.0407"))[6] == "not run"


def test_a_resumed_fit_records_the_wall_time_of_all_its_processes(run_cli, tmp_path):
    import torch

    cfg = str(ROOT / "configs" / "linear_2d.yaml")
    logs = tmp_path / "logs" / "linear_2d"
    run_cli("fit", "--config", cfg, "--trainer.logger.init_args.version", "first", "--probes.enabled", "false")
    ckpt = logs / "first" / "checkpoints" / "last.ckpt"
    saved = next(v for k, v in torch.load(ckpt, weights_only=True)["callbacks"].items() if "RunRecord" in k)
    assert saved["processes"] == 1 and saved["devices"] == ["cpu"] and saved["fit_wall_time_s"] > 0
    at = FAST.index("--trainer.max_epochs")  # FAST trains 1 epoch: the same slice, 2 epochs
    two_epochs = [*FAST[:at], *FAST[at + 2:], "--trainer.max_epochs", "2"]
    run_cli("fit", "--config", cfg, "--trainer.logger.init_args.version", "resumed", "--probes.enabled", "false",
            "--ckpt_path", str(ckpt), *two_epochs, fast=False)
    fit = json.loads((logs / "resumed" / "run.json").read_text())["fit"]
    assert fit["processes"] == 2 and fit["epochs"] == 2
    assert fit["wall_time_s"] == pytest.approx(saved["fit_wall_time_s"] + fit["wall_time_last_process_s"])
    assert fit["wall_time_s"] > fit["wall_time_last_process_s"] > 0


def test_headline_rows_and_only_they_run_every_seed():
    """A row with a published number runs SEEDS (3 seeds); the mk files give the others SEED0 alone."""
    text = "\n".join(mk.read_text() for mk in sorted((ROOT / "mk").glob("*.mk")))
    every_seed = set(re.findall(r"\$\(call records,(\w+)\)", text))
    blog = re.search(r"^DAE_BLOG := (.*)$", text, re.M).group(1).split()
    assert "$(foreach c,$(DAE_BLOG),$(call records,$(c)))" in text
    every_seed |= set(blog)
    one_seed = set(re.findall(r"\$\(call records,(\w+),\$\(SEED0\)\)", text))
    headline = {row.config for result in report.RESULTS for row in result.rows if row.published}
    assert every_seed == headline and not every_seed & one_seed


def test_reference_rows_are_rendered_as_a_different_method_without_verdict(tmp_path):
    """Kingma et al.'s M1 + TSVM beside the few-label pretraining tables: labelled, sourced, no verdict column."""
    text = report.write_report(tmp_path / "reports" / "runs", tmp_path / "reports").read_text()
    section = text[text.index("## Classifiers"):]
    section = section[:section.index("\n## ")]
    assert "Published, a different method (for scale beside the tables above; not a reproduction, no verdict):" in section
    assert "| reference | published | source |" in section
    for labels, published in (("100 labels", "11.82%"), ("1,000 labels", "4.24%")):
        line = next(line for line in section.splitlines() if line.startswith(f"| {labels}: M1"))
        assert line.endswith(f"| {published} | {report.SOURCES['kingma2014']} |"), line


def test_a_record_names_the_commit_its_process_started_from(tmp_path, monkeypatch):
    """The code a run ran is what was checked out when its process started, not HEAD when its record is
    written: a long fit outlives commits made beside it."""
    import subprocess

    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from lightning_ae.callbacks import RunRecord
    from lightning_ae.models import Autoencoder

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                              check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "the code the run starts with")
    started = git("rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)
    record = RunRecord()  # the CLI builds it as the process starts
    git("commit", "-q", "--allow-empty", "-m", "a commit made while the run trains")
    assert git("rev-parse", "HEAD") != started

    data = DataLoader(TensorDataset(torch.rand(64, 16), torch.zeros(64, dtype=torch.long)), batch_size=32)
    L.Trainer(max_epochs=1, callbacks=[record], logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, default_root_dir=tmp_path / "run").fit(
        Autoencoder(input_dim=16, hidden_dims=[8], latent_dim=2), train_dataloaders=data)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["commit"] == run["fit"]["commit"] == started
    from lightning_ae.report.records import condense

    assert condense(tmp_path / "run", "toy", "repro")["fit"]["commit"] == started  # the committed record keeps it
