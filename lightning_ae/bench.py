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
  kinds alternate `--repeats` times so that machine noise falls on all of them alike. Reported: median
  seconds per epoch (the first epoch of each process is warm-up and dropped), samples per second,
  the ratios (a)/(b) and (c)/(b) and peak RSS.

The machine's load average is written beside the numbers: other work on a shared machine slows
every command, which is why they alternate and why medians and paired ratios are quoted.
`--device cuda` adds GPU rows (32-true, bf16-mixed and `compile: true`) to the epoch table where a
GPU is visible; there the DataModule keeps the data on the GPU (`device_resident: auto`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from lightning_ae.loader import binarize

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO, TARGET_RSS_MB = 1.05, 1536
TARGET_WHOLE_VS_PLAIN, TARGET_WHOLE_VS_KERAS = 1.25, 0.80
KINDS = ("pipeline", "lightning", "plain")  # (a), (c), (b) of the epoch table; they alternate
PARTS = ("startup", "whole", "epochs")
WHOLE_CONFIG = "ae_2d"  # the main job: `lightning-ae fit --config configs/ae_2d.yaml`
# the fit's time from its process start to its first training step, written by FirstStepTimer
T0_ENV, MARK_ENV = "LIGHTNING_AE_BENCH_T0", "LIGHTNING_AE_BENCH_FIRST_STEP"


# -- the plain script: what a user would write by hand, with torch alone ----------------------------
def _read_idx(root: Path, name: str, header: int) -> torch.Tensor:
    """The bytes after the header of an MNIST IDX file (gzipped or not), as uint8."""
    import gzip

    for folder, suffix in [(root / "MNIST" / "raw", ""), (root / "MNIST" / "raw", ".gz"), (root, ""), (root, ".gz")]:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
                return torch.frombuffer(bytearray(f.read()[header:]), dtype=torch.uint8)
    raise SystemExit(f"{name}[.gz] not found in {root} or {root / 'MNIST' / 'raw'}")


def plain_fit(data_dir: Path, epochs: int = 5, batch_size: int = 128, lr: float = 1e-3, eval_batch: int = 1000,
              train_subset: int | None = None, seed: int = 42) -> list[dict[str, float]]:
    """The seed's network trained by a plain PyTorch loop, the same work as `lightning-ae fit --config
    configs/ae_2d.yaml`: all 60,000 training images in memory, shuffled each epoch, batch 128, Adam
    1e-3, per-pixel MSE, and after each epoch the MSE over the 10,000 test images. Returns the epochs'
    train loss and val MSE."""
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)
    x_train = _read_idx(data_dir, "train-images-idx3-ubyte", 16).view(-1, 784).float() / 255  # (60000, 784)
    x_test = _read_idx(data_dir, "t10k-images-idx3-ubyte", 16).view(-1, 784).float() / 255  # (10000, 784)
    x_train = x_train[:train_subset] if train_subset else x_train
    model = nn.Sequential(nn.Linear(784, 512), nn.ELU(), nn.Linear(512, 128), nn.ELU(), nn.Linear(128, 2),
                          nn.Linear(2, 128), nn.ELU(), nn.Linear(128, 512), nn.ELU(), nn.Linear(512, 784), nn.Sigmoid())
    for layer in model:
        if isinstance(layer, nn.Linear):  # Glorot, as Keras (and configs/ae_2d.yaml: init xavier)
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        perm, total = torch.randperm(len(x_train)), torch.zeros(())
        for i in range(0, len(x_train), batch_size):
            xb = x_train[perm[i : i + batch_size]]
            loss = F.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
        model.eval()
        with torch.inference_mode():
            sq = sum(F.mse_loss(model(x_test[i : i + eval_batch]), x_test[i : i + eval_batch], reduction="sum")
                     for i in range(0, len(x_test), eval_batch))
        history.append({"epoch": epoch, "train_loss": float(total) / len(x_train),
                        "val_mse": float(sq) / x_test.numel()})
        print(f"epoch {epoch + 1}/{epochs}: loss {history[-1]['train_loss']:.4f}, val mse {history[-1]['val_mse']:.4f}",
              flush=True)
    return history


def plain_main(argv: list[str]) -> None:
    """`python -m lightning_ae.bench plain`: run `plain_fit`; the last line printed is JSON."""
    p = argparse.ArgumentParser(prog="python -m lightning_ae.bench plain", description=plain_fit.__doc__)
    p.add_argument("--data-dir", default=None, help="folder with the MNIST files (default: as lightning-ae finds it)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-subset", type=int, default=None)
    a = p.parse_args(argv)
    data_dir = Path(a.data_dir) if a.data_dir else _data_dir()
    history = plain_fit(data_dir, a.epochs, a.batch_size, a.lr, train_subset=a.train_subset)
    print(json.dumps({"val_mse": history[-1]["val_mse"], "history": history}))


# The seed's Keras script (Cross Validated answer 307746): its training part as posted, the images
# read from the same local files instead of keras.datasets (which downloads them). Left out: the
# PCA, the two `predict` passes over the training set and the plots, which the fit does not do.
KERAS_SCRIPT = """\
import gzip, json, os, sys
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from keras.optimizers import Adam

root, epochs, subset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) or None
def read(name, n):
    for path in (os.path.join(root, "MNIST", "raw", name), os.path.join(root, name)):
        for p in (path, path + ".gz"):
            if os.path.isfile(p):
                with (gzip.open if p.endswith(".gz") else open)(p, "rb") as f:
                    return np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(n, 784)
x_train = read("train-images-idx3-ubyte", 60000)[:subset] / 255
x_test = read("t10k-images-idx3-ubyte", 10000) / 255

m = Sequential()
m.add(Dense(512, activation='elu', input_shape=(784,)))
m.add(Dense(128, activation='elu'))
m.add(Dense(2, activation='linear', name="bottleneck"))
m.add(Dense(128, activation='elu'))
m.add(Dense(512, activation='elu'))
m.add(Dense(784, activation='sigmoid'))
m.compile(loss='mean_squared_error', optimizer = Adam())
history = m.fit(x_train, x_train, batch_size=128, epochs=epochs, verbose=1, validation_data=(x_test, x_test))
print(json.dumps({"val_mse": history.history["val_loss"][-1], "keras": keras.__version__,
                  "backend": keras.backend.backend()}))
"""


def _first_step_timer():
    """A Lightning callback that writes the seconds from $LIGHTNING_AE_BENCH_T0 (the time the bench
    started the process) to the first training step into the file $LIGHTNING_AE_BENCH_FIRST_STEP."""
    import lightning as L

    class FirstStepTimer(L.Callback):
        def __init__(self) -> None:
            self.done = False

        def on_train_batch_start(self, *_) -> None:
            if not self.done and os.environ.get(MARK_ENV):
                Path(os.environ[MARK_ENV]).write_text(f"{time.time() - float(os.environ[T0_ENV]):.3f}")
            self.done = True

    FirstStepTimer.__module__, FirstStepTimer.__qualname__ = __name__, "FirstStepTimer"
    return FirstStepTimer


_TIMER = None


def __getattr__(name: str):
    """`lightning_ae.bench.FirstStepTimer` (`--trainer.callbacks+=...`), built on first use so that
    importing this module (the plain script does) never imports Lightning."""
    global _TIMER
    if name == "FirstStepTimer":
        _TIMER = _TIMER or _first_step_timer()
        return _TIMER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _data_dir() -> Path:
    """The MNIST folder `lightning-ae` reads when run from the project root (see lightning_ae.idx)."""
    from lightning_ae.idx import DEFAULT_DATA_DIRS, find_data_dir

    env = os.environ.get("LIGHTNING_AE_DATA")
    for candidate in [env] if env else [str(ROOT / d) for d in DEFAULT_DATA_DIRS]:
        root = find_data_dir(candidate)
        if root is not None:
            return root.resolve()
    raise SystemExit("MNIST not found: set LIGHTNING_AE_DATA or see README, 'Data'.")


def _build(config: str, device: str, precision: str, epochs: int, compile_model: bool, batch_size: int | None,
           train_subset: int | None = None):
    """Model, DataModule and Trainer exactly as `lightning-ae fit --config configs/<config>.yaml` makes them."""
    from lightning_ae.cli import cli

    args = ["--config", str(ROOT / "configs" / f"{config}.yaml"), "--trainer.max_epochs", str(epochs),
            "--trainer.limit_val_batches", "0", "--trainer.num_sanity_val_steps", "0",
            "--trainer.accelerator", device, "--trainer.devices", "1", "--trainer.precision", precision,
            "--checkpoint.monitor", "null", "--checkpoint.save_top_k", "0", "--checkpoint.save_last", "false",
            "--last_checkpoint.every_n_epochs", "0",  # no last.ckpt either: checkpointing off, as said above
            "--trainer.enable_model_summary", "false",
            "--trainer.logger.init_args.save_dir", "/tmp/lightning_ae_bench",
            "--data.val_split", "test"]  # all 60,000 training images
    if compile_model:
        args += ["--model.init_args.compile", "true"]
    if batch_size:
        args += ["--data.batch_size", str(batch_size)]
    if train_subset:
        args += ["--data.train_subset", str(train_subset)]
    return cli(args, run=False)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _pipeline(model, dm, trainer, device: str) -> tuple[list[float], list[float]]:
    """Wall and CPU (all threads) seconds of each training epoch of `trainer.fit`."""
    import lightning as L

    times: list[float] = []
    cpu: list[float] = []

    class EpochTimer(L.Callback):
        def on_train_epoch_start(self, *_):
            _sync(device)
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def on_train_epoch_end(self, *_):
            _sync(device)
            times.append(time.perf_counter() - self.t0)
            cpu.append(time.process_time() - self.c0)

    trainer.callbacks.append(EpochTimer())
    trainer.fit(model, dm)
    return times, cpu


def _bare_trainer(trainer, epochs: int):
    """A Trainer on the same device and precision with nothing of the project's: Lightning's own loop."""
    import lightning as L

    return L.Trainer(max_epochs=epochs, accelerator=trainer.accelerator, devices=1, precision=trainer.precision,
                     logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     limit_val_batches=0, num_sanity_val_steps=0, default_root_dir="/tmp/lightning_ae_bench")


def _plain(model, dm, epochs: int, device: str, precision: str, compile_model: bool) -> tuple[list[float], list[float]]:
    from lightning_ae.compiling import compile_networks

    dm.setup("fit")
    x, _ = dm.split("train")
    dev = torch.device(device)
    x = x.to(dev)  # the pipeline keeps the data on a GPU too (device_resident: auto)
    model.to(dev).train()
    if compile_model:
        compile_networks(model, dev)
    opt = model.configure_optimizers()
    opt = opt["optimizer"] if isinstance(opt, dict) else opt
    bs, n, binary = dm.batch_size, len(x), dm.hparams.binarize
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16 if precision.startswith("bf16") else torch.float16,
                              enabled=precision.endswith("-mixed"))
    scaler = torch.amp.GradScaler(dev.type, enabled=precision == "16-mixed")
    times, cpu = [], []
    for epoch in range(epochs):
        _sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(epoch)).to(dev)
        g = torch.Generator(device=dev).manual_seed(epoch) if binary else None
        for i in range(0, n, bs):
            xb = x[perm[i : i + bs]]
            if binary:
                xb = binarize(xb, g)
            with autocast:
                loss, _, _ = model.objective(model.corrupt(xb), xb)
            opt.zero_grad(set_to_none=True)
            if scaler.is_enabled():  # 16-mixed: loss scaling, as Lightning's MixedPrecision plugin does
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
        _sync(device)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu


def _worker(a) -> None:
    torch.set_num_threads(a.threads)  # every kind: the same intra-op thread count
    built = _build(a.configs[0], a.device, a.precision, a.epochs, a.compile, a.batch_size, a.train_subset)
    model, dm, trainer = built.model, built.datamodule, built.trainer
    if a.worker == "pipeline":
        times, cpu = _pipeline(model, dm, trainer, a.device)
    elif a.worker == "lightning":
        times, cpu = _pipeline(model, dm, _bare_trainer(trainer, a.epochs), a.device)
    else:
        times, cpu = _plain(model, dm, a.epochs, a.device, a.precision, a.compile)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"times": times, "cpu": cpu, "n": len(dm.split("train")[0]), "peak_mb": peak_mb,
                      "threads": torch.get_num_threads()}))


def _measure(kind: str, config: str, device: str, precision: str, compile_model: bool, a) -> dict:
    cmd = [sys.executable, "-m", "lightning_ae.bench", "--worker", kind, "--configs", config, "--device", device,
           "--precision", precision, "--epochs", str(a.epochs), "--threads", str(a.threads)]
    if compile_model:
        cmd.append("--compile")
    if a.batch_size:
        cmd += ["--batch-size", str(a.batch_size)]
    if a.train_subset:
        cmd += ["--train-subset", str(a.train_subset)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"bench worker failed ({' '.join(cmd)}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _variants(device: str, precision: str) -> list[tuple[str, str, bool]]:
    """(device, precision, compile) of each row: the CPU row, and with --device cuda the GPU rows."""
    rows = [("cpu", precision, False)]
    if device == "cuda":
        rows += [("cuda", "32-true", False), ("cuda", "bf16-mixed", False), ("cuda", "32-true", True)]
    return rows


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# -- whole processes, timed from outside ----------------------------------------------------------
def _cli_command() -> list[str]:
    """`lightning-ae` as installed beside this Python (what a user types), else `python -m lightning_ae`."""
    script = Path(sys.executable).with_name("lightning-ae")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lightning_ae"]


def _run_process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run `cmd` from the project root, output to `log`: wall seconds, CPU seconds and peak RSS (MB)."""
    env = {**os.environ, **(env or {})}
    with open(log, "w") as out:
        env[T0_ENV] = repr(time.time())
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own resource usage
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"bench: `{' '.join(cmd)}` failed with status {proc.returncode}:\n{tail}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def _last_json(log: Path) -> dict:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def _whole_commands(a, work: Path) -> dict[str, tuple]:
    """{row name: (command of run i, extra environment, what run i did: final val MSE, first-step time)}."""
    data_dir = _data_dir()
    subset = ["--train-subset", str(a.train_subset)] if a.train_subset else []

    def fit(i: int) -> list[str]:
        cmd = [*_cli_command(), "fit", "--config", f"configs/{WHOLE_CONFIG}.yaml",
               "--trainer.logger.init_args.save_dir", str(work / "logs"),
               "--trainer.logger.init_args.version", f"run{i}",
               "--trainer.callbacks+=lightning_ae.bench.FirstStepTimer"]
        if a.whole_epochs != 5:
            cmd += ["--trainer.max_epochs", str(a.whole_epochs)]
        return cmd + (["--data.train_subset", str(a.train_subset)] if a.train_subset else [])

    def fit_result(i: int, log: Path) -> dict:
        record = json.loads((work / "logs" / WHOLE_CONFIG / f"run{i}" / "run.json").read_text())
        mark = work / f"first_step_{i}"
        return {"val_mse": record["fit"]["metrics"].get("val/mse"),
                "first_step": float(mark.read_text()) if mark.is_file() else None}

    commands = {
        f"`lightning-ae fit --config configs/{WHOLE_CONFIG}.yaml`": (
            fit, lambda i: {MARK_ENV: str(work / f"first_step_{i}")}, fit_result),
        "plain PyTorch script (`python -m lightning_ae.bench plain`)": (
            lambda i: [sys.executable, "-m", "lightning_ae.bench", "plain", "--data-dir", str(data_dir),
                       "--epochs", str(a.whole_epochs), *subset],
            None, lambda i, log: {"val_mse": _last_json(log).get("val_mse")}),
    }
    if a.keras_python:
        script = work / "seed_keras.py"
        script.write_text(KERAS_SCRIPT)
        commands["the seed's Keras script (Keras 3, torch backend)"] = (
            lambda i: [a.keras_python, str(script), str(data_dir), str(a.whole_epochs), str(a.train_subset or 0)],
            lambda i: {"KERAS_BACKEND": "torch"}, lambda i, log: {"val_mse": _last_json(log).get("val_mse")})
    return commands


def _alternate(commands: dict, repeats: int, work: Path, label: str) -> dict[str, list[dict]]:
    """Run each command `repeats` times, in turn; each round starts one command later than the last."""
    names, runs = list(commands), {name: [] for name in commands}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            make, env, result = commands[name]
            i = len(runs[name])
            log = work / f"{label}_{names.index(name)}_{i}.log"
            res = _run_process(make(i), log, env(i) if env else None)
            res.update(result(i, log) if result else {})
            runs[name].append(res)
            print(f"  {label} round {r + 1}/{repeats}: {res['wall']:6.1f} s  {name}", flush=True)
    return runs


def _spread(values: list[float], digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def _whole_table(runs: dict[str, list[dict]]) -> list[str]:
    names = list(runs)
    plain = runs[names[1]]
    rows = ["| command | runs | wall s: median (min-max) | / plain script, paired: median (min-max) | CPU s "
            "(median) | peak RSS MB | process start to 1st training step, s | val MSE after the last epoch |",
            "|---|---|---|---|---|---|---|---|"]
    for name in names:
        r = runs[name]
        first = [x["first_step"] for x in r if x.get("first_step") is not None]
        mse = [x["val_mse"] for x in r if x.get("val_mse") is not None]
        mse_cell = f"{statistics.median(mse):.4f}" if mse else ""
        rows.append(f"| {name} | {len(r)} | {_spread([x['wall'] for x in r])} | "
                    f"{_spread([p['wall'] / q['wall'] for p, q in zip(r, plain)], 3)} | "
                    f"{statistics.median([x['cpu'] for x in r]):.1f} | {max(x['peak_mb'] for x in r):,.0f} | "
                    f"{_spread(first) if first else ''} | {mse_cell} |")
    if len(names) > 2:
        pairs = [p["wall"] / q["wall"] for p, q in zip(runs[names[0]], runs[names[2]])]
        rows += ["", f"fit / Keras script, paired: median {_spread(pairs, 3)}; target <= {TARGET_WHOLE_VS_KERAS:.2f}."]
    return rows


def _startup_table(runs: dict[str, list[dict]]) -> list[str]:
    rows = ["| command | runs | wall s: median (min-max) | peak RSS MB |", "|---|---|---|---|"]
    for name, r in runs.items():
        rows.append(f"| {name} | {len(r)} | {_spread([x['wall'] for x in r])} | {max(x['peak_mb'] for x in r):,.0f} |")
    return rows


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) / {five:.2f} (5 min)"


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plain"]:
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
    p.add_argument("--epochs", type=int, default=3,
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
        _worker(a)
        return
    if "epochs" in a.parts and a.epochs < 2:
        raise SystemExit("--epochs must be at least 2 (the first epoch is warm-up).")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible on this machine; run without it for the CPU rows.")

    import tempfile

    cmd = "python -m lightning_ae.bench " + " ".join(argv)
    head = [f"`{cmd.strip()}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
            f"CPU: {_cpu_name()}, {os.cpu_count()} logical cores; torch {torch.__version__}, Python "
            f"{platform.python_version()}. Load average at the start: {_load()}.", ""]
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lightning_ae_bench_") as tmp:
        work = Path(tmp)
        if "startup" in a.parts:  # first: it also brings the files every later run reads into the page cache
            py = sys.executable
            startup = {"`lightning-ae fit --help`": (lambda i: [*_cli_command(), "fit", "--help"], None, None),
                       '`python -c "import lightning_ae.cli"`': (lambda i: [py, "-c", "import lightning_ae.cli"],
                                                                  None, None),
                       '`python -c "import lightning"` (the floor under it)': (lambda i: [py, "-c", "import lightning"],
                                                                                None, None),
                       '`python -c "import torch"`': (lambda i: [py, "-c", "import torch"], None, None)}
            load = _load()
            runs = _alternate(startup, a.startup_repeats, work, "startup")
            sections += ["## Start-up", "",
                         f"Whole processes, alternating, {a.startup_repeats} runs each; load average {load} before, "
                         f"{_load()} after.", "", *_startup_table(runs), ""]
        if "whole" in a.parts:
            load = _load()
            runs = _alternate(_whole_commands(a, work), a.whole_repeats, work, "whole")
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
                         f"Load average {load} before, {_load()} after. Target: fit <= {TARGET_WHOLE_VS_PLAIN:.2f}x "
                         f"the plain script, <= {TARGET_WHOLE_VS_KERAS:.2f}x the Keras script.", "",
                         *_whole_table(runs), ""]
            if not a.keras_python:
                sections += ["No Keras row: pass `--keras-python` (or `make bench KERAS_PYTHON=...`), a Python with "
                             "`pip install keras torch` (KERAS_BACKEND=torch is set for it).", ""]
        if "epochs" in a.parts:
            load = _load()
            sections += ["## Training epochs only", "", *_epoch_section(a, load), ""]

    text = "\n".join(head + sections)
    print(text)
    out = Path(a.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Benchmark: `lightning-ae fit` against a plain PyTorch script\n\n" + text)
    print(f"wrote {out}")


def _epoch_section(a, load_before: str) -> list[str]:
    """The per-epoch training table: pipeline, bare Lightning and plain loop, alternating."""
    rows = []
    for config in a.configs:
        for device, precision, compile_model in _variants(a.device, a.precision):
            runs: dict[str, list[float]] = {kind: [] for kind in KINDS}
            cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
            peak: dict[str, float] = {}
            n = 0
            for r in range(a.repeats):
                for kind in (KINDS if r % 2 == 0 else KINDS[::-1]):
                    res = _measure(kind, config, device, precision, compile_model, a)
                    runs[kind] += res["times"][1:]
                    cpu[kind] += res["cpu"][1:]
                    peak[kind] = max(peak.get(kind, 0.0), res["peak_mb"])
                    n = res["n"]
                    print(f"  {config} {device} {precision}{' compiled' if compile_model else ''} {kind:<8} "
                          "epochs (s): " + ", ".join(f"{t:.2f}" for t in res["times"]), flush=True)
            pipe, bare, plain = (statistics.median(runs[kind]) for kind in KINDS)
            pipe_cpu, plain_cpu = statistics.median(cpu["pipeline"]), statistics.median(cpu["plain"])
            rows.append((config, device, precision, compile_model, pipe, bare, plain, n, peak["pipeline"],
                         peak["plain"], pipe_cpu, plain_cpu, runs))
    head = [f"{a.threads} torch thread(s) in every kind; load average {load_before} before, {_load()} after "
            "(other work on the machine slows every kind alike: they alternate).",
            f"Each cell: median of {a.repeats * (a.epochs - 1)} epochs over {a.repeats} processes per kind "
            f"(first epoch of each process dropped as warm-up); CPU s/epoch: the process's CPU time (all threads) "
            "in the same epochs, steadier than wall time on a busy machine. Targets: ratio <= "
            f"{TARGET_RATIO:.2f} on CPU, pipeline peak RSS <= {TARGET_RSS_MB / 1024:.1f} GB.",
            ""]
    table = ["| config | device | precision | compile | pipeline s/epoch | plain loop s/epoch | ratio | "
             "bare Lightning s/epoch | bare / plain | pipeline samples/s | plain samples/s | "
             "pipeline peak RSS (MB) | plain peak RSS (MB) | pipeline CPU s/epoch | plain CPU s/epoch | CPU ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for config, device, precision, compile_model, pipe, bare, plain, n, pk_pipe, pk_plain, c_pipe, c_plain, _ in rows:
        table.append(f"| {config} | {device} | {precision} | {'yes' if compile_model else 'no'} | {pipe:.3f} | "
                     f"{plain:.3f} | {pipe / plain:.3f} | {bare:.3f} | {bare / plain:.3f} | {n / pipe:,.0f} | "
                     f"{n / plain:,.0f} | {pk_pipe:,.0f} | {pk_plain:,.0f} | {c_pipe:.3f} | {c_plain:.3f} | "
                     f"{c_pipe / c_plain:.3f} |")
    if a.device != "cuda":
        for config in a.configs:
            table.append(f"| {config} | cuda | 32-true / bf16-mixed / compiled | | not measured (no GPU; "
                         "`--device cuda` on a GPU machine) | | | | | | | | | | | |")
    epochs = ["", "Every epoch (s), in measurement order:", ""]
    for config, device, precision, compile_model, *_, runs in rows:
        for kind in KINDS:
            epochs.append(f"- {config} {device} {precision}{' compiled' if compile_model else ''} {kind}: "
                          + ", ".join(f"{t:.3f}" for t in runs[kind]))
    return head + table + epochs


if __name__ == "__main__":
    main()
