"""`make bench`: what a user runs against a hand-written PyTorch script, and the training loop alone.

Three parts, each written to reports/bench.md:

- **Whole process** (`whole`): the command a user types, timed from the shell as a whole process
  (imports, data, every epoch, validation, images, checkpoints, progress bar, exit):
  `lightning-ae fit --config configs/ae_2d.yaml` with the default config, beside `python -m
  lightning_ae.bench plain`, a plain hand-written PyTorch script doing the same work (the MNIST
  files read with gzip, the 784-512-128-2-128-512-784 ELU network, Adam 1e-3, batch 128, 5 epochs,
  the validation MSE on the 10,000 test images after each epoch; no Lightning, no project code),
  and, given `--keras-python` (a Python with Keras 3 installed), the seed's Keras script (its
  training part, reading the same files). The commands alternate, `--whole-repeats` runs each;
  reported: median, min and max wall seconds, the median of the ratios of runs paired in order,
  CPU seconds, peak resident memory, the final validation MSE of each (the same work, the same
  result), and for the fit the time from the process start to its first training step.
- **Start-up** (`startup`): `lightning-ae fit --help`, `python -c "import lightning_ae.cli"`, and the
  floors under them, `import lightning` and `import torch`.
- **Training epochs** (`epochs`): seconds per training epoch, on the same in-memory MNIST tensors,
  the same model, optimizer, loss, batch size and thread count, of
  (a) the pipeline: the model, DataModule and Trainer built by the CLI from the YAML config
      (default callbacks, progress bar and TensorBoard logger on; validation and checkpointing
      off), run with `trainer.fit`;
  (b) a plain loop: `randperm`, slicing (and the dynamic binarisation the config asks for, the
      loader's own `lightning_ae.loader.binarize`), forward, loss, backward, `optimizer.step()`;
  (c) Lightning's floor: the same model and DataModule in a bare `Trainer` (no callbacks, logger,
      progress bar or checkpointing), which tells how much of (a)'s cost over (b) is Lightning's own
      loop and how much is the project's callbacks and logging.
  Each measurement runs in its own process (so its peak resident memory is its own), and the three
  kinds alternate `--repeats` times. Inside the processes of (a) and (c), a plain-loop epoch on a copy
  of the model runs beside each of their epochs (before the even ones, after the odd ones): the
  ratios (a)/(b) and (c)/(b) quoted against the targets are the medians of those pairs, seconds apart,
  because the shared machine's slow spells (10-20% for minutes) fall on both halves of a pair and not
  on both of two separate processes. Also reported: median seconds per epoch (the first epoch of each
  process is warm-up and dropped), samples per second, the ratio of separate processes' medians, CPU
  time and peak RSS.

The machine's load average is written beside the numbers: other work on a shared machine slows
every command, which is why they alternate and why medians and paired ratios are quoted.
`--device cuda` adds GPU rows (32-true, bf16-mixed and `compile: true`) to the epoch table where a
GPU is visible; there the DataModule keeps the data on the GPU (`device_resident: auto`).
"""


from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from lightning_ae.bench.common import (KINDS, PARTS, ROOT, TARGET_WHOLE_VS_KERAS, TARGET_WHOLE_VS_PLAIN,
                                       load_average)

__all__ = ["KINDS", "PARTS", "main"]

def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plain"]:
        from lightning_ae.bench.plain import plain_main

        plain_main(argv[1:])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure (default: all)")
    p.add_argument("--whole-repeats", type=int, default=3, help="runs of each whole-process command (alternating)")
    p.add_argument("--whole-epochs", type=int, default=5, help="epochs of the whole-process runs (the config's 5)")
    p.add_argument("--startup-repeats", type=int, default=3, help="runs of each start-up command (alternating)")
    p.add_argument("--keras-python", default=os.environ.get("LIGHTNING_AE_BENCH_KERAS_PYTHON") or None,
                   help="a Python with Keras 3 (and torch) installed: adds the seed's Keras script to the "
                        "whole-process table (default: $LIGHTNING_AE_BENCH_KERAS_PYTHON; none: no Keras row)")
    p.add_argument("--configs", nargs="+", default=["ae_2d", "vae_20d"], help="config names under configs/ (epochs)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="cuda: add the GPU rows (epochs)")
    p.add_argument("--precision", default="32-true", help="precision of the CPU rows: 32-true or bf16-mixed")
    p.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--epochs", type=int, default=4,
                   help="epochs per measurement of the epoch table (the first is warm-up)")
    p.add_argument("--repeats", type=int, default=2, help="alternating repeats of each kind (epochs)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads, every kind (epochs)")
    p.add_argument("--batch-size", type=int, default=None, help="override the config's data.batch_size (epochs)")
    p.add_argument("--train-subset", type=int, default=None,
                   help="train on only this many training images (a quick check of the bench itself)")
    p.add_argument("--output", default=str(ROOT / "reports" / "bench.md"))
    p.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        from lightning_ae.bench.epochs import worker

        worker(a)
        return
    if "epochs" in a.parts and a.epochs < 2:
        raise SystemExit("--epochs must be at least 2 (the first epoch is warm-up).")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible on this machine; run without it for the CPU rows.")

    import tempfile

    from lightning_ae.bench import whole
    from lightning_ae.bench.epochs import epoch_section

    cmd = "python -m lightning_ae.bench " + " ".join(argv)
    head = [f"`{cmd.strip()}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
            f"CPU: {_cpu_name()}, {os.cpu_count()} logical cores; torch {torch.__version__}, Python "
            f"{platform.python_version()}. Load average at the start: {load_average()}.", ""]
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lightning_ae_bench_") as tmp:
        work = Path(tmp)
        if "startup" in a.parts:  # first: it also brings the files every later run reads into the page cache
            py = sys.executable
            startup = {"`lightning-ae fit --help`": (lambda i: [*whole.cli_command(), "fit", "--help"], None, None),
                       '`python -c "import lightning_ae.cli"`': (lambda i: [py, "-c", "import lightning_ae.cli"],
                                                                  None, None),
                       '`python -c "import lightning"` (the floor under it)': (lambda i: [py, "-c", "import lightning"],
                                                                                None, None),
                       '`python -c "import torch"`': (lambda i: [py, "-c", "import torch"], None, None)}
            load = load_average()
            runs = whole.alternate(startup, a.startup_repeats, work, "startup")
            sections += ["## Start-up", "",
                         f"Whole processes, alternating, {a.startup_repeats} runs each; load average {load} before, "
                         f"{load_average()} after.", "", *whole.startup_table(runs), ""]
        if "whole" in a.parts:
            load = load_average()
            runs = whole.alternate(whole.whole_commands(a, work), a.whole_repeats, work, "whole")
            what = (f"{a.whole_epochs} epochs" + (f" on {a.train_subset:,} training images" if a.train_subset else
                                                   " on the 60,000 training images") +
                    ", batch 128, Adam 1e-3, validation MSE on the 10,000 test images after every epoch")
            sections += ["## Whole process: what a user runs", "",
                         f"Each command timed from the shell as a whole process (start to exit): {what}. The fit is "
                         "the real command with the default config (configs/default.yaml: validation every epoch, "
                         "images, best and last checkpoints, progress bar, TensorBoard), plus a callback that notes "
                         "its first training step; the plain script and the Keras script do the training and the "
                         "validation only. The commands alternate; `/ plain, paired` is the median (min-max) of "
                         "each run's wall time over the plain script's run of the same round. "
                         f"Load average {load} before, {load_average()} after. Target: fit <= {TARGET_WHOLE_VS_PLAIN:.2f}x "
                         f"the plain script, <= {TARGET_WHOLE_VS_KERAS:.2f}x the Keras script.", "",
                         *whole.whole_table(runs), ""]
            if not a.keras_python:
                sections += ["No Keras row: pass `--keras-python` (or `make bench KERAS_PYTHON=...`), a Python with "
                             "`pip install keras torch` (KERAS_BACKEND=torch is set for it).", ""]
        if "epochs" in a.parts:
            load = load_average()
            sections += ["## Training epochs only", "", *epoch_section(a, load), ""]

    text = "\n".join(head + sections)
    print(text)
    out = Path(a.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Benchmark: `lightning-ae fit` against a plain PyTorch script\n\n" + text)
    print(f"wrote {out}")
