"""Shared fixtures: the real MNIST beside the project, and CLI runs on a small slice of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MNIST_DIR = ROOT.parent / "shared" / "data"
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
MODEL_CONFIGS = [c for c in CONFIGS if c.stem != "default"]

# A CLI run that trains and evaluates for seconds: a few batches of a 1,000-image slice.
# (Never a limit of "1": the CLI parses it as the float 1.0, which Lightning reads as 100% of the batches.)
FAST = [
    "--trainer.max_epochs", "1",
    "--trainer.limit_train_batches", "3",
    "--trainer.limit_val_batches", "2",
    "--trainer.limit_test_batches", "2",
    "--trainer.limit_predict_batches", "2",
    "--trainer.num_sanity_val_steps", "0",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
    "--data.train_subset", "1000",
    "--data.eval_batch_size", "256",
    "--images.scatter_points", "256",
]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "MNIST" / "raw").is_dir():
        pytest.fail(f"real MNIST expected at {MNIST_DIR}/MNIST/raw (see README, 'Data')")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    """A set-up MNISTDataModule (holdout split) shared by the tests that only read it."""
    from lightning_ae.data import MNISTDataModule

    dm = MNISTDataModule(data_dir=str(mnist_dir))
    dm.setup()
    return dm


@pytest.fixture
def run_cli(tmp_path, mnist_dir):
    """Run `lightning-ae <args>` in-process with logs under tmp_path; returns the LightningCLI."""
    from lightning_ae.cli import cli

    def run(*args: str, fast: bool = True):
        argv = [*args, "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
                "--data.data_dir", str(mnist_dir)]
        return cli(argv + (FAST if fast else []))

    return run


@pytest.fixture
def run_cli_process(tmp_path, mnist_dir):
    """Run `python -m lightning_ae <args>` as a user would; returns the CompletedProcess."""

    def run(*args: str, timeout: float = 300, env: dict | None = None):
        return subprocess.run(
            [sys.executable, "-m", "lightning_ae", *args],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )

    return run
