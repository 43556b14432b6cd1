"""Per-epoch curves in the records (lightning_ae.report.history) and the report's pictures of them (curves.py)."""

from __future__ import annotations

import json
import re

import pytest
from torch.utils.tensorboard import SummaryWriter

from conftest import ROOT
from lightning_ae import report
from lightning_ae.report import curves, history
from lightning_ae.report.records import write_json
from lightning_ae.report.results import SEED000_EPOCHS

SEEDS_DIR = ROOT.parent / "shared" / "seeds"


def fake_run(run_dir, val_mse, train_loss, steps_per_epoch=10):
    """TensorBoard events as a fit writes them: epoch-level scalars at each epoch's last step."""
    writer = SummaryWriter(str(run_dir))
    for e, (v, t) in enumerate(zip(val_mse, train_loss)):
        step = (e + 1) * steps_per_epoch - 1
        writer.add_scalar("train/batch_loss", t * 2, step)  # single batches: not kept
        writer.add_scalar("epoch", e, step)
        writer.add_scalar("val/mse", v, step)
        writer.add_scalar("val/psnr", 13.0, step)  # a function of val/mse: not kept
        writer.add_scalar("train/loss", t, step)
    writer.close()


def test_history_reads_the_epoch_scalars_of_the_events(tmp_path):
    fake_run(tmp_path, [0.050, 0.045, 0.041], [0.060, 0.046, 0.042])
    h = history.read_history(tmp_path)
    assert h["epoch"] == [1, 2, 3] and h["step"] == [9, 19, 29]
    assert sorted(h["series"]) == ["train/loss", "val/mse"]
    assert h["series"]["val/mse"] == pytest.approx([0.050, 0.045, 0.041], rel=1e-6)
    assert history.last_values(h) == pytest.approx({"train/loss": 0.042, "val/mse": 0.041}, rel=1e-6)
    assert history.read_history(tmp_path / "nothing") is None


def records_with_curves(tmp_path):
    runs = tmp_path / "reports" / "runs"
    for seed, vals in enumerate([[0.060, 0.050, 0.045], [0.052, 0.047, 0.044]]):
        run_dir = tmp_path / "logs" / "ae_2d" / f"repro_seed{seed}"
        fake_run(run_dir, vals, [v + 0.002 for v in vals])
        rec = {"config": "ae_2d", "version": "repro", "seed": seed, "run_dir": str(run_dir), "val_split": "test",
               "fit": {"metrics": {"val/mse": vals[-1]}, "epochs": 3}, "test": {"metrics": {"test/mse": vals[-1]}}}
        if seed == 0:  # a new record holds its curves; an older one gets them from its side file
            rec["history"] = history.read_history(run_dir)
        write_json(runs / "ae_2d" / "repro" / f"seed{seed}.json", rec)
    write_json(runs / "pca_2d" / "repro" / "seed0.json", {"config": "pca_2d", "version": "repro", "seed": 0,
                                                          "test": {"metrics": {"test/mse": 0.0557}}})
    return runs


def test_backfill_writes_beside_the_record_only_for_its_own_run(tmp_path):
    runs = records_with_curves(tmp_path)
    path = history.backfill(tmp_path / "logs" / "ae_2d" / "repro_seed1", "repro", runs)
    assert path == runs / "ae_2d" / "repro" / "history" / "seed1.json"
    rec = json.loads((runs / "ae_2d" / "repro" / "seed1.json").read_text())
    assert "history" not in rec  # the record keeps its bytes
    assert history.history_of(runs, rec)["series"]["val/mse"] == pytest.approx([0.052, 0.047, 0.044], rel=1e-6)
    other = tmp_path / "logs" / "ae_2d" / "other"
    fake_run(other, [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(SystemExit, match="no record"):
        history.backfill(other, "repro", runs)
    # events that are not the record's run (last epoch differs from the record's fit metrics): refused
    rec["fit"]["metrics"]["val/mse"] = 0.03
    write_json(runs / "ae_2d" / "repro" / "seed1.json", rec)
    with pytest.raises(SystemExit, match="not the record's run"):
        history.backfill(tmp_path / "logs" / "ae_2d" / "repro_seed1", "repro", runs)
    rec["run_dir"] = "logs/elsewhere"  # a side file of another run folder is not the record's
    assert history.history_of(runs, rec) is None


def test_the_curve_is_drawn_from_records_alone_byte_for_byte(tmp_path):
    runs = records_with_curves(tmp_path)
    history.backfill(tmp_path / "logs" / "ae_2d" / "repro_seed1", "repro", runs)
    out = tmp_path / "reports"
    text = report.write_report(runs, out).read_text()
    png = out / "figures" / "ae_2d_vs_pca.png"
    first = png.read_bytes()
    report.write_report(runs, out)
    assert png.read_bytes() == first and first.startswith(b"\x89PNG")
    assert b"Software" not in first  # no library version in the file
    assert "![ae_2d_vs_pca](figures/ae_2d_vs_pca.png)" in text
    # seed 0 crosses PCA-2's 0.0557 at epoch 2 (0.050), seed 1 at epoch 1 (0.052); Keras's printed 0.0482 at 1
    assert "below PCA-2's test MSE (0.0557): seed 0: epoch 2, seed 1: epoch 1." in text
    assert "from epoch 1 (0.0482)" in text
    assert "*Figure `vae_20d_cost`: its records or their per-epoch curves are not there yet (`make repro-vae-2d`).*" in text
    fig, _ = curves.ae_2d_vs_pca(report.load_records(runs), runs)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "per-pixel MSE" and ax.get_legend() is not None
    assert fig.get_size_inches()[0] * fig.dpi == 350
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert lines["ours: val MSE (test set) (2 seeds)"] == pytest.approx([0.060, 0.050, 0.045], rel=1e-6)
    assert lines["PCA-2 test MSE 0.0557 (here)"] == pytest.approx([0.0557, 0.0557])


def test_seed_000s_per_epoch_losses_are_printed_in_it():
    assert [len(v) for v in SEED000_EPOCHS.values()] == [5, 5]
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seed texts are not at {SEEDS_DIR}")
    text = next(SEEDS_DIR.glob("000_*.txt")).read_text()
    for e, (loss, val) in enumerate(zip(SEED000_EPOCHS["loss"], SEED000_EPOCHS["val_loss"]), start=1):
        assert re.search(rf"Epoch {e}/5 .*? loss: {re.escape(loss)} - val_loss: {re.escape(val)}", text), e
