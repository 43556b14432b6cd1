"""`python -m lightning_ae.summary logs/*/*` / `lightning-ae summary` (issue 17, point 6): one table of
runs of different models, each row with its own values and blanks where a run has no such number."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT
from lightning_ae.cli import main as cli_main
from lightning_ae.summary import main, table

QUICK_TEST = ["--test_after_fit", "true", "--probes.train_samples", "1000", "--probes.probe_steps", "5",
              "--probes.embedding_points", "100"]


def cell(header: str, line: str, name: str) -> str:
    """The cell of column `name` in a table line (numbers are right-aligned under their header)."""
    end = re.search(rf"(?<!\S){re.escape(name)}(?!\S)", header).end()
    return line.ljust(len(header))[:end].split("  ")[-1].strip()


@pytest.fixture
def runs(run_cli, tmp_path) -> dict[str, Path]:
    """Two real runs of different models, fitted and tested by the CLI: PCA and a VAE."""
    dirs = {}
    for config, extra in (("pca_2d", []), ("vae_2d", ["--model.init_args.hidden_dims", "[32]",
                                                      "--model.init_args.nll_samples", "5",
                                                      "--model.init_args.nll_images", "100"])):
        cli = run_cli("fit", "--config", str(ROOT / "configs" / f"{config}.yaml"), *QUICK_TEST, *extra)
        dirs[config] = Path(cli.trainer.logger.log_dir)
    return dirs


def test_one_table_of_different_models(runs, tmp_path, capsys):
    empty = tmp_path / "logs" / "crashed" / "version_0"  # a run folder without run.json
    empty.mkdir(parents=True)
    (tmp_path / "logs" / "screenshot.png").write_bytes(b"")  # a file a glob matches: passed over
    main([str(runs["pca_2d"]), str(runs["vae_2d"]), str(empty), str(tmp_path / "logs" / "screenshot.png")])
    lines = capsys.readouterr().out.splitlines()
    header, pca, vae = lines[:3]
    assert header.split()[:10] == ["run", "model", "dataset", "latent_dim", "epochs", "train/loss", "val/loss",
                                   "test/loss", "val/mse", "test/mse"]
    assert pca.split()[:3] == [str(runs["pca_2d"]), "PCA", "mnist"]
    assert vae.split()[:3] == [str(runs["vae_2d"]), "VariationalAutoencoder", "mnist"]
    records = {k: json.loads((d / "run.json").read_text()) for k, d in runs.items()}
    for line, record in ((pca, records["pca_2d"]), (vae, records["vae_2d"])):
        test = record["test"]["metrics"]
        assert cell(header, line, "latent_dim") == "2" and cell(header, line, "epochs") == "1"
        assert cell(header, line, "test/mse") == f"{test['test/mse']:.4f}"
        assert cell(header, line, "test/loss") == f"{test['test/loss']:.4f}"
        assert cell(header, line, "test/knn_acc") == f"{test['test/knn_acc']:.4f}"
        assert cell(header, line, "val/loss") == f"{record['fit']['metrics']['val/loss']:.4f}"
    # the VAE's own numbers (nats), blank for PCA; PCA's training loss is its closed-form MSE
    vae_test = records["vae_2d"]["test"]["metrics"]
    assert cell(header, vae, "test/nll") == f"{vae_test['test/nll']:.4f}" and float(cell(header, vae, "test/nll")) > 50
    assert cell(header, pca, "test/nll") == "" and cell(header, pca, "test/elbo") == ""
    assert cell(header, pca, "train/loss") == f"{records['pca_2d']['fit']['metrics']['train/mse']:.4f}"
    assert lines[3] == f"no run.json (not a finished run): {empty}"
    assert all(line.startswith("figure: ") for line in lines[4:]) and len(lines) > 4
    assert "screenshot" not in "\n".join(lines)


def test_subcommand_and_run_json_paths(runs, capsys):
    cli_main(["summary", str(runs["pca_2d"] / "run.json")])
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == [str(runs["pca_2d"]), "PCA"]
    assert table([str(runs["pca_2d"])]) == out.rstrip("\n")


def test_no_run_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "nothing")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lightning-ae summary: error: no run record (run.json) in ") and "\n" not in err
