"""The denoising-autoencoder tables of `make repro-denoising`, read from finished runs' run.json files
(`lightning_ae.summary.read_record`) and the step counts of their checkpoints.

`python -m lightning_ae.experiments.denoising --logs logs` prints and writes
<logs>/denoising/table.{md,json}:

1. the DeepLearning@Home blog runs (tied, all-sigmoid autoencoders, batch 64, 100 epochs; its noise
   flag applied no noise): our test RMSE over all test pixels (clean inputs) against the published one;
2. the noise comparison: the 784-128-10 net trained on clean inputs and the same net trained with
   masking or Gaussian noise, each scored on the same corrupted test images (`test` with
   `--model.init_args.eval_noise true`), and on clean ones.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from lightning_ae.summary import read_record

# config -> (network, optimizer, published test RMSE)
BLOG = {
    "dae_784_10": ("784-10", "RMSprop (TF1) 0.1", 0.206152),
    "dae_784_128_10": ("784-128-10", "Adam 0.01", 0.136408),
    "dae_784_128_128_10": ("784-128-128-10", "Adam 0.01", 0.131669),
    "dae_784_512_128_10": ("784-512-128-10", "Adam 0.01", 0.127140),
    "dae_784_1": ("784-512-128-1", "Adam 0.01", 0.213122),
}
CLEAN = "dae_784_128_10"
NOISES = ("masking", "gaussian")


def test_rmse(run_dir: Path, stage: str = "test", key: str = "test/rmse") -> float:
    """test/rmse of a finished run (or another stage's metric), NaN when the run or the metric is missing."""
    record = read_record(run_dir) or {}
    return float(record.get(stage, {}).get("metrics", {}).get(key, math.nan))


def epochs_trained(run_dir: Path, batch_size: int = 64, train_images: int = 60_000) -> float:
    """Epochs behind the run's last checkpoint (from its step count: a run stopped mid-epoch shows a
    fraction); NaN without one."""
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    if not ckpt.is_file():
        return math.nan
    steps = torch.load(ckpt, map_location="cpu", weights_only=True)["global_step"]  # data, never code
    return steps / math.ceil(train_images / batch_size)


def fmt(v: float, digits: int = 6) -> str:
    return "missing" if math.isnan(v) else f"{v:.{digits}f}"


def blog_rows(logs: Path, version: str = "repro") -> list[dict]:
    rows = []
    for config, (net, opt, published) in BLOG.items():
        ours = test_rmse(logs / config / version)
        rows.append({"run": config, "network": net, "optimizer": opt, "epochs": epochs_trained(logs / config / version),
                     "test_rmse": ours, "last_val_rmse": test_rmse(logs / config / version, "fit", "val/rmse"),
                     "published": published, "abs_diff": abs(ours - published)})
    return rows


def noise_rows(logs: Path, levels: dict[str, float], version: str = "repro") -> list[dict]:
    """`version` names the training runs (repro, repro_seed0); the noisy tests are eval_<noise> with its suffix."""
    rows, suffix = [], version.removeprefix("repro")
    for noise in NOISES:
        trained = f"{CLEAN}_{noise}"
        rows.append({"test_noise": f"{noise} {levels[noise]:g}",
                     "clean_net_noisy_rmse": test_rmse(logs / CLEAN / f"eval_{noise}{suffix}"),
                     "noisy_net_noisy_rmse": test_rmse(logs / trained / f"eval_{noise}{suffix}"),
                     "clean_net_clean_rmse": test_rmse(logs / CLEAN / version),
                     "noisy_net_clean_rmse": test_rmse(logs / trained / version),
                     "noisy_net": trained, "epochs_clean_net": epochs_trained(logs / CLEAN / version),
                     "epochs_noisy_net": epochs_trained(logs / trained / version)})
    return rows


def markdown(blog: list[dict], noise: list[dict]) -> str:
    lines = ["Blog runs: test RMSE over all test pixels, clean test inputs", "",
             "epochs: of the tested checkpoint (last.ckpt); last val RMSE: the fit's final validation, on the",
             "test set (val_split: test), i.e. the test RMSE of the final weights", "",
             "| run | network | optimizer | epochs | our test RMSE | published | abs diff | last val RMSE |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['run']} | {r['network']} | {r['optimizer']} | {fmt(r['epochs'], 1)} | {fmt(r['test_rmse'])} | {r['published']:.6f} | "
              f"{fmt(r['abs_diff'])} | {fmt(r['last_val_rmse'])} |" for r in blog]
    lines += ["", "Noise comparison (784-128-10, Adam 0.01): test RMSE against the clean images", "",
              "| test inputs corrupted by | trained clean | trained with that noise | noisy-trained net | epochs (clean, noisy) | "
              "clean inputs: trained clean | clean inputs: trained with noise |", "|---|---:|---:|---|---|---:|---:|"]
    lines += [f"| {r['test_noise']} | {fmt(r['clean_net_noisy_rmse'])} | {fmt(r['noisy_net_noisy_rmse'])} | "
              f"{r['noisy_net']} | {fmt(r['epochs_clean_net'], 1)}, {fmt(r['epochs_noisy_net'], 1)} | "
              f"{fmt(r['clean_net_clean_rmse'])} | {fmt(r['noisy_net_clean_rmse'])} |" for r in noise]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lightning_ae.experiments.denoising", description=__doc__.split("\n")[0])
    parser.add_argument("--logs", default="logs", help="the logs folder holding <config>/repro/run.json")
    parser.add_argument("--version", default="repro", help="the runs' folder name under <config>/ (make: repro_seed0)")
    parser.add_argument("--masking", type=float, default=0.3, help="masking fraction of the noisy test images")
    parser.add_argument("--gaussian", type=float, default=0.3, help="Gaussian std of the noisy test images")
    args = parser.parse_args(argv)
    logs = Path(args.logs)
    blog = blog_rows(logs, args.version)
    noise = noise_rows(logs, {"masking": args.masking, "gaussian": args.gaussian}, args.version)
    table = markdown(blog, noise)
    print(table)
    out = logs / "denoising"
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(table + "\n")
    (out / "table.json").write_text(json.dumps({"blog": blog, "noise": noise}, indent=2))
    print(f"wrote {out / 'table.md'} and {out / 'table.json'}")


if __name__ == "__main__":
    main()
