"""Encode and reconstruct your own images (issue 17, point 3): `lightning-ae predict --ckpt_path ...
--data.path mine.npz` writes the codes, reconstructions and labels (if any) of all the file's images,
in order, to one file, and a picture of the inputs over their reconstructions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
from lightning_ae.callbacks import latest_checkpoint
from lightning_ae.cli import main
from lightning_ae.models import Autoencoder

AE = str(ROOT / "configs/ae_2d.yaml")


def images(n: int, seed: int, side: int = 8) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, side, side)) * 255).astype(np.uint8)


@pytest.fixture
def checkpoint(run_cli, tmp_path):
    """last.ckpt of an autoencoder fitted for a few steps on 200 labelled 8 x 8 images."""
    np.savez(tmp_path / "train.npz", x=images(200, 0), y=np.arange(200) % 3)
    fitted = run_cli("fit", "--config", AE, "--data.path", str(tmp_path / "train.npz"), "--data.batch_size", "16",
                     "--model.init_args.hidden_dims", "[32]")
    return latest_checkpoint(fitted.trainer)


def test_predict_writes_codes_reconstructions_and_a_picture_of_all_images(run_cli, checkpoint, tmp_path):
    mine = images(37, 1)  # unlabelled, fewer than a batch: predict needs no training split
    np.savez(tmp_path / "mine.npz", x=mine)
    out = tmp_path / "out" / "mine_codes.npz"
    run_cli("predict", "--config", AE, "--ckpt_path", str(checkpoint), "--data.path", str(tmp_path / "mine.npz"),
            "--codes.output_path", str(out))
    written = np.load(out)
    assert sorted(written.files) == ["x_hat", "z"]  # no labels in the file: none written
    model = Autoencoder.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True).eval()
    x = torch.from_numpy(mine).reshape(37, 64).float() / 255
    with torch.no_grad():
        z = model.encode(x)
        x_hat = model.decode(z).clamp(0, 1)
    assert written["z"].shape == (37, 2) and np.allclose(written["z"], z.numpy(), atol=1e-5)  # every image, in order
    assert np.allclose(written["x_hat"], x_hat.numpy(), atol=1e-5)
    picture = out.with_suffix(".png")
    assert picture.is_file() and Image.open(picture).width >= 350


def test_predict_keeps_the_labels_of_a_labelled_folder(run_cli, checkpoint, tmp_path):
    for i, pixels in enumerate(images(6, 2)):
        (tmp_path / "mine" / ("a" if i < 4 else "b")).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(tmp_path / "mine" / ("a" if i < 4 else "b") / f"{i}.png")
    out = tmp_path / "codes.pt"
    run_cli("predict", "--config", AE, "--ckpt_path", str(checkpoint), "--data.path", str(tmp_path / "mine"),
            "--codes.output_path", str(out))
    written = torch.load(out, weights_only=True)
    assert written["y"].tolist() == [0, 0, 0, 0, 1, 1] and written["x_hat"].shape == (6, 64)


def test_predict_on_images_of_another_size_is_one_line(checkpoint, tmp_path, capsys):
    np.savez(tmp_path / "big.npz", x=images(10, 3, side=12))
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--config", AE, "--ckpt_path", str(checkpoint), "--data.path", str(tmp_path / "big.npz"),
              "--trainer.logger.init_args.save_dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err, err[-2000:]
    (line,) = [line for line in err.splitlines() if line.startswith("lightning-ae: error: ")]
    assert "does not fit this Autoencoder" in line, line
