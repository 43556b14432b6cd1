"""The denoising table reads run.json files and checkpoints; missing runs show as missing."""

from __future__ import annotations

import json

import torch

from lightning_ae.experiments import denoising


def write_run(logs, config, version, rmse, steps=None):
    d = logs / config / version
    d.mkdir(parents=True)
    (d / "run.json").write_text(json.dumps({"test": {"metrics": {"test/rmse": rmse}}}))
    if steps is not None:
        (d / "checkpoints").mkdir()
        torch.save({"global_step": steps}, d / "checkpoints" / "last.ckpt")


def test_table_from_run_records(tmp_path, capsys):
    write_run(tmp_path, "dae_784_128_10", "repro", 0.137, steps=93_800)
    write_run(tmp_path, "dae_784_128_10", "eval_masking", 0.170)
    write_run(tmp_path, "dae_784_128_10_masking", "repro", 0.160, steps=46_900)
    write_run(tmp_path, "dae_784_128_10_masking", "eval_masking", 0.144)
    denoising.main(["--logs", str(tmp_path)])
    out = capsys.readouterr().out
    assert "| dae_784_128_10 | 784-128-10 | Adam 0.01 | 100.0 | 0.137000 | 0.136408 | 0.000592 | missing |" in out
    assert "| dae_784_10 | 784-10 | RMSprop (TF1) 0.1 | missing | missing | 0.206152 | missing | missing |" in out
    assert "| masking 0.3 | 0.170000 | 0.144000 | dae_784_128_10_masking | 100.0, 50.0 | 0.137000 | 0.160000 |" in out
    saved = json.loads((tmp_path / "denoising" / "table.json").read_text())
    assert saved["noise"][0]["noisy_net_noisy_rmse"] == 0.144
    assert (tmp_path / "denoising" / "table.md").read_text().startswith("Blog runs")
