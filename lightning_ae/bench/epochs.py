"""The per-epoch table of `make bench`: seconds per training epoch of the pipeline (the model,
DataModule and Trainer the CLI builds), bare Lightning and a plain loop, each in its own process,
alternating (see `lightning_ae.bench`)."""

from __future__ import annotations

import copy
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from lightning_ae.bench.common import KINDS, ROOT, TARGET_RATIO, TARGET_RSS_MB, load_average, spread
from lightning_ae.loader import binarize


def _build(config: str, device: str, precision: str, epochs: int, compile_model: bool, batch_size: int | None,
           train_subset: int | None = None):
    """Model, DataModule and Trainer exactly as `lightning-ae fit --config configs/<config>.yaml` makes them."""
    from lightning_ae.cli import cli, drop_idle_callbacks
    from lightning_ae.config_files import config_path

    args = ["--config", str(config_path(config)), "--trainer.max_epochs", str(epochs),
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
    built = cli(args, run=False)
    drop_idle_callbacks(built.trainer, "fit")  # as `lightning-ae fit` does
    return built


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class PlainLoop:
    """The plain loop (b) on its own copy of the model: `randperm`, slicing (and the dynamic
    binarisation the config asks for), forward, loss, backward, `optimizer.step()`, one epoch per call."""

    def __init__(self, model, dm, device: str, precision: str, compile_model: bool) -> None:
        from lightning_ae.compiling import compile_networks

        dm.setup("fit")
        self.dev = torch.device(device)
        self.x = dm.split("train")[0].to(self.dev)  # the pipeline keeps the data on a GPU too (device_resident: auto)
        self.model = model.to(self.dev).train()
        if compile_model:
            compile_networks(self.model, self.dev)
        opt = self.model.configure_optimizers()
        self.opt = opt["optimizer"] if isinstance(opt, dict) else opt
        self.bs, self.binary, self.device = dm.batch_size, dm.hparams.binarize, device
        self.autocast = torch.autocast(self.dev.type, dtype=torch.bfloat16 if precision.startswith("bf16") else torch.float16,
                                       enabled=precision.endswith("-mixed"))
        self.scaler = torch.amp.GradScaler(self.dev.type, enabled=precision == "16-mixed")

    def epoch(self, epoch: int) -> tuple[float, float]:
        """Wall and CPU (all threads) seconds of one training epoch."""
        model, opt, x, bs, n = self.model, self.opt, self.x, self.bs, len(self.x)
        _sync(self.device)
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.enable_grad():
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(epoch)).to(self.dev)
            g = torch.Generator(device=self.dev).manual_seed(epoch) if self.binary else None
            for i in range(0, n, bs):
                xb = x[perm[i : i + bs]]
                if self.binary:
                    xb = binarize(xb, g)
                with self.autocast:
                    loss, _, _ = model.objective(model.corrupt(xb), xb)
                opt.zero_grad(set_to_none=True)
                if self.scaler.is_enabled():  # 16-mixed: loss scaling, as Lightning's MixedPrecision plugin does
                    self.scaler.scale(loss).backward()
                    self.scaler.step(opt)
                    self.scaler.update()
                else:
                    loss.backward()
                    opt.step()
        _sync(self.device)
        return time.perf_counter() - t0, time.process_time() - c0


def _pipeline(model, dm, trainer, device: str, twin: PlainLoop) -> tuple[list[float], list[float], list[float]]:
    """Wall and CPU (all threads) seconds of each training epoch of `trainer.fit`, and the
    wall seconds of a plain-loop epoch run next to each one in the same process (before the even
    epochs, after the odd ones), the pair's partner: seconds apart, so slow spells of a shared machine
    fall on both."""
    import lightning as L

    times: list[float] = []
    cpu: list[float] = []
    paired: list[float] = []

    class EpochTimer(L.Callback):
        def on_train_epoch_start(self, trainer, *_):
            if trainer.current_epoch % 2 == 0:
                paired.append(twin.epoch(trainer.current_epoch)[0])
            _sync(device)
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def on_train_epoch_end(self, trainer, *_):
            _sync(device)
            times.append(time.perf_counter() - self.t0)
            cpu.append(time.process_time() - self.c0)
            if trainer.current_epoch % 2 == 1:
                paired.append(twin.epoch(trainer.current_epoch)[0])

    trainer.callbacks.append(EpochTimer())
    trainer.fit(model, dm)
    return times, cpu, paired


def _bare_trainer(trainer, epochs: int):
    """A Trainer on the same device and precision with nothing of the project's: Lightning's own loop."""
    import lightning as L

    return L.Trainer(max_epochs=epochs, accelerator=trainer.accelerator, devices=1, precision=trainer.precision,
                     logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     limit_val_batches=0, num_sanity_val_steps=0, default_root_dir="/tmp/lightning_ae_bench")


def worker(a) -> None:
    torch.set_num_threads(a.threads)  # every kind: the same intra-op thread count
    built = _build(a.configs[0], a.device, a.precision, a.epochs, a.compile, a.batch_size, a.train_subset)
    model, dm, trainer = built.model, built.datamodule, built.trainer
    paired: list[float] = []
    if a.worker == "plain":
        plain = PlainLoop(model, dm, a.device, a.precision, a.compile)
        times, cpu = (list(t) for t in zip(*(plain.epoch(epoch) for epoch in range(a.epochs))))
    else:
        # the plain loop's partner epochs run on a copy made before any training, with its own optimizer
        # (the data tensors are shared: the copy adds its weights and optimizer state, a few MB, to the peak RSS)
        twin = PlainLoop(copy.deepcopy(model), dm, a.device, a.precision, a.compile)
        times, cpu, paired = _pipeline(model, dm, trainer if a.worker == "pipeline" else _bare_trainer(trainer, a.epochs),
                                       a.device, twin)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"times": times, "cpu": cpu, "paired": paired, "n": len(dm.split("train")[0]),
                      "peak_mb": peak_mb, "threads": torch.get_num_threads()}))


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



def epoch_section(a, load_before: str) -> list[str]:
    """The per-epoch training table: pipeline, bare Lightning and plain loop, alternating; the pipeline
    and bare Lightning each paired with plain-loop epochs run beside theirs in the same process."""
    rows = []
    for config in a.configs:
        for device, precision, compile_model in _variants(a.device, a.precision):
            runs: dict[str, list[float]] = {kind: [] for kind in KINDS}
            cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
            partners: dict[str, list[float]] = {kind: [] for kind in KINDS}  # the in-process plain epochs
            ratios: dict[str, list[float]] = {kind: [] for kind in KINDS}  # each epoch over its partner's
            peak: dict[str, float] = {}
            n = 0
            for r in range(a.repeats):
                for kind in (KINDS if r % 2 == 0 else KINDS[::-1]):
                    res = _measure(kind, config, device, precision, compile_model, a)
                    runs[kind] += res["times"][1:]
                    cpu[kind] += res["cpu"][1:]
                    partners[kind] += res["paired"][1:]
                    ratios[kind] += [t / p for t, p in zip(res["times"][1:], res["paired"][1:])]
                    peak[kind] = max(peak.get(kind, 0.0), res["peak_mb"])
                    n = res["n"]
                    print(f"  {config} {device} {precision}{' compiled' if compile_model else ''} {kind:<8} "
                          "epochs (s): " + ", ".join(f"{t:.2f}" for t in res["times"])
                          + ("; plain partners: " + ", ".join(f"{t:.2f}" for t in res["paired"]) if res["paired"] else ""),
                          flush=True)
            rows.append((config, device, precision, compile_model, n, runs, cpu, partners, ratios, peak))
    head = [f"{a.threads} torch thread(s) in every kind; load average {load_before} before, {load_average()} after.",
            f"Seconds per epoch: median of {a.repeats * (a.epochs - 1)} epochs over {a.repeats} processes per kind "
            "(the kinds alternate; the first epoch of each process is dropped as warm-up). **Paired**: in the "
            "pipeline's and bare Lightning's processes a plain-loop epoch (on its own copy of the model, same data "
            "and threads) runs right beside each of theirs (before the even epochs, after the odd ones); each "
            "epoch is divided by its partner's and the median (min-max) of those ratios is quoted: a slow spell of "
            "the shared machine lasts longer than a pair, so it falls on both halves, where ratios of separate "
            f"processes' medians (the column after) move by 10-20% between runs. Targets: paired ratio <= "
            f"{TARGET_RATIO:.2f} on CPU, pipeline peak RSS <= {TARGET_RSS_MB / 1024:.1f} GB.",
            ""]
    table = ["| config | device | precision | compile | pipeline s/epoch | plain loop s/epoch | "
             "pipeline / plain, paired: median (min-max) | bare Lightning s/epoch | bare / plain, paired: median "
             "(min-max) | pipeline / plain, separate processes | pipeline samples/s | plain samples/s | "
             "pipeline peak RSS (MB) | plain peak RSS (MB) | pipeline CPU s/epoch | plain CPU s/epoch | CPU ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for config, device, precision, compile_model, n, runs, cpu, _, ratios, peak in rows:
        pipe, bare, plain = (statistics.median(runs[kind]) for kind in KINDS)
        c_pipe, c_plain = statistics.median(cpu["pipeline"]), statistics.median(cpu["plain"])
        table.append(f"| {config} | {device} | {precision} | {'yes' if compile_model else 'no'} | {pipe:.3f} | "
                     f"{plain:.3f} | {spread(ratios['pipeline'], 3)} | {bare:.3f} | {spread(ratios['lightning'], 3)} | "
                     f"{pipe / plain:.3f} | {n / pipe:,.0f} | {n / plain:,.0f} | {peak['pipeline']:,.0f} | "
                     f"{peak['plain']:,.0f} | {c_pipe:.3f} | {c_plain:.3f} | {c_pipe / c_plain:.3f} |")
    if a.device != "cuda":
        for config in a.configs:
            table.append(f"| {config} | cuda | 32-true / bf16-mixed / compiled | | not measured (no GPU; "
                         "`--device cuda` on a GPU machine) | | | | | | | | | | | | |")
    epochs = ["", "Every epoch (s), in measurement order:", ""]
    for config, device, precision, compile_model, _, runs, _, partners, _, _ in rows:
        name = f"{config} {device} {precision}{' compiled' if compile_model else ''}"
        for kind in KINDS:
            epochs.append(f"- {name} {kind}: " + ", ".join(f"{t:.3f}" for t in runs[kind]))
            if partners[kind]:
                epochs.append(f"- {name} {kind}'s plain partners: " + ", ".join(f"{t:.3f}" for t in partners[kind]))
    return head + table + epochs
