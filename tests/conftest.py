"""Shared fixtures: the real MNIST beside the project, and CLI runs on a small slice of it.

Two tiers. A test that needs the real MNIST (the `mnist_dir`, `mnist`, `run_cli` or
`run_cli_process` fixture: CLI runs, subprocesses, DDP, kill/resume) is marked `slow` here, at
collection, so no test file has to say it; `make test-fast` (`pytest -m "not slow"`) runs the rest,
`make test` everything. Without the real MNIST the slow tests skip, naming where it was expected.
"""

from __future__ import annotations

import functools
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The real MNIST: a folder holding MNIST/raw/ with the four IDX files (torchvision's layout).
# $LIGHTNING_AE_TEST_MNIST overrides the default, ../shared/data (where CI and the development machines keep it).
MNIST_ENV = "LIGHTNING_AE_TEST_MNIST"
MNIST_DIR = Path(os.environ.get(MNIST_ENV) or ROOT.parent / "shared" / "data").resolve()
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# Tests that use one of these fixtures are the slow tier (they all read the real MNIST).
SLOW_FIXTURES = frozenset({"mnist_dir", "mnist", "run_cli", "run_cli_process"})
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


def pytest_collection_modifyitems(config, items):
    """Mark the slow tier; then order the run so that `make test`'s workers end together: tests that start
    processes of their own first (seconds to a minute each), then the other slow tests, the unit tests
    (milliseconds to a second) last. pytest-xdist's work stealing hands each worker the collection's
    front first and lets an idle worker take the end of another's queue, so a long test collected last
    would leave the other worker idle while it runs."""
    slow = pytest.mark.slow
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(slow)

    def tier(item) -> int:
        if "run_cli_process" in getattr(item, "fixturenames", ()) or item.get_closest_marker("processes"):
            return 0
        return 1 if item.get_closest_marker("slow") else 2

    items.sort(key=tier)  # stable: the collection's order within a tier


def one_error_line(capsys, call, prefix: str = "lightning-ae: error: ") -> str:
    """Run `call()` (a CLI's main); assert exit status 2, exactly one line starting with `prefix` on
    stderr and no traceback (what a user gets for bad input); return that line."""
    with pytest.raises(SystemExit) as exit_info:
        call()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err[-2000:]
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, err[-2000:]
    return lines[0]


def missing_mnist_files(root: Path) -> list[str]:
    """The IDX files (gzipped or not) missing from root/MNIST/raw."""
    raw = root / "MNIST" / "raw"
    return [f for f in MNIST_FILES if not ((raw / f).is_file() or (raw / f"{f}.gz").is_file())]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Every test sees warnings as a `lightning-ae` process does, with the library filters of
    `lightning_ae.quiet`: pytest hands each test the filters from before the collection imported that
    module, so they are installed again, before any fixture of the test runs."""
    from lightning_ae import quiet

    quiet.install()


@pytest.fixture(autouse=True)
def close_figures():
    """Close the matplotlib figures a test made (unit tests draw a model's figures and read them back):
    pyplot keeps every figure until closed, and the ones of earlier tests piled up in each xdist worker. A
    run's own figures are closed by the run (tests/callbacks/test_images.py checks)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture(autouse=True, scope="session")
def command_line_of_its_own():
    """sys.argv without pytest's options while the tests run, as in a `lightning-ae` process: the CLI run
    in-process takes its arguments from `args`, and LightningCLI warns when sys.argv holds others beside them."""
    argv = sys.argv[:]
    del sys.argv[1:]
    yield
    sys.argv[:] = argv


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    missing = missing_mnist_files(MNIST_DIR)
    if missing:
        what = "no MNIST IDX files" if len(missing) == len(MNIST_FILES) else f"{', '.join(missing)} missing"
        pytest.skip(
            f"real MNIST expected in {MNIST_DIR / 'MNIST' / 'raw'}: {what}. Get it with `python -c \"from "
            f"torchvision.datasets import MNIST; MNIST('{MNIST_DIR}', download=True)\"` or set ${MNIST_ENV} to "
            "a folder holding MNIST/raw/."
        )
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    """A set-up MNISTDataModule (holdout split) shared by the tests that only read it."""
    from lightning_ae.data import MNISTDataModule

    dm = MNISTDataModule(data_dir=str(mnist_dir))
    dm.setup()
    return dm


@functools.cache
def _freeze_imported_objects() -> None:
    """Once per process: move the objects alive after importing the CLI (torch, Lightning, jsonargparse:
    ~400,000 of them) out of the garbage collector's sight (`gc.freeze`), so that the collection after each
    run below traverses only what the tests made since (0.3-0.45 s a collection otherwise)."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def run_cli(tmp_path, mnist_dir):
    """Run `lightning-ae <args>` in-process with logs under tmp_path; returns the LightningCLI."""
    from lightning_ae.cli import cli

    _freeze_imported_objects()

    def run(*args: str, fast: bool = True):
        argv = [*args, "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
                "--data.data_dir", str(mnist_dir)]
        return cli(argv + (FAST if fast else []))

    yield run
    # a run's Trainer, model and DataModule (the whole of MNIST, ~220 MB) sit in reference cycles, and
    # tensors do not count towards the garbage collector's thresholds: without this, one xdist worker
    # grew to 8.4 GB over the bf16 test of every config (tests/test_precision.py)
    gc.collect()


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
