"""`make bench` end to end on a slice: every kind runs in its own process and the table is written whole."""

from __future__ import annotations

import re

from lightning_ae import bench


def test_bench_writes_a_table_with_every_cell_measured(tmp_path, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("LIGHTNING_AE_DATA", str(mnist_dir))
    out = tmp_path / "bench.md"
    bench.main(["--configs", "ae_2d", "--epochs", "2", "--repeats", "1", "--threads", "1",
                "--train-subset", "2560", "--output", str(out)])
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| ae_2d | cpu |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    pipe, plain, ratio, bare, bare_ratio = (float(c) for c in cells[4:9])
    assert pipe > 0 and plain > 0 and bare > 0
    assert abs(ratio / (pipe / plain) - 1) < 0.01 and abs(bare_ratio / (bare / plain) - 1) < 0.01  # cells: 3 decimals
    assert abs(int(cells[9].replace(",", "")) / (2560 / pipe) - 1) < 0.01  # samples/s over the 2,560 images
    assert float(cells[11].replace(",", "")) > 100  # peak RSS in MB: the data set and torch, at least
    assert "| ae_2d | cuda |" in text and "not measured (no GPU" in text  # no GPU rows are invented
    for kind in bench.KINDS:  # one epoch timed per kind (the first is the dropped warm-up)
        assert re.search(rf"- ae_2d cpu 32-true {kind}: \d+\.\d{{3}}$", text, re.M)
    assert f"wrote {out}" in capsys.readouterr().out
