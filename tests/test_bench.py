"""`make bench` end to end on a slice: every kind runs in its own process and the tables are written whole."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from lightning_ae import bench


@pytest.mark.processes
def test_bench_writes_a_table_with_every_cell_measured(tmp_path, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("LIGHTNING_AE_DATA", str(mnist_dir))
    out = tmp_path / "bench.md"
    bench.main(["--parts", "epochs", "--configs", "ae_2d", "--epochs", "2", "--repeats", "1", "--threads", "1",
                "--train-subset", "2560", "--output", str(out)])
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| ae_2d | cpu |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    pipe, plain, bare, separate = (float(cells[i]) for i in (4, 5, 7, 9))
    assert pipe > 0 and plain > 0 and bare > 0
    assert abs(separate / (pipe / plain) - 1) < 0.01  # cells: 3 decimals
    assert abs(int(cells[10].replace(",", "")) / (2560 / pipe) - 1) < 0.01  # samples/s over the 2,560 images
    assert float(cells[12].replace(",", "")) > 100  # peak RSS in MB: the data set and torch, at least
    assert "| ae_2d | cuda |" in text and "not measured (no GPU" in text  # no GPU rows are invented
    for kind in bench.KINDS:  # one epoch timed per kind (the first is the dropped warm-up)
        assert re.search(rf"- ae_2d cpu 32-true {kind}: \d+\.\d{{3}}$", text, re.M)
    for kind, cell in (("pipeline", cells[6]), ("lightning", cells[8])):  # each paired with its plain partner
        (partner,) = re.findall(rf"- ae_2d cpu 32-true {kind}'s plain partners: (\d+\.\d{{3}})$", text, re.M)
        (own,) = re.findall(rf"- ae_2d cpu 32-true {kind}: (\d+\.\d{{3}})$", text, re.M)
        median, low_high = cell.split(" ")  # one pair: its ratio is the median, the min and the max
        assert abs(float(median) / (float(own) / float(partner)) - 1) < 0.01 and low_high == f"({median}-{median})"
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.processes
def test_whole_processes_are_timed_side_by_side_and_do_the_same_work(tmp_path, mnist_dir, monkeypatch, capsys):
    """The real `lightning-ae fit` and the plain script, each a whole process: wall and CPU time, the
    ratio, the fit's first training step, and the same job done (a val MSE from each)."""
    monkeypatch.setenv("LIGHTNING_AE_DATA", str(mnist_dir))
    out = tmp_path / "bench.md"
    bench.main(["--parts", "whole", "--whole-repeats", "1", "--whole-epochs", "1", "--train-subset", "1280",
                "--output", str(out)])
    text = out.read_text()
    assert "## Whole process" in text and "## Training epochs" not in text and "No Keras row" in text
    rows = {line.split(" | ")[0].lstrip("| "): [c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| `lightning-ae fit") or line.startswith("| plain")}
    fit = rows["`lightning-ae fit --config configs/ae_2d.yaml`"]
    plain = next(v for k, v in rows.items() if k.startswith("plain"))
    assert float(fit[2].split()[0]) > 0 and plain[3].startswith("1.000")  # plain / plain
    assert abs(float(fit[3].split()[0]) - float(fit[2].split()[0]) / float(plain[2].split()[0])) < 0.01
    assert 0 < float(fit[6].split()[0]) < float(fit[2].split()[0])  # the first step comes before the end
    for row in (fit, plain):  # ten steps: below the untrained net's ~0.22, not yet near the mean image's 0.067
        assert 0.02 < float(row[7]) < 0.15
    assert f"wrote {out}" in capsys.readouterr().out


def test_plain_script_is_torch_alone():
    """The plain script is what a user writes by hand: importing its module imports no Lightning."""
    code = ("import sys, lightning_ae.bench.plain; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('lightning', 'torchmetrics', 'pytorch_lightning')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
