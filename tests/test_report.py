"""The report: numbers read from real runs' records, verdicts against the published values, figures copied."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from lightning_ae import report
from lightning_ae.summary import RECORD_FILE


def find_row(config: str, metric: str, stage: str = "test") -> report.Row:
    return next(row for result in report.RESULTS for row in result.rows
                if (row.config, row.metric, row.stage, row.version) == (config, metric, stage, "repro"))


def table_cells(text: str, row: report.Row) -> list[str]:
    """The cells of `row`'s line in the report: run, metric, ours, published, source, verdict, epochs, wall time, device."""
    start = f"| {row.label} (`configs/{row.config}.yaml`) | {row.metric} |"
    lines = [line for line in text.splitlines() if line.startswith(start)]
    assert len(lines) == 1, (start, lines)
    return [c.strip() for c in lines[0].split("|")[1:-1]]


def write_record(logs, config: str, record: dict) -> None:
    run_dir = logs / config / "repro"
    run_dir.mkdir(parents=True)
    (run_dir / RECORD_FILE).write_text(json.dumps(record))


def test_verdicts():
    row = report.Row("x", "c", "test/mse", published=0.0400)  # tolerance 1%: within 0.0004
    assert report.verdict(row, 0.0401) == "matches"
    assert report.verdict(row, 0.03961) == "matches" and report.verdict(row, 0.04039) == "matches"
    assert report.verdict(row, 0.03959) == "beats" and report.verdict(row, 0.04041) == "misses"
    assert report.verdict(row, 0.0350) == "beats"
    assert report.verdict(row, 0.0500) == "misses"
    assert report.verdict(row, None) == "not run"
    assert report.verdict(report.Row("x", "c", "test/mse"), 0.05) == ""  # nothing published to compare with
    wide = report.Row("x", "c", "test/mse", published=0.0400, tolerance=0.05)
    assert report.verdict(wide, 0.0419) == "matches" and report.verdict(wide, 0.0421) == "misses"
    higher = report.Row("x", "c", "test/elbo", published=-90.0, lower_is_better=False)
    assert report.verdict(higher, -85.0) == "beats" and report.verdict(higher, -99.0) == "misses"
    assert report.verdict(higher, -90.5) == "matches"


def test_report_shows_the_verdicts_of_known_numbers(tmp_path):
    logs, out = tmp_path / "logs", tmp_path / "reports"
    write_record(logs, "pca_2d", {"fit": {"metrics": {"train/mse": 0.0700}, "epochs": 1, "wall_time_s": 3.2},
                                  "test": {"metrics": {"test/mse": 0.0560}}, "device": "cpu"})
    write_record(logs, "ae_2d", {"fit": {"metrics": {}, "epochs": 5, "wall_time_s": 151.0},
                                 "test": {"metrics": {"test/mse": 0.0300}}, "device": "cpu"})
    write_record(logs, "linear_2d", {"test": {"metrics": {"test/mse": 0.0566}}})
    write_record(logs, "vae_20d", {"test": {"metrics": {"test/nll": 90.0, "test/elbo": -95.0}}})
    write_record(logs, "classifier_full", {"test": {"metrics": {"test/acc": 0.9900}}})

    text = report.write_report(logs, out).read_text()

    def cells(config, metric, stage="test"):
        return table_cells(text, find_row(config, metric, stage))

    # PCA-2, published 0.0560 (train) and 0.0557 (test), 1% tolerance
    assert cells("pca_2d", "test/mse")[2:7] == ["0.0560", "0.0557", report.SOURCES["cv"], "matches", "1"]
    assert cells("pca_2d", "test/mse")[7:] == ["3 s", "cpu"]
    assert cells("pca_2d", "train/mse", "fit")[2:6] == ["0.0700", "0.0560", report.SOURCES["cv"], "misses"]
    assert cells("ae_2d", "test/mse")[2:8] == ["0.0300", "0.0407", report.SOURCES["cv"], "beats", "5", "151 s"]
    # linear autoencoder vs PCA-2's 0.0557 with the row's own 2% tolerance: 0.0566 is 1.6% above
    assert cells("linear_2d", "test/mse")[2:6] == ["0.0566", "0.0557", report.SOURCES["cv"], "matches"]
    # nats: lower NLL is better (90.00 misses 86.76); the ELBO row has no published value, so no verdict
    assert cells("vae_20d", "test/nll")[2:6] == ["90.00", "86.76", report.SOURCES["burda"], "misses"]
    assert cells("vae_20d", "test/elbo")[2:6] == ["-95.00", "—", "", ""]
    # accuracy: higher is better, tolerance 0.05% of 0.988
    assert cells("classifier_full", "test/acc")[2:6] == ["0.9900", "0.9880", report.SOURCES["hs"], "beats"]
    # a run without a record
    assert cells("ae_2d_25ep", "test/mse")[2:6] == ["—", "0.0359", report.SOURCES["r"], "not run"]
    assert "per-pixel MSE on the 10,000 test images" in text  # every table states its unit


def test_report_reads_a_real_run_and_marks_the_rest_not_run(run_cli, tmp_path):
    cfg = str(ROOT / "configs" / "pca_2d.yaml")
    for sub in ("fit", "test"):
        args = [sub, "--config", cfg, "--trainer.logger.init_args.version", "repro", "--probes.enabled", "false"]
        if sub == "test":
            args += ["--ckpt_path", str(tmp_path / "logs/pca_2d/repro/checkpoints/last.ckpt")]
        run_cli(*args)
    logs, out = tmp_path / "logs", tmp_path / "reports"
    measured = json.loads((logs / "pca_2d" / "repro" / RECORD_FILE).read_text())["test"]["metrics"]["test/mse"]
    # PCA-2 on the CLI's short slice: near the full-data 0.0557, well below the 0.064 of the mean image
    assert 0.045 < measured < 0.060

    text = report.write_report(logs, out).read_text()

    row = find_row("pca_2d", "test/mse")
    cells = table_cells(text, row)
    assert cells[2] == f"{measured:.4f}" and cells[3] == "0.0557"
    within = abs(measured - 0.0557) <= 0.01 * 0.0557
    assert cells[5] == ("matches" if within else "beats" if measured < 0.0557 else "misses")
    assert table_cells(text, find_row("ae_2d", "test/mse"))[2:6] == ["—", "0.0407", report.SOURCES["cv"], "not run"]
    assert not (out / "figures" / "ae_2d_recon_grid.png").exists()  # ae_2d was not run


def test_every_metric_of_the_report_has_a_unit():
    for result in report.RESULTS:
        for row in result.rows:
            assert row.metric in report.UNITS, row
            assert row.source is None or row.source in report.SOURCES, row


def test_report_without_logs_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="make repro"):
        report.write_report(tmp_path / "logs", tmp_path / "reports")
