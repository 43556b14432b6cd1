"""`python -m lightning_ae.export` (issue 17, point 4): a trained model's encoder and decoder as files that
plain torch loads in a new process, without this package, giving the model's own codes and reconstructions.
Bad input (no file, a Classifier's checkpoint, an untrusted pickle) ends in one line and exit status 2."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, one_error_line
from lightning_ae.cli import main as cli_main
from lightning_ae.export import export, main, onnx_available

# Runs in a fresh interpreter (-I: no PYTHONPATH, no current folder on the path) that cannot import
# lightning_ae at all (the editable install's finder would find it: a meta-path finder refuses it first).
LOAD_WITH_PLAIN_TORCH = r"""
import importlib.abc, sys
class NoLightningAE(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "lightning_ae":
            raise ImportError("lightning_ae must not be needed to load the exported files")
sys.meta_path.insert(0, NoLightningAE())
import numpy as np, torch
folder = sys.argv[1]
x = torch.from_numpy(np.load(folder + "/x.npy"))
encoder = torch.export.load(folder + "/encoder.pt2").module()
decoder = torch.export.load(folder + "/decoder.pt2").module()
with torch.no_grad():
    z = encoder(x)
    x_hat = decoder(z)
    z_one = encoder(x[:1])  # another batch size than the export's example
np.savez(folder + "/out.npz", z=z.numpy(), x_hat=x_hat.numpy(), z_one=z_one.numpy())
assert not [m for m in sys.modules if m.split(".")[0] in ("lightning_ae", "lightning")], "imported more than torch"
print("loaded with torch", torch.__version__)
"""

MODELS = {  # config -> (small network for speed, latent_dim, decoder output range)
    "ae_2d": (["--model.init_args.hidden_dims", "[64, 16]"], 2, [0.0, 1.0]),
    "vae_2d": (["--model.init_args.hidden_dims", "[32]", "--model.init_args.nll_images", "0"], 2, [0.0, 1.0]),
    "pca_9": ([], 9, None),
}


def fit(run_cli, config: str, *args: str) -> tuple[object, pathlib.Path]:
    """A short real fit; the CLI (with the trained model in memory) and the run's last.ckpt."""
    cli = run_cli("fit", "--config", str(ROOT / "configs" / f"{config}.yaml"), "--trainer.logger.init_args.version", "run",
                  *args)
    ckpt = pathlib.Path(cli.trainer.logger.log_dir) / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    return cli, ckpt


@pytest.mark.parametrize("config", sorted(MODELS))
def test_exported_files_reproduce_the_model_in_plain_torch(run_cli, tmp_path, config):
    extra, latent_dim, out_range = MODELS[config]
    cli, ckpt = fit(run_cli, config, *extra)
    model = cli.model.cpu().eval()  # the trained weights, as the fit left them
    out = tmp_path / "exported"
    main(["--ckpt_path", str(ckpt), "--out", str(out), "--onnx", "false"])

    meta = json.loads((out / "export.json").read_text())
    assert (meta["model"], meta["input_dim"], meta["latent_dim"], meta["image_shape"]) == (
        type(model).__name__, 784, latent_dim, [28, 28])
    assert meta["encoder"]["input"]["range"] == [0.0, 1.0] and meta["encoder"]["input"]["dtype"] == "float32"
    assert meta["decoder"]["output"]["range"] == out_range
    assert "torch.export.load" in (out / "README.txt").read_text()

    x = torch.rand(5, 784, generator=torch.Generator().manual_seed(0))
    np.save(out / "x.npy", x.numpy())
    run = subprocess.run([sys.executable, "-I", "-c", LOAD_WITH_PLAIN_TORCH, str(out)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    got = np.load(out / "out.npz")
    with torch.no_grad():
        z, x_hat = model.encode(x), model.decode(model.encode(x))
    assert z.shape == (5, latent_dim) and z.std() > 1e-3  # real codes, not a constant
    np.testing.assert_allclose(got["z"], z.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(got["x_hat"], x_hat.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(got["z_one"], z[:1].numpy(), atol=1e-5, rtol=0)
    if config == "vae_2d":  # the code is the posterior mean
        np.testing.assert_allclose(got["z"], model.posterior(x)[0].detach().numpy(), atol=1e-5, rtol=0)
    # the encoder's file holds the encoder's weights only
    assert not [k for k in torch.export.load(out / "encoder.pt2").state_dict if "decoder" in k or "logvar" in k]


@pytest.fixture
def fails(capsys):
    """`lightning-ae export <args>`: exit status 2, one error line, no traceback; returns the line."""

    def run(*args: str) -> str:
        return one_error_line(capsys, lambda: cli_main(["export", *args]), "lightning-ae export: error: ")

    return run


def test_missing_checkpoint_is_one_line(fails, tmp_path):
    line = fails("--ckpt_path", str(tmp_path / "gone.ckpt"), "--out", str(tmp_path / "out"))
    assert f"checkpoint {tmp_path / 'gone.ckpt'} does not exist" in line
    assert not (tmp_path / "out").exists()


def test_untrusted_pickle_is_refused(fails, tmp_path):
    path = tmp_path / "evil.ckpt"  # a pickle that asks for a class: weights_only refuses it before it runs
    torch.save({"state_dict": {}, "hyper_parameters": {"_class_path": "lightning_ae.models.Autoencoder"},
                "payload": pathlib.PurePosixPath("/etc/passwd")}, path)
    line = fails("--ckpt_path", str(path))
    assert "was refused" in line and "PurePosixPath" in line


def test_unknown_argument_is_one_line(fails, tmp_path):
    line = fails("--ckpt_path", str(tmp_path / "x.ckpt"), "--outt", "y")
    assert "--outt" in line and "lightning-ae export --help" in line


def test_classifier_checkpoint_is_refused(fails, run_cli, tmp_path):
    _, ckpt = fit(run_cli, "classifier", "--model.init_args.hidden_dims", "[16]", "--data.num_labeled", "1000")
    line = fails("--ckpt_path", str(ckpt), "--out", str(tmp_path / "out"))
    assert "is of a Classifier, which has no decoder" in line and "VariationalAutoencoder" in line


@pytest.mark.skipif(onnx_available(), reason="the onnx extra is installed here")
def test_onnx_without_the_extra_is_one_line(fails, tmp_path):
    path = tmp_path / "any.ckpt"
    line = fails("--ckpt_path", str(path), "--onnx", "true")
    assert "pip install 'lightning-ae[onnx]'" in line


def test_onnx_files_match(run_cli, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    if not onnx_available():
        pytest.skip("the onnx extra (onnx, onnxscript) is not installed")
    cli, ckpt = fit(run_cli, "ae_2d", *MODELS["ae_2d"][0])
    out = export(str(ckpt), str(tmp_path / "exported"), onnx=True)
    x = torch.rand(3, 784, generator=torch.Generator().manual_seed(1))
    z = ort.InferenceSession(str(out / "encoder.onnx")).run(None, {"x": x.numpy()})[0]
    x_hat = ort.InferenceSession(str(out / "decoder.onnx")).run(None, {"z": z})[0]
    model = cli.model.cpu().eval()
    with torch.no_grad():
        np.testing.assert_allclose(z, model.encode(x).numpy(), atol=1e-5, rtol=0)
        np.testing.assert_allclose(x_hat, model.decode(torch.from_numpy(z)).numpy(), atol=1e-5, rtol=0)
