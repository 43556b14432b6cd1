"""Every bad input a user can give `lightning-ae` ends in one line naming the problem and the fix,
exit status 2 and no traceback (issue: robustness). Driven through `main()`, the console script's
entry point, with the user's arguments; one case also runs as a real process."""

from __future__ import annotations

import gzip
import re
import struct

import pytest
import torch

from conftest import FAST, ROOT, one_error_line
from lightning_ae.callbacks import latest_checkpoint
from lightning_ae.cli import cli, main

AE = str(ROOT / "configs/ae_2d.yaml")
SMALL = ["--model.init_args.hidden_dims", "[32]"]  # a tiny net where the network does not matter
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def fails(tmp_path, mnist_dir, capsys):
    """Run `lightning-ae <args>`; assert exit status 2, one error line and no traceback; return the line."""

    def run(*args: str) -> str:
        argv = [*args[:1], "--data.data_dir", str(mnist_dir), *FAST,
                "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"), *args[1:]]
        return one_error_line(capsys, lambda: main(argv))

    return run


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, mnist_dir):
    """The last.ckpt of a tiny 2-D autoencoder run."""
    logs = tmp_path_factory.mktemp("ckpt_logs")
    fit = cli(["fit", "--config", AE, *SMALL, "--data.data_dir", str(mnist_dir),
               "--trainer.logger.init_args.save_dir", str(logs), *FAST])
    return latest_checkpoint(fit.trainer)


def fake_mnist(tmp_path, mnist_dir, name: str, content: bytes, gz: bool = False):
    """A data folder holding the real MNIST files except `name`, replaced by `content`."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in MNIST_FILES:
        if f != name:
            (raw / f"{f}.gz").symlink_to(mnist_dir / "MNIST" / "raw" / f"{f}.gz")
    (raw / (f"{name}.gz" if gz else name)).write_bytes(content)
    return tmp_path / "data"


# -- data ------------------------------------------------------------------------------------------
def test_missing_data_folder(fails, tmp_path):
    line = fails("fit", "--config", AE, "--data.data_dir", str(tmp_path / "nowhere"))
    assert f"MNIST not found in {tmp_path / 'nowhere'}" in line
    assert "put the four files in" in line and "--data.download true" in line


def test_empty_data_folder(fails, tmp_path):
    (tmp_path / "empty").mkdir()
    line = fails("fit", "--config", AE, "--data.data_dir", str(tmp_path / "empty"))
    assert f"MNIST not found in {tmp_path / 'empty'}" in line and "MNIST/raw" in line


def test_truncated_gzip_idx_file(fails, tmp_path, mnist_dir):
    head = (mnist_dir / "MNIST/raw/train-images-idx3-ubyte.gz").read_bytes()[:100_000]
    data = fake_mnist(tmp_path, mnist_dir, "train-images-idx3-ubyte", head, gz=True)
    line = fails("fit", "--config", AE, "--data.data_dir", str(data))
    assert "train-images-idx3-ubyte.gz: cannot be read" in line and "put a fresh copy there" in line


def test_truncated_idx_file(fails, tmp_path, mnist_dir):
    header = struct.pack(">4I", 2051, 10_000, 28, 28)
    data = fake_mnist(tmp_path, mnist_dir, "t10k-images-idx3-ubyte", header + bytes(784 * 100))
    line = fails("fit", "--config", AE, "--data.data_dir", str(data))
    assert "t10k-images-idx3-ubyte: file is truncated or padded" in line
    assert f"expected {16 + 784 * 10_000}" in line and "fresh copy" in line


def test_wrong_magic_number(fails, tmp_path, mnist_dir):
    labels = gzip.decompress((mnist_dir / "MNIST/raw/train-labels-idx1-ubyte.gz").read_bytes())
    data = fake_mnist(tmp_path, mnist_dir, "train-labels-idx1-ubyte", struct.pack(">I", 2051) + labels[4:])
    line = fails("fit", "--config", AE, "--data.data_dir", str(data))
    assert "train-labels-idx1-ubyte: wrong magic number 2051 (expected 2049)" in line
    assert "not an MNIST label file" in line


def test_images_and_labels_of_different_counts(fails, tmp_path, mnist_dir):
    labels = gzip.decompress((mnist_dir / "MNIST/raw/train-labels-idx1-ubyte.gz").read_bytes())
    short = struct.pack(">2I", 2049, 59_999) + labels[8:-1]  # a consistent file one label short
    data = fake_mnist(tmp_path, mnist_dir, "train-labels-idx1-ubyte", short)
    line = fails("fit", "--config", AE, "--data.data_dir", str(data))
    assert "header says shape (59999,), expected (60000)" in line
    assert "images and labels files of a split must both hold 60000" in line


def test_download_without_network(fails, tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there: refused at once
    line = fails("fit", "--config", AE, "--data.data_dir", str(tmp_path / "dl"), "--data.download", "true")
    assert f"could not download MNIST into {tmp_path / 'dl'}" in line
    assert "copy the four IDX files" in line and str(tmp_path / "dl" / "MNIST" / "raw") in line


# -- impossible hyperparameters ---------------------------------------------------------------------
# Values of the wrong type or range are refused by the parser (typed signatures): the line names the option
# and the value; the library's own wording is not tested. Combinations and the optimizer's own checks are ours.
@pytest.mark.parametrize(("args", "names"), [
    (["--model.init_args.latent_dim", "0"], ["--model.init_args.latent_dim", "0"]),
    (["--model.init_args.latent_dim", "-3"], ["--model.init_args.latent_dim", "-3"]),
    (["--model.init_args.hidden_dims", "[128, 0]"], ["--model.init_args.hidden_dims", "0"]),
    (["--optimizer.weight_decay", "-0.1"], ["optimizer", "weight_decay", "-0.1"]),
    (["--optimizer.lr", "-1"], ["optimizer", "lr", "-1"]),
    (["--model.init_args.activation", "relux"], ["--model.init_args.activation", "relux", "'elu', 'relu'"]),
    (["--model.init_args.loss", "l1"], ["--model.init_args.loss", "l1", "'mse', 'bce'"]),
    (["--optimizer", "AdamX"], ["--optimizer", "AdamX"]),
    (["--model.init_args.loss", "bce", "--model.init_args.output_activation", "linear"],
     ["loss='bce' needs output_activation='sigmoid'"]),
    (["--data.batch_size", "0"], ["batch_size", "0"]),
    (["--data.batch_size", "5000"], ["batch_size 5000 is larger than the training set (1000 images)"]),
    (["--guard.check_every_n_steps", "0"], ["--guard.check_every_n_steps", "0"]),
], ids=["latent0", "latent_neg", "hidden0", "neg_weight_decay", "neg_lr", "activation", "loss", "optimizer",
        "bce_linear", "batch0", "batch_too_big", "guard_interval"])
def test_impossible_autoencoder_hyperparameters(fails, args, names):
    line = fails("fit", "--config", AE, *args)
    assert all(name in line for name in names), line


# values outside their type (PositiveInt, ...): jsonargparse refuses them while parsing, naming the option
@pytest.mark.parametrize(("option", "value"), [
    ("data.val_size", "60000"), ("data.num_labeled", "5"), ("data.labeled_fraction", "1.5"),
    ("images.every_n_epochs", "0"), ("probes.knn_k", "0"), ("probes.probe_l2", "-1"), ("codes.output_path", "codes.txt"),
])
def test_data_and_callback_values_refused_when_parsed(fails, option, value):
    assert f"--{option}" in fails("fit", "--config", AE, f"--{option}", value)


def test_empty_hidden_dims(fails):
    line = fails("fit", "--config", str(ROOT / "configs/classifier.yaml"), "--model.init_args.hidden_dims", "[]")
    assert line.endswith("hidden_dims is empty; give the encoder's layer sizes, e.g. [300, 150].")


def test_negative_penalty_weight(fails):
    line = fails("fit", "--config", str(ROOT / "configs/vae_2d.yaml"), "--model.init_args.kl_weight", "-1")
    assert "--model.init_args.kl_weight" in line and "-1" in line


# the variants' own knobs, each through its config
@pytest.mark.parametrize(("config", "args", "pattern"), [
    ("dae_784_128_10_gaussian", ["--model.init_args.noise_level", "-0.5"], r"--model.init_args.noise_level.*-0\.5"),
    ("dae_784_128_10_masking", ["--model.init_args.noise_level", "1.5"],
     r"noise_level is the fraction of corrupted pixels .* must be"),
    ("dae_784_128_10", ["--model.init_args.noise", "speckle"], r"--model.init_args.noise\b.*'masking'.*speckle"),
    ("sparse_kl", ["--model.init_args.sparsity_target", "1.5"], r"--model.init_args.sparsity_target.*1\.5"),
    ("sparse_kl", ["--model.init_args.sparsity_target", "0"], r"--model.init_args.sparsity_target.* 0"),
    ("sparse_kl", ["--model.init_args.sparsity_weight", "-1"], r"--model.init_args.sparsity_weight.*-1"),
    ("sparse_kl", ["--model.init_args.penalty", "l2"], r"--model.init_args.penalty.*'kl', 'l1'.*l2"),
], ids=["noise_negative", "mask_fraction_above_1", "noise_kind", "rho_above_1", "rho_0", "sparsity_weight_negative",
        "penalty_kind"])
def test_impossible_variant_hyperparameters(fails, config, args, pattern):
    path = ROOT / "configs" / f"{config}.yaml"
    assert re.search(pattern, fails("fit", "--config", str(path), *args))


# -- config keys ------------------------------------------------------------------------------------
def test_unknown_model_key(fails):
    line = fails("fit", "--config", AE, "--model.init_args.latent_dims", "3")
    assert "Option 'latent_dims' is not accepted" in line and "lightning_ae.models.Autoencoder" in line
    assert "`lightning-ae fit --help` lists the valid options" in line


def test_unknown_key_in_config_file(fails, tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("data:\n  batch_sise: 64\n")
    line = fails("fit", "--config", AE, "--config", str(config))
    assert "batch_sise" in line


def test_misspelled_subcommand_names_every_subcommand(fails):
    # a command line that names no subcommand gets the parsers of all four, and the error lists them
    line = fails("fitt", "--config", AE)
    assert "fitt" in line and all(f"'{name}'" in line for name in ("fit", "validate", "test", "predict"))


def test_unknown_trainer_flag(fails):
    line = fails("fit", "--config", AE, "--trainer.max_epochz", "3")
    assert "unrecognized arguments: --trainer.max_epochz 3" in line


def test_missing_config_file(fails):
    line = fails("fit", "--config", "configs/no_such_model.yaml")
    assert "File does not exist" in line and "no_such_model.yaml" in line


# -- checkpoints ------------------------------------------------------------------------------------
def test_checkpoint_that_does_not_exist(fails, tmp_path):
    line = fails("test", "--config", AE, *SMALL, "--ckpt_path", str(tmp_path / "gone.ckpt"))
    assert f"checkpoint {tmp_path / 'gone.ckpt'} does not exist" in line and "--ckpt_path last" in line


def test_corrupt_checkpoint(fails, tmp_path, checkpoint):
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(open(checkpoint, "rb").read()[:50_000])  # a copy cut short
    line = fails("test", "--config", AE, *SMALL, "--ckpt_path", str(broken))
    assert f"checkpoint {broken} cannot be read" in line and "corrupt or truncated" in line


def test_checkpoint_of_another_model_class(fails, checkpoint):
    line = fails("test", "--config", str(ROOT / "configs/pca_2d.yaml"), "--ckpt_path", checkpoint)
    assert f"checkpoint {checkpoint} belongs to lightning_ae.models.Autoencoder" in line
    assert "the config builds lightning_ae.models.PCA" in line


def test_checkpoint_of_another_shape(fails, tmp_path, checkpoint):
    ckpt = torch.load(checkpoint, weights_only=True)
    del ckpt["hyper_parameters"]  # as saved by a script: nothing tells LightningCLI the layer sizes
    bare = tmp_path / "bare.ckpt"
    torch.save(ckpt, bare)
    line = fails("test", "--config", AE, *SMALL, "--model.init_args.latent_dim", "3", "--ckpt_path", str(bare))
    assert "checkpoint does not fit this Autoencoder" in line
    assert "encoder.2.weight (2, 32) vs (3, 32)" in line and "use its own config" in line


# -- training that diverges -------------------------------------------------------------------------
def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(fails):
    line = fails("fit", "--config", AE, *SMALL, "--optimizer", "SGD", "--optimizer.lr", "30",
                 "--model.init_args.output_activation", "linear", "--data.batch_size", "50",
                 "--trainer.limit_train_batches", "20", "--trainer.val_check_interval", "2",
                 "--checkpoint.every_n_train_steps", "1")
    found = re.search(r"the training loss became (nan|inf|-inf) at step (\d+) \(epoch 0\); the learning rate \(30\) "
                      r"is most likely too high: lower --optimizer.lr .* The last good checkpoint is kept: (\S+)\.$", line)
    assert found, line
    bad_step, kept = int(found.group(2)), found.group(3)
    ckpt = torch.load(kept, weights_only=True)  # loads, holds the weights before the divergence
    assert 2 <= ckpt["global_step"] < bad_step
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


# -- the process as the user sees it ----------------------------------------------------------------
def test_real_process_prints_one_line_and_exits_2(run_cli_process, mnist_dir):
    proc = run_cli_process("fit", "--config", AE, "--data.data_dir", str(mnist_dir), "--model.init_args.latent_dim", "0")
    assert proc.returncode == 2
    error, hint = proc.stderr.strip().splitlines()[-2:]
    assert error.startswith("lightning-ae: error: --model.init_args.latent_dim") and " 0 " in error
    assert hint == "(add --debug or set LIGHTNING_AE_DEBUG=1 for the full traceback)"
    assert "Traceback" not in proc.stderr


def test_debug_flag_shows_the_traceback(monkeypatch, mnist_dir):
    monkeypatch.setenv("LIGHTNING_AE_DEBUG", "")  # restored after the test: --debug sets it
    with pytest.raises(Exception) as info:  # the parser's own exception, with its traceback
        main(["fit", "--config", AE, "--data.data_dir", str(mnist_dir), "--model.init_args.latent_dim", "0", "--debug"])
    assert "latent_dim" in str(info.value)


# -- untrusted checkpoints: data, never code --------------------------------------------------------
class _Payload:
    """Unpickling this runs `touch <path>`: what a malicious checkpoint does."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.path}",))


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"activation": _Payload(marker)}}, path)
    return path, marker


@pytest.mark.parametrize("subcommand", ["fit", "validate", "test", "predict"])
def test_untrusted_checkpoint_never_runs(fails, evil_checkpoint, subcommand):
    path, marker = evil_checkpoint
    line = fails(subcommand, "--config", AE, *SMALL, "--ckpt_path", str(path))
    assert f"checkpoint {path} was refused" in line and "nothing in it ran" in line
    assert not marker.exists()


def test_untrusted_encoder_checkpoint_never_runs(fails, evil_checkpoint):
    path, marker = evil_checkpoint
    line = fails("fit", "--config", str(ROOT / "configs/classifier.yaml"), "--model.init_args.encoder_ckpt", str(path))
    assert f"encoder_ckpt {path} was refused" in line
    assert not marker.exists()


@pytest.mark.parametrize("table", ["greedy", "classifier"])
def test_experiments_refuse_untrusted_checkpoints(evil_checkpoint, tmp_path, capsys, table):
    from lightning_ae.errors import exit_on_user_error
    from lightning_ae.experiments import pretrain

    path, marker = evil_checkpoint
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text('{"fit": {"epochs": 1}, "test": {"metrics": {"test/mse": 0.1}}}')
    (run / "checkpoints" / "last.ckpt").write_bytes(path.read_bytes())
    argv = ["greedy", str(run)] if table == "greedy" else ["classifier", "--encoder-ckpt", str(path)]
    with pytest.raises(SystemExit) as exit_info:
        exit_on_user_error("pretrain", lambda: pretrain.main(argv))
    assert exit_info.value.code == 2
    assert "was refused" in capsys.readouterr().err
    assert not marker.exists()
