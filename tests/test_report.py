"""The report: numbers read from real runs' records, verdicts against the published values, figures copied."""

from __future__ import annotations

import json

from lightning_ae import report


def test_report_reads_a_real_run_and_marks_the_rest_not_run(run_cli, tmp_path):
    cfg = str(report.Path(__file__).resolve().parent.parent / "configs" / "pca_2d.yaml")
    for sub in ("fit", "test"):
        args = [sub, "--config", cfg, "--trainer.logger.init_args.version", "repro", "--probes.enabled", "false"]
        if sub == "test":
            args += ["--ckpt_path", str(tmp_path / "logs/pca_2d/repro/checkpoints/last.ckpt")]
        run_cli(*args)
    logs, out = tmp_path / "logs", tmp_path / "reports"
    measured = json.loads((logs / "pca_2d/repro/run.json").read_text())["test"]["metrics"]["test/mse"]

    text = report.write_report(logs, out).read_text()

    row = next(line for line in text.splitlines() if line.startswith("| PCA, 2 components (`"))
    cells = [c.strip() for c in row.split("|")]
    assert cells[2] == "test/mse" and float(cells[3]) == round(measured, 4)
    assert cells[4] == "0.0557" and cells[6] in ("matches", "beats", "misses")
    assert "| 784-512-128-2 ELU autoencoder, 5 epochs (`configs/ae_2d.yaml`) | test/mse | — |" in text
    assert (out / "figures" / "ae_2d_recon_grid.png").exists() is False  # ae_2d was not run
    assert "per-pixel MSE on the 10,000 test images" in text  # every table states its unit


def test_verdicts():
    row = report.Row("x", "c", "test/mse", published=0.0400)
    assert report.verdict(row, 0.0401) == "matches"
    assert report.verdict(row, 0.0350) == "beats"
    assert report.verdict(row, 0.0500) == "misses"
    assert report.verdict(row, None) == "not run"
    higher = report.Row("x", "c", "test/elbo", published=-90.0, lower_is_better=False)
    assert report.verdict(higher, -85.0) == "beats" and report.verdict(higher, -99.0) == "misses"


def test_every_metric_of_the_report_has_a_unit():
    for result in report.RESULTS:
        for row in result.rows:
            assert row.metric in report.UNITS, row
            assert row.source is None or row.source in report.SOURCES, row
