"""Representation probes: k-NN and linear-probe accuracy on codes, and the projector files of a CLI run."""

from __future__ import annotations

import json

import pytest
import torch
from jsonargparse import ArgumentError, ArgumentParser

from conftest import ROOT
from lightning_ae.callbacks.probes import RepresentationProbes, knn_accuracy, linear_probe_accuracy
from lightning_ae.models import PCA
from lightning_ae.callbacks import latest_checkpoint


def clustered_codes(n: int, seed: int, spread: float) -> tuple[torch.Tensor, torch.Tensor]:
    """10 well separated clusters in 16-D: the class's one-hot vector times 10 plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    z = torch.zeros(n, 16)
    z[torch.arange(n), y] = 10.0
    return z + spread * torch.randn(n, 16, generator=g), y


def test_separable_codes_score_perfectly_and_random_codes_score_chance():
    z_tr, y_tr = clustered_codes(2000, 0, spread=1.0)
    z_te, y_te = clustered_codes(500, 1, spread=1.0)
    assert knn_accuracy(z_tr, y_tr, z_te, y_te, k=5) > 0.99
    assert linear_probe_accuracy(z_tr, y_tr, z_te, y_te) > 0.99
    g = torch.Generator().manual_seed(2)
    r_tr, r_te = torch.randn(2000, 16, generator=g), torch.randn(500, 16, generator=g)
    assert 0.03 < knn_accuracy(r_tr, y_tr, r_te, y_te, k=5) < 0.2
    assert 0.03 < linear_probe_accuracy(r_tr, y_tr, r_te, y_te) < 0.2


def test_knn_vote_and_tie_break():
    z_train = torch.tensor([[0.0], [1.0], [2.0], [10.0]])
    y_train = torch.tensor([3, 7, 7, 3])
    z_test, y_test = torch.tensor([[0.4], [1.6]]), torch.tensor([3, 7])
    # k=2: each test point's two neighbours disagree; the nearest one decides
    assert knn_accuracy(z_train, y_train, z_test, y_test, k=2) == 1.0
    # k=3: the majority (7, 7) outvotes the nearest neighbour (3) of the first point
    assert knn_accuracy(z_train, y_train, z_test, y_test, k=3) == 0.5


def test_pca2_codes_are_far_worse_neighbours_than_pixels(mnist):
    x_tr, y_tr = (t[:5000] for t in mnist.split("train"))
    x_te, y_te = (t[:2000] for t in mnist.split("test"))
    pca = PCA.from_data(x_tr, 2)
    with torch.no_grad():
        knn_pca = knn_accuracy(pca.encode(x_tr), y_tr, pca.encode(x_te), y_te)
        probe_pca = linear_probe_accuracy(pca.encode(x_tr), y_tr, pca.encode(x_te), y_te)
    knn_pixels = knn_accuracy(x_tr, y_tr, x_te, y_te)
    assert 0.3 < knn_pca < 0.55, knn_pca  # published floor: about 0.42
    assert 0.3 < probe_pca < 0.55, probe_pca
    assert knn_pixels > 0.9 and knn_pixels > knn_pca + 0.35


@pytest.mark.parametrize("option, value", [("train_samples", "0"), ("test_samples", "-1"), ("knn_k", "0"),
                                           ("probe_steps", "0"), ("probe_l2", "-0.1"), ("embedding_points", "-1"),
                                           ("batch_size", "0")])
def test_bad_arguments_are_refused_when_parsed(option, value):
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(RepresentationProbes, "probes")
    with pytest.raises(ArgumentError, match=f"probes.{option}"):
        parser.parse_args([f"--probes.{option}", value])
    assert parser.parse_args(["--probes.train_samples", "null", "--probes.embedding_points", "0"]).probes.train_samples is None


def test_cli_test_run_records_probe_accuracies_and_projector_files(run_cli, tmp_path):
    config = str(ROOT / "configs" / "pca_2d.yaml")
    args = ["--config", config, "--trainer.logger.init_args.version", "probe", "--probes.embedding_points", "300"]
    fit = run_cli("fit", *args)
    run_cli("test", *args, "--ckpt_path", latest_checkpoint(fit.trainer))
    run_dir = tmp_path / "logs" / "pca_2d" / "probe"
    metrics = json.loads((run_dir / "run.json").read_text())["test"]["metrics"]
    assert 0.2 < metrics["test/knn_acc"] < 0.6 and 0.2 < metrics["test/probe_acc"] < 0.6
    projector = run_dir / "projector"  # a run of its own: a running TensorBoard picks it up
    assert (projector / "projector_config.pbtxt").is_file() and list(projector.glob("events.out.tfevents*"))
    tensors = list(projector.glob("*/test_codes_2d_zero_padded_to_3d/tensors.tsv"))
    assert len(tensors) == 1 and tensors[0].parent.parent.name == "00000"  # PCA: the run's last step is 0
    rows = [r.split("\t") for r in tensors[0].read_text().strip().splitlines()]
    assert len(rows) == 300 and all(len(r) == 3 and float(r[2]) == 0.0 for r in rows)  # 2-D codes + a zero column
    lines = (tensors[0].parent / "metadata.tsv").read_text().splitlines()
    assert lines[0] == "digit\ttest_index" and [line.split("\t")[0] for line in lines[1:6]] == ["7", "2", "1", "0", "4"]
    assert (tensors[0].parent / "sprite.png").is_file()
