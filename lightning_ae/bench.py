"""`make bench`: the project's training pipeline against a hand-written PyTorch loop, side by side.

For each model config, on the same in-memory MNIST tensors, the same model, optimizer, loss,
batch size and thread count, it times training epochs of

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
the ratios (a)/(b) and (c)/(b) and peak RSS, printed and written to reports/bench.md.

`--device cuda` adds GPU rows (32-true, bf16-mixed and `compile: true`) where a GPU is visible;
there the DataModule keeps the data on the GPU (`device_resident: auto`).
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
TARGET_RATIO, TARGET_RSS_MB = 1.10, 1536
KINDS = ("pipeline", "lightning", "plain")  # (a), (c), (b) of the docstring; they alternate


def _build(config: str, device: str, precision: str, epochs: int, compile_model: bool, batch_size: int | None,
           train_subset: int | None = None):
    """Model, DataModule and Trainer exactly as `lightning-ae fit --config configs/<config>.yaml` makes them."""
    from lightning_ae.cli import cli

    args = ["--config", str(ROOT / "configs" / f"{config}.yaml"), "--trainer.max_epochs", str(epochs),
            "--trainer.limit_val_batches", "0", "--trainer.num_sanity_val_steps", "0",
            "--trainer.accelerator", device, "--trainer.devices", "1", "--trainer.precision", precision,
            "--checkpoint.monitor", "null", "--checkpoint.save_top_k", "0", "--checkpoint.save_last", "false",
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


def _pipeline(model, dm, trainer, device: str) -> list[float]:
    import lightning as L

    times: list[float] = []

    class EpochTimer(L.Callback):
        def on_train_epoch_start(self, *_):
            _sync(device)
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, *_):
            _sync(device)
            times.append(time.perf_counter() - self.t0)

    trainer.callbacks.append(EpochTimer())
    trainer.fit(model, dm)
    return times


def _bare_trainer(trainer, epochs: int):
    """A Trainer on the same device and precision with nothing of the project's: Lightning's own loop."""
    import lightning as L

    return L.Trainer(max_epochs=epochs, accelerator=trainer.accelerator, devices=1, precision=trainer.precision,
                     logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     limit_val_batches=0, num_sanity_val_steps=0, default_root_dir="/tmp/lightning_ae_bench")


def _plain(model, dm, epochs: int, device: str, precision: str, compile_model: bool) -> list[float]:
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
    times = []
    for epoch in range(epochs):
        _sync(device)
        t0 = time.perf_counter()
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
    return times


def _worker(a) -> None:
    torch.set_num_threads(a.threads)  # every kind: the same intra-op thread count
    built = _build(a.configs[0], a.device, a.precision, a.epochs, a.compile, a.batch_size, a.train_subset)
    model, dm, trainer = built.model, built.datamodule, built.trainer
    if a.worker == "pipeline":
        times = _pipeline(model, dm, trainer, a.device)
    elif a.worker == "lightning":
        times = _pipeline(model, dm, _bare_trainer(trainer, a.epochs), a.device)
    else:
        times = _plain(model, dm, a.epochs, a.device, a.precision, a.compile)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"times": times, "n": len(dm.split("train")[0]), "peak_mb": peak_mb,
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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=["ae_2d", "vae_20d"], help="config names under configs/")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="cuda: add the GPU rows")
    p.add_argument("--precision", default="32-true", help="precision of the CPU rows: 32-true or bf16-mixed")
    p.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--epochs", type=int, default=3, help="epochs per measurement (the first is warm-up)")
    p.add_argument("--repeats", type=int, default=2, help="alternating repeats of each kind")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads, every kind")
    p.add_argument("--batch-size", type=int, default=None, help="override the config's data.batch_size")
    p.add_argument("--train-subset", type=int, default=None,
                   help="time epochs over only this many training images (a quick check of the bench itself)")
    p.add_argument("--output", default=str(ROOT / "reports" / "bench.md"))
    p.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        _worker(a)
        return
    if a.epochs < 2:
        raise SystemExit("--epochs must be at least 2 (the first epoch is warm-up).")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible on this machine; run without it for the CPU rows.")

    load_before = os.getloadavg()
    rows = []
    for config in a.configs:
        for device, precision, compile_model in _variants(a.device, a.precision):
            runs: dict[str, list[float]] = {kind: [] for kind in KINDS}
            peak: dict[str, float] = {}
            n = 0
            for r in range(a.repeats):
                for kind in (KINDS if r % 2 == 0 else KINDS[::-1]):
                    res = _measure(kind, config, device, precision, compile_model, a)
                    runs[kind] += res["times"][1:]
                    peak[kind] = max(peak.get(kind, 0.0), res["peak_mb"])
                    n = res["n"]
                    print(f"  {config} {device} {precision}{' compiled' if compile_model else ''} {kind:<8} "
                          "epochs (s): " + ", ".join(f"{t:.2f}" for t in res["times"]), flush=True)
            pipe, bare, plain = (statistics.median(runs[kind]) for kind in KINDS)
            rows.append((config, device, precision, compile_model, pipe, bare, plain, n, peak["pipeline"],
                         peak["plain"], runs))
    load_after = os.getloadavg()

    cmd = "python -m lightning_ae.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    head = [f"`{cmd.strip()}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
            "",
            f"CPU: {_cpu_name()}, {os.cpu_count()} logical cores, {a.threads} torch thread(s) in every kind; "
            f"torch {torch.__version__}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
            "(other work on the machine slows every kind alike: they alternate).",
            f"Each cell: median of {a.repeats * (a.epochs - 1)} epochs over {a.repeats} processes per kind "
            f"(first epoch of each process dropped as warm-up). Targets: ratio <= {TARGET_RATIO:.2f} on CPU, "
            f"pipeline peak RSS <= {TARGET_RSS_MB / 1024:.1f} GB.",
            ""]
    table = ["| config | device | precision | compile | pipeline s/epoch | plain loop s/epoch | ratio | "
             "bare Lightning s/epoch | bare / plain | pipeline samples/s | plain samples/s | "
             "pipeline peak RSS (MB) | plain peak RSS (MB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for config, device, precision, compile_model, pipe, bare, plain, n, pk_pipe, pk_plain, _ in rows:
        table.append(f"| {config} | {device} | {precision} | {'yes' if compile_model else 'no'} | {pipe:.3f} | "
                     f"{plain:.3f} | {pipe / plain:.3f} | {bare:.3f} | {bare / plain:.3f} | {n / pipe:,.0f} | "
                     f"{n / plain:,.0f} | {pk_pipe:,.0f} | {pk_plain:,.0f} |")
    if a.device != "cuda":
        for config in a.configs:
            table.append(f"| {config} | cuda | 32-true / bf16-mixed / compiled | | not measured (no GPU; "
                         "`--device cuda` on a GPU machine) | | | | | | | | |")
    epochs = ["", "Every epoch (s), in measurement order:", ""]
    for config, device, precision, compile_model, *_, runs in rows:
        for kind in KINDS:
            epochs.append(f"- {config} {device} {precision}{' compiled' if compile_model else ''} {kind}: "
                          + ", ".join(f"{t:.3f}" for t in runs[kind]))
    text = "\n".join(head + table + epochs)
    print(text)
    out = Path(a.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Benchmark: the CLI pipeline vs a plain PyTorch loop\n\n" + text + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
