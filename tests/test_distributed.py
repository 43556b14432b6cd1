"""DDP for real: two CPU processes (gloo) launched by `lightning-ae fit --trainer.devices 2 --trainer.strategy ddp`.

The loader's sharding is unit-tested first; then the CLI runs: the loss falls, one run folder,
one checkpoint folder and one event file (images from rank 0 only) come out, every training image
is served once per epoch across the ranks, rank 0's synced test metrics (`--test_after_fit`, in the same
two processes) equal a single-process test
of the same checkpoint, PCA's scatter matrix summed over the ranks gives the PCA of all images,
and greedy layer-wise pretraining trains one layer pair per stage with
`--trainer.strategy ddp_find_unused_parameters_true` (plain `ddp` is refused in one line, before launch).
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import FAST, ROOT
from lightning_ae.data import MNISTDataModule, TensorLoader
from lightning_ae.models import PCA

DDP = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]
ENV = {"PYTHONPATH": str(ROOT / "tests"), "OMP_NUM_THREADS": "1"}  # ddp_probe.SeenSamples importable in each rank


def _served(loader: TensorLoader) -> list[int]:
    return torch.cat([y for _, y in loader]).tolist()


@pytest.mark.parametrize("n, world", [(10, 2), (11, 2), (13, 4), (7, 3)])
def test_loader_shards_partition_each_epoch(n, world):
    x, y = torch.zeros(n, 1), torch.arange(n)
    per_rank = math.ceil(n / world)
    orders = []
    for epoch in range(2):
        shards = []
        for rank in range(world):
            loader = TensorLoader(x, y, batch_size=2, shuffle=True, seed=3, rank=rank, world_size=world)
            loader.set_epoch(epoch)
            shards.append(_served(loader))
            assert len(loader) == math.ceil(per_rank / 2)
        assert all(len(s) == per_rank for s in shards)  # equal shares: no rank waits at a collective
        everything = sorted(sum(shards, []))
        assert sorted(set(everything)) == list(range(n))  # every sample served
        assert len(everything) - n == per_rank * world - n  # repeats only to pad (as DistributedSampler)
        orders.append(shards)
    assert orders[0] != orders[1]  # a new permutation each epoch, shared by all ranks


def test_loader_shards_evaluation_in_order_without_overlap():
    x, y = torch.zeros(10, 1), torch.arange(10)
    shards = [_served(TensorLoader(x, y, 3, rank=r, world_size=2)) for r in range(2)]
    assert shards == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]


def test_datamodule_loaders_follow_the_trainers_rank(mnist_dir):
    class FakeTrainer:  # what the DataModule reads from the Trainer
        world_size = 2

        def __init__(self, rank):
            self.global_rank = rank

    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=300, batch_size=64, device_resident=False)
    dm.setup()
    x = dm.split("train")[0]
    seen = []
    for rank in range(2):
        dm.trainer = FakeTrainer(rank)
        loader = dm.train_dataloader()
        assert (loader.sampler.rank, loader.sampler.num_replicas) == (rank, 2)  # a DistributedSampler's
        seen.append(torch.cat([b for b, _ in loader]))
    dm.trainer = None
    assert len(seen[0]) == len(seen[1]) == 150
    # every training image exactly once: compare sorted row sums (cheap proxy) and the row sets
    both = torch.cat(seen)
    assert torch.equal(both.sum(1).sort().values, x.sum(1).sort().values)


def _scalars(events: EventAccumulator, tag: str) -> list[float]:
    return [e.value for e in events.Scalars(tag)]


def test_ddp_fit_and_test_through_the_cli(run_cli_process, run_cli, tmp_path, mnist_dir):
    logs, seen_dir = tmp_path / "logs", tmp_path / "seen"
    config = ["--config", str(ROOT / "configs" / "ae_2d.yaml"), "--data.data_dir", str(mnist_dir),
              "--trainer.logger.init_args.save_dir", str(logs)]
    probe = json.dumps({"class_path": "ddp_probe.SeenSamples", "init_args": {"output_dir": str(seen_dir)}})
    # 3 whole epochs of the 1,000-image slice: 500 images = 4 batches per rank and epoch; then, in the same
    # two processes, the test of last.ckpt on all 10,000 test images (`lightning-ae test --ckpt_path` without a
    # second launch: the command `make run` uses)
    whole_test = ["--trainer.limit_test_batches", "1.0", "--data.eval_batch_size", "1000"]
    fit = run_cli_process("fit", *config, *FAST, *DDP, *whole_test, "--trainer.max_epochs", "3",
                          "--trainer.limit_train_batches", "1.0", "--trainer.log_every_n_steps", "1",
                          "--trainer.logger.init_args.version", "ddp", f"--trainer.callbacks+={probe}",
                          "--test_after_fit", "true", env=ENV)
    assert fit.returncode == 0, fit.stderr[-3000:]
    assert "distributed_backend=gloo" in fit.stdout + fit.stderr
    assert "sync_dist=True" not in fit.stderr  # Lightning's warning for epoch-level logs left unsynced

    # one run folder, one checkpoint folder, and rank 0's event files alone: the fit's, the test's (the
    # logger opens a new file for it) and the projector's (the probes at test end); rank 1 writes nothing
    assert [p.name for p in (logs / "ae_2d").iterdir()] == ["ddp"]
    run_dir = logs / "ae_2d" / "ddp"
    assert [p.relative_to(logs) for p in logs.rglob("checkpoints")] == [run_dir.relative_to(logs) / "checkpoints"]
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    event_files = sorted(logs.rglob("events.out.tfevents*"))
    assert [f.parent for f in event_files] == [run_dir, run_dir, run_dir / "projector"]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["world_size"] == 2 and record["fit"]["global_step"] == 3 * 4

    # the loss falls; the ImageLogger (rank 0 only) wrote its pictures into that one file
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0}).Reload()
    train, val = _scalars(events, "train/loss"), _scalars(events, "val/loss")
    assert len(train) == len(val) == 3
    assert train[-1] < train[0] and val[-1] < val[0], (train, val)
    assert len(events.Images("fit/recon_grid")) == 3  # every epoch
    assert len(events.Images("fit/latent_scatter")) == 2  # every 2nd epoch (configs/default.yaml) and the last

    # each training image served exactly once per epoch across the two ranks, in a new order each epoch
    ranks = [json.loads((seen_dir / f"rank{r}.json").read_text()) for r in range(2)]
    assert all(r["world_size"] == 2 and len(r["epochs"]) == 3 for r in ranks)
    for epoch in range(3):
        shares = [r["epochs"][epoch] for r in ranks]
        assert len(shares[0]) == len(shares[1]) == 500
        assert sorted(shares[0] + shares[1]) == list(range(1000))
    assert ranks[0]["epochs"][0] != ranks[0]["epochs"][1]

    # rank 0's test metrics (synced by torchmetrics / sync_dist) equal a single-process test of the same
    # checkpoint on the same 10,000 test images
    ckpt = str(run_dir / "checkpoints" / "last.ckpt")
    ddp_metrics = record["test"]["metrics"]
    single = run_cli("test", *config[:2], *FAST, *whole_test, "--ckpt_path", ckpt, "--trainer.devices", "1",
                     "--trainer.logger.init_args.version", "single_test", fast=False)
    single_metrics = {k: float(v) for k, v in single.trainer.callback_metrics.items()}
    for name in ("test/mse", "test/loss", "test/psnr", "test/sq_err_per_image"):
        assert ddp_metrics[name] == pytest.approx(single_metrics[name], rel=1e-5), name
    # the probes run on rank 0 over the whole splits: the same accuracies as one process
    for name in ("test/knn_acc", "test/probe_acc"):
        assert ddp_metrics[name] == pytest.approx(single_metrics[name], abs=1e-6), name


def test_ddp_pca_sums_the_scatter_over_ranks(run_cli_process, tmp_path, mnist_dir):
    logs = tmp_path / "logs"
    fit = run_cli_process("fit", "--config", str(ROOT / "configs" / "pca_2d.yaml"), "--data.data_dir", str(mnist_dir),
                          "--trainer.logger.init_args.save_dir", str(logs), *FAST, *DDP,
                          "--trainer.limit_train_batches", "1.0", "--data.batch_size", "100",
                          "--trainer.logger.init_args.version", "ddp", env=ENV)
    assert fit.returncode == 0, fit.stderr[-3000:]
    state = torch.load(logs / "pca_2d" / "ddp" / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=True)["state_dict"]
    # each rank saw 500 of the 1,000 images; the all_reduced sums give the PCA of all 1,000
    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=1000, val_split="test")
    reference = PCA.from_data(dm.split("train")[0], 2)
    assert torch.allclose(state["mean"], reference.mean, atol=1e-6)
    assert torch.allclose(state["explained_variance"], reference.explained_variance, rtol=1e-5)
    cosines = (state["components"] * reference.components).sum(1).abs()  # components are defined up to sign
    assert torch.allclose(cosines, torch.ones(2), atol=1e-5)
    # a model trained on half the images would differ: the sums really were gathered
    half = PCA.from_data(dm.split("train")[0][::2], 2)
    assert not torch.allclose(state["explained_variance"], half.explained_variance, rtol=1e-3)


def test_ddp_greedy_trains_one_layer_pair_per_stage(run_cli_process, tmp_path, mnist_dir):
    logs = tmp_path / "logs"
    stages = tmp_path / "stages.yaml"  # 1 + 1 greedy epochs, then 1 epoch end to end
    stages.write_text(
        "trainer:\n  callbacks:\n    - class_path: lightning_ae.callbacks.GreedyLayerwisePretraining\n"
        "      init_args:\n        epochs_per_stage: [1, 1]\n        cache_inputs: true\n"
    )
    fit = run_cli_process("fit", "--config", str(ROOT / "configs" / "greedy_stacked.yaml"), "--config", str(stages),
                          "--data.data_dir", str(mnist_dir), "--trainer.logger.init_args.save_dir", str(logs),
                          *FAST, *DDP, "--trainer.strategy", "ddp_find_unused_parameters_true",
                          "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "1.0",
                          "--checkpoint.save_top_k", "-1", "--checkpoint.filename", "epoch{epoch}",
                          "--name", "greedy", "--trainer.logger.init_args.version", "ddp", env=ENV)
    assert fit.returncode == 0, fit.stderr[-3000:]
    assert "sync_dist=True" not in fit.stderr
    run_dir = logs / "greedy" / "ddp"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["world_size"] == 2 and record["fit"]["global_step"] == 3 * 4  # 500 images per rank, batch 150

    w = [torch.load(run_dir / "checkpoints" / f"epoch{e}.ckpt", map_location="cpu", weights_only=True)["state_dict"]
         for e in range(3)]
    outer, inner = ("encoder.0", "decoder.2"), ("encoder.2", "decoder.0")

    def changed(a, b, layers):
        return {name: not torch.equal(a[f"{name}.weight"], b[f"{name}.weight"]) for name in layers}

    # stage 2 (epoch 1) trains only the inner pair on the frozen outer layer; the fine-tuning epoch trains all
    assert changed(w[0], w[1], outer) == {"encoder.0": False, "decoder.2": False}
    assert changed(w[0], w[1], inner) == {"encoder.2": True, "decoder.0": True}
    assert all(changed(w[1], w[2], outer + inner).values())
    events = EventAccumulator(str(next(run_dir.glob("events.out.tfevents*"))), size_guidance={"scalars": 0}).Reload()
    assert _scalars(events, "greedy/stage") == [1.0, 2.0, 3.0]


def test_ddp_greedy_under_plain_ddp_is_refused_in_one_line(run_cli_process, tmp_path, mnist_dir):
    fit = run_cli_process("fit", "--config", str(ROOT / "configs" / "greedy_stacked.yaml"),
                          "--data.data_dir", str(mnist_dir), "--trainer.logger.init_args.save_dir", str(tmp_path),
                          *FAST, *DDP, env=ENV)
    assert fit.returncode == 2, fit.stderr[-3000:]
    assert "--trainer.strategy ddp_find_unused_parameters_true" in fit.stderr
    assert "Traceback" not in fit.stderr
    assert "distributed_backend" not in fit.stdout + fit.stderr  # refused before a second process was started
