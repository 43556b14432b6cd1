"""The whole-process tables of `make bench`: commands a user types, timed from the shell (start-up,
and the 5-epoch fit beside the plain script and the Keras one), alternating (see `lightning_ae.bench`)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import lightning as L

from lightning_ae.bench.common import MARK_ENV, ROOT, T0_ENV, TARGET_WHOLE_VS_KERAS, WHOLE_CONFIG, spread
from lightning_ae.bench.plain import KERAS_SCRIPT, data_dir


class FirstStepTimer(L.Callback):
    """Writes the seconds from $LIGHTNING_AE_BENCH_T0 (the time the bench started the process) to the first
    training step into the file $LIGHTNING_AE_BENCH_FIRST_STEP (`--trainer.callbacks+=` of the timed fit)."""

    def __init__(self) -> None:
        self.done = False

    def on_train_batch_start(self, *_) -> None:
        if not self.done and os.environ.get(MARK_ENV):
            Path(os.environ[MARK_ENV]).write_text(f"{time.time() - float(os.environ[T0_ENV]):.3f}")
        self.done = True


def cli_command() -> list[str]:
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


def whole_commands(a, work: Path) -> dict[str, tuple]:
    """{row name: (command of run i, extra environment, what run i did: final val MSE, first-step time)}."""
    data_dir_ = data_dir()
    subset = ["--train-subset", str(a.train_subset)] if a.train_subset else []

    def fit(i: int) -> list[str]:
        cmd = [*cli_command(), "fit", "--config", f"configs/{WHOLE_CONFIG}.yaml",
               "--trainer.logger.init_args.save_dir", str(work / "logs"),
               "--trainer.logger.init_args.version", f"run{i}",
               "--trainer.callbacks+=lightning_ae.bench.whole.FirstStepTimer"]
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
            lambda i: [sys.executable, "-m", "lightning_ae.bench", "plain", "--data-dir", str(data_dir_),
                       "--epochs", str(a.whole_epochs), *subset],
            None, lambda i, log: {"val_mse": _last_json(log).get("val_mse")}),
    }
    if a.keras_python:
        script = work / "seed_keras.py"
        script.write_text(KERAS_SCRIPT)
        commands["the seed's Keras script (Keras 3, torch backend)"] = (
            lambda i: [a.keras_python, str(script), str(data_dir_), str(a.whole_epochs), str(a.train_subset or 0)],
            lambda i: {"KERAS_BACKEND": "torch"}, lambda i, log: {"val_mse": _last_json(log).get("val_mse")})
    return commands


def alternate(commands: dict, repeats: int, work: Path, label: str) -> dict[str, list[dict]]:
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


def whole_table(runs: dict[str, list[dict]]) -> list[str]:
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
        rows.append(f"| {name} | {len(r)} | {spread([x['wall'] for x in r])} | "
                    f"{spread([p['wall'] / q['wall'] for p, q in zip(r, plain)], 3)} | "
                    f"{statistics.median([x['cpu'] for x in r]):.1f} | {max(x['peak_mb'] for x in r):,.0f} | "
                    f"{spread(first) if first else ''} | {mse_cell} |")
    if len(names) > 2:
        pairs = [p["wall"] / q["wall"] for p, q in zip(runs[names[0]], runs[names[2]])]
        rows += ["", f"fit / Keras script, paired: median {spread(pairs, 3)}; target <= {TARGET_WHOLE_VS_KERAS:.2f}."]
    return rows


def startup_table(runs: dict[str, list[dict]]) -> list[str]:
    rows = ["| command | runs | wall s: median (min-max) | peak RSS MB |", "|---|---|---|---|"]
    for name, r in runs.items():
        rows.append(f"| {name} | {len(r)} | {spread([x['wall'] for x in r])} | {max(x['peak_mb'] for x in r):,.0f} |")
    return rows
