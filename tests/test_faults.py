"""Faults (issue: robustness): a run killed with SIGKILL mid-epoch resumes from its last checkpoint in a
new process and ends where an unbroken run ends; SIGTERM saves a checkpoint and exits 143; a seed
makes two CPU runs identical. The killed runs are real `python -m lightning_ae` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from conftest import ROOT
from lightning_ae.cli import cli
from lightning_ae.data import TensorLoader

STEPS_PER_EPOCH, EPOCHS = 20, 2  # 1,000 images in batches of 50
RUN = [
    "fit", "--config", str(ROOT / "configs/ae_2d.yaml"), "--model.init_args.hidden_dims", "[32]",
    "--data.train_subset", "1000", "--data.batch_size", "50", "--trainer.max_epochs", str(EPOCHS),
    "--trainer.limit_val_batches", "2", "--data.eval_batch_size", "250", "--images.every_n_epochs", "100",
    "--images.pca_row", "false", "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
    "--checkpoint.every_n_train_steps", "5",  # mid-epoch checkpoints (from the first validation on)
    "--last_checkpoint.every_n_train_steps", "5",  # last.ckpt mid-epoch too
]


class Pace(L.Callback):
    """Slow training down and write the global step to a file, so a test can stop a run at a known step.

    Used by the killed processes as `--trainer.callbacks+=test_faults.Pace` (tests/ on PYTHONPATH).
    """

    def __init__(self, seconds: float = 0.1, progress_file: str | None = None) -> None:
        self.seconds, self.progress_file = seconds, progress_file

    def on_train_batch_end(self, trainer, *args) -> None:
        if self.progress_file:  # written whole then renamed: a reader never sees a half-written file
            tmp = Path(f"{self.progress_file}.tmp")
            tmp.write_text(str(trainer.global_step))
            os.replace(tmp, self.progress_file)
        time.sleep(self.seconds)


def fit_record(logs: Path, version: str) -> dict:
    return json.loads((logs / "ae_2d" / version / "run.json").read_text())["fit"]


def start(args: list[str], progress: Path) -> subprocess.Popen:
    """`python -m lightning_ae <args>` paced by `Pace`, in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "lightning_ae", *args, "--trainer.callbacks+=test_faults.Pace",
         "--trainer.callbacks.init_args.progress_file", str(progress)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests"), "PYTHONUNBUFFERED": "1"},
    )


def wait_for_step(proc: subprocess.Popen, progress: Path, step: int, timeout: float = 240) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = int(progress.read_text()) if progress.is_file() else -1
        if done >= step:
            return done
        if proc.poll() is not None:
            pytest.fail(f"the run ended before step {step}:\n{proc.stderr.read()[-3000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"the run did not reach step {step} in {timeout} s")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mnist_dir):
    """An unbroken run of RUN: (args with its log folder, its fit record)."""
    logs = tmp_path_factory.mktemp("fault_logs")
    args = [*RUN, "--data.data_dir", str(mnist_dir), "--trainer.logger.init_args.save_dir", str(logs)]
    cli([*args, "--trainer.logger.init_args.version", "unbroken"])
    record = fit_record(logs, "unbroken")
    assert record["global_step"] == STEPS_PER_EPOCH * EPOCHS
    return args, logs, record


@pytest.mark.processes
def test_sigkill_mid_epoch_then_resume_in_new_process_matches_unbroken_run(reference, tmp_path):
    args, logs, unbroken = reference
    run = [*args, "--trainer.logger.init_args.version", "killed"]
    proc = start(run, tmp_path / "progress")
    wait_for_step(proc, tmp_path / "progress", STEPS_PER_EPOCH + 7)  # epoch 1; a checkpoint at step 25 exists
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    last = logs / "ae_2d" / "killed" / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, map_location="cpu", weights_only=True)  # a kill leaves a loadable checkpoint
    assert STEPS_PER_EPOCH < ckpt["global_step"] < STEPS_PER_EPOCH * EPOCHS
    assert ckpt["global_step"] % STEPS_PER_EPOCH != 0  # mid-epoch
    assert ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"] == [
        {"epoch": 1, "batches_served": ckpt["global_step"] - STEPS_PER_EPOCH}]

    resumed = subprocess.run([sys.executable, "-m", "lightning_ae", *run, "--ckpt_path", "last"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Restored all states from the checkpoint at {last}" in resumed.stderr + resumed.stdout
    assert "not resumable" not in resumed.stderr
    record = fit_record(logs, "killed")
    assert record["global_step"] == unbroken["global_step"]  # the same schedule, no step more or less
    # the resumed run saw the batches the unbroken one saw: the same final weights, the same metrics
    for name in ("val/mse", "val/loss", "val/psnr", "train/batch_loss"):
        assert record["metrics"][name] == pytest.approx(unbroken["metrics"][name], abs=1e-6), name


@pytest.mark.processes
def test_sigterm_saves_checkpoint_and_exits_143_then_resumes(reference, tmp_path, mnist_dir):
    args, logs, unbroken = reference
    run = [*args, "--trainer.logger.init_args.version", "terminated"]
    proc = start(run, tmp_path / "progress")
    wait_for_step(proc, tmp_path / "progress", 7)  # epoch 0: no checkpoint written yet
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    assert "lightning-ae: stopped by SIGTERM" in err and "--ckpt_path last" in err
    assert "Traceback" not in err

    last = logs / "ae_2d" / "terminated" / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    step = ckpt["global_step"]
    assert 7 <= step < STEPS_PER_EPOCH and f"saved {last} at step {step}" in err

    resumed = cli([*run, "--ckpt_path", "last"])
    assert resumed.trainer.global_step == unbroken["global_step"]
    record = fit_record(logs, "terminated")
    assert record["metrics"]["val/mse"] == pytest.approx(unbroken["metrics"]["val/mse"], abs=1e-6)


def test_same_seed_same_metrics(run_cli, tmp_path):
    def metrics(version: str, *extra: str) -> dict[str, float]:
        run_cli("fit", "--config", str(ROOT / "configs/ae_2d.yaml"), "--model.init_args.hidden_dims", "[64]",
                "--images.every_n_epochs", "100", "--trainer.logger.init_args.version", version, *extra)
        return fit_record(tmp_path / "logs", version)["metrics"]

    first, second = metrics("a"), metrics("b")
    assert set(first) == set(second) and {"val/mse", "train/batch_loss"} <= set(first)
    for name in first:
        assert second[name] == pytest.approx(first[name], abs=1e-6), name
    other = metrics("c", "--seed_everything", "7")  # the seed is what makes them equal
    assert abs(other["val/mse"] - first["val/mse"]) > 1e-6


# -- the loader's part in resuming ----------------------------------------------------------------
def batches(loader: TensorLoader) -> list[torch.Tensor]:
    return [x for x, _ in loader]


@pytest.mark.parametrize("binarize", [False, True])
def test_loader_resumes_mid_epoch_with_the_batches_an_unbroken_epoch_serves(binarize):
    x, y = torch.rand(103, 5), torch.arange(103)
    make = lambda: TensorLoader(x, y, batch_size=10, shuffle=True, seed=3, binarize=binarize)  # noqa: E731
    unbroken = make()
    unbroken.set_epoch(2)
    expected = batches(unbroken)

    broken = make()
    broken.set_epoch(2)
    it = iter(broken)
    seen = [next(it)[0] for _ in range(4)]
    state = broken.state_dict()
    assert state == {"epoch": 2, "batches_served": 4}

    resumed = make()  # a new process: a fresh loader, then Lightning loads the state
    resumed.load_state_dict(state)
    rest = batches(resumed)
    assert len(seen) + len(rest) == len(expected) == 11
    for a, b in zip(seen + rest, expected):
        assert torch.equal(a, b)
    assert len(batches(resumed)) == 11  # the skip applies to one epoch only
