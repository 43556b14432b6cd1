"""Does unsupervised pretraining help? The two tables of `mk/greedy.mk`, from real runs.

`python -m lightning_ae.experiments.pretrain greedy RUN_DIR ...` reads finished stacked-autoencoder
runs (greedy-pretrained, end to end) and prints their test MSE with the test loss of each stage's
shallow autoencoder (stage 1: pixels through 784-300-784; stage 2: the 300 hidden units through
300-150-300), so that a textbook number can be matched to the quantity it measured.

`python -m lightning_ae.experiments.pretrain classifier --encoder-ckpt AE.ckpt --labels 100 1000 20000`
trains `configs/classifier.yaml` (an MLP + softmax with the encoder's layout, 784-300-150 ELU for
`configs/greedy_stacked.yaml`) for each number of labels, three ways:
random weights, the autoencoder's encoder frozen (softmax layer only), and the encoder fine-tuned.
Every run gets the same number of optimizer steps (`--steps`, default 533: the notebook's 4 epochs
of 20,000 labels at batch 150), so few-label runs are not starved of updates; all labels
(`--labels 60000`) trains on the full 60,000 with `--full-epochs`. The autoencoder saw all the
training images without labels (Hinton & Salakhutdinov, Science 2006; Bengio et al., NIPS 2006).
Test accuracies are printed as a table and written to <logs>/pretrain_classifier/table_*.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
from pathlib import Path

import lightning as L
import torch

from lightning_ae.callbacks.greedy import GreedyLayerwisePretraining
from lightning_ae.checkpoints import checkpoint_problem, load_checkpoint, missing_checkpoint
from lightning_ae.config_files import config_path
from lightning_ae.data import MNISTDataModule
from lightning_ae.errors import exit_on_user_error
from lightning_ae.models import Autoencoder  # noqa: F401  Lightning loads only classes already imported
from lightning_ae.summary import load

VARIANTS = ("random", "frozen", "finetuned")


# -- the greedy vs end-to-end table ----------------------------------------------------------------
@torch.no_grad()
def stage_test_losses(ckpt: str | Path, data_dir: str | None = None) -> list[float]:
    """Test loss of each stage's shallow autoencoder in a stacked-autoencoder checkpoint."""
    if missing_checkpoint(ckpt) is not None:
        raise missing_checkpoint(ckpt)
    try:
        model = L.LightningModule.load_from_checkpoint(ckpt, map_location="cpu", weights_only=True).eval()
    except pickle.UnpicklingError:  # refused before anything in it ran: say why in one line
        raise checkpoint_problem(ckpt) from None
    n = len([m for m in model.encoder if isinstance(m, torch.nn.Linear)])
    greedy = GreedyLayerwisePretraining([1] * n)
    greedy.attach(model)
    dm = MNISTDataModule(data_dir=data_dir)
    x, _ = dm.split("test")
    out = []
    for k in range(n):
        losses = [greedy.stage_objective(model, k, xb, xb)[0] * len(xb) for xb in x.split(1000)]
        out.append(float(torch.stack(losses).sum() / len(x)))
    return out


def greedy_table(run_dirs: list[str], data_dir: str | None = None) -> str:
    rows = []
    for d in run_dirs:
        record = load(d)
        test_mse = record.get("test", {}).get("metrics", {}).get("test/mse", math.nan)
        stages = stage_test_losses(Path(d) / "checkpoints" / "last.ckpt", data_dir)
        rows.append((d, record["fit"]["epochs"], test_mse, stages))
    n = max(len(r[3]) for r in rows)
    w = max(len("run"), *(len(str(r[0])) for r in rows)) + 2
    lines = [f"{'run':<{w}}{'epochs':>8}{'test MSE':>12}" + "".join(f"{f'stage {k + 1} MSE':>14}" for k in range(n))]
    for d, epochs, test_mse, stages in rows:
        lines.append(f"{d:<{w}}{epochs:>8}{test_mse:>12.4f}" + "".join(f"{v:>14.4f}" for v in stages))
    return "\n".join(lines)


# -- the classifier table --------------------------------------------------------------------------
def encoder_layout(encoder_ckpt: str) -> list[str]:
    """CLI arguments giving the classifier the encoder layout and activations of an autoencoder checkpoint."""
    hp = load_checkpoint(encoder_ckpt, what="encoder checkpoint")["hyper_parameters"]
    dims = [*hp["hidden_dims"], hp["latent_dim"]]
    return ["--model.init_args.hidden_dims", json.dumps(dims), "--model.init_args.activation", hp["activation"],
            "--model.init_args.code_activation", hp["code_activation"], "--model.init_args.init", hp["init"]]


def classifier_run(labels: int, variant: str, encoder_ckpt: str, steps: int, full_epochs: int,
                   logs: str, data_dir: str | None, seed: int, lr: float, weight_decay: float) -> dict:
    """Fit configs/classifier.yaml with `labels` labelled images in one of VARIANTS; test its final weights."""
    from lightning_ae.cli import cli

    if labels >= 60_000:  # every training image: validate on the test set, as the classic posts did
        batch, epochs, data = 150, full_epochs, ["--data.val_split", "test", "--data.num_labeled", "null"]
    else:
        batch = min(150, labels // 2)
        epochs = math.ceil(steps / math.ceil(labels / batch))
        data = ["--data.num_labeled", str(labels)]
    args = ["--config", str(config_path("classifier")), "--name", "pretrain_classifier",
            "--seed_everything", str(seed), "--data.split_seed", str(seed),  # the labelled subset changes too
            "--trainer.logger.init_args.save_dir", logs, "--trainer.logger.init_args.version",
            f"{Path(encoder_ckpt).resolve().parents[2].name}_n{labels}_{variant}_lr{lr:g}_wd{weight_decay:g}_s{seed}",
            "--trainer.max_epochs", str(epochs), "--trainer.check_val_every_n_epoch", str(max(1, epochs // 4)),
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
            "--probes.enabled", "false",  # test accuracy is the measurement; skip the code probes
            "--optimizer.lr", str(lr), "--optimizer.weight_decay", str(weight_decay), "--data.batch_size", str(batch), *data]
    if data_dir is not None:
        args += ["--data.data_dir", data_dir]
    args += encoder_layout(encoder_ckpt)  # every variant has the pretrained encoder's architecture
    if variant != "random":
        args += ["--model.init_args.encoder_ckpt", encoder_ckpt,
                 "--model.init_args.freeze_encoder", "true" if variant == "frozen" else "false"]
    run = cli(args, run=False)
    run.trainer.fit(run.model, datamodule=run.datamodule)
    metrics = run.trainer.test(run.model, datamodule=run.datamodule, verbose=False)[0]
    return {"labels": labels, "variant": variant, "seed": seed, "lr": lr, "weight_decay": weight_decay, "epochs": epochs, "batch_size": batch,
            "steps": run.trainer.global_step, "test_acc": metrics["test/acc"], "test_loss": metrics["test/loss"]}


def classifier_table(rows: list[dict]) -> str:
    seeds, lrs, wds = (sorted({r[k] for r in rows}) for k in ("seed", "lr", "weight_decay"))
    lines = [f"test accuracy (Adam lr {', '.join(f'{v:g}' for v in lrs)}, weight decay {', '.join(f'{v:g}' for v in wds)}; "
             f"mean ± standard deviation over seeds {seeds}, each its own labelled subset and initial "
             "weights; test error of the mean in brackets)", "",
             "| labels | steps | " + " | ".join(VARIANTS) + " |", "|---:|---:|" + "---:|" * len(VARIANTS)]
    for labels in sorted({r["labels"] for r in rows}):
        cells, steps = [], ""
        for v in VARIANTS:
            accs = [r["test_acc"] for r in rows if r["labels"] == labels and r["variant"] == v]
            steps = steps or next((r["steps"] for r in rows if r["labels"] == labels), "")
            if accs:
                mean = sum(accs) / len(accs)
                std = math.sqrt(sum((a - mean) ** 2 for a in accs) / len(accs))
                cells.append(f"{mean:.4f} ± {std:.4f} ({100 * (1 - mean):.2f}%)")
            else:
                cells.append("-")
        lines.append(f"| {labels:,} | {steps} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lightning_ae.experiments.pretrain", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="table", required=True)
    g = sub.add_parser("greedy", help="test MSEs of finished stacked-autoencoder runs, per stage too")
    g.add_argument("run_dirs", nargs="+")
    g.add_argument("--data-dir", default=None)
    c = sub.add_parser("classifier", help="random vs pretrained-frozen vs pretrained-fine-tuned, per number of labels")
    c.add_argument("--encoder-ckpt", required=True, help="stacked autoencoder checkpoint (784-300-150 ELU encoder)")
    c.add_argument("--labels", type=int, nargs="+", default=[100, 1000, 20_000])
    c.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    c.add_argument("--steps", type=int, default=533, help="optimizer steps per run below 60,000 labels")
    c.add_argument("--full-epochs", type=int, default=10, help="epochs of the 60,000-label runs")
    c.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44],
                   help="one run per seed: initial weights and labelled subset (data.split_seed)")
    c.add_argument("--lr", type=float, default=0.01, help="Adam learning rate of every run (the notebook's 0.01)")
    c.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay of every run (the notebook's 5e-4)")
    c.add_argument("--logs", default="logs")
    c.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    if args.table == "greedy":
        print(greedy_table(args.run_dirs, args.data_dir))
        return
    load_checkpoint(args.encoder_ckpt, what="encoder checkpoint")  # missing or unsafe: one line, exit 2
    rows = [classifier_run(n, v, args.encoder_ckpt, args.steps, args.full_epochs, args.logs, args.data_dir, s, args.lr, args.weight_decay)
            for n in args.labels for v in args.variants for s in args.seeds]
    table = f"encoder: {args.encoder_ckpt}\n" + classifier_table(rows)
    out = Path(args.logs) / "pretrain_classifier"
    out.mkdir(parents=True, exist_ok=True)
    encoder = Path(args.encoder_ckpt).resolve().parents[2].name  # <logs>/<run>/<version>/checkpoints/last.ckpt
    stem = f"table_{encoder}_lr{args.lr:g}_wd{args.weight_decay:g}_n{'-'.join(map(str, args.labels))}"
    (out / f"{stem}.md").write_text(table + "\n")
    (out / f"{stem}.json").write_text(json.dumps({"encoder_ckpt": args.encoder_ckpt, "runs": rows}, indent=2))
    print(table)


if __name__ == "__main__":
    exit_on_user_error("lightning_ae.experiments.pretrain", main)
