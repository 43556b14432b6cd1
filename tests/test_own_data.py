"""Your own images (issue 17, point 2): `data.path` is an .npz array or a folder of PNG/JPEG files,
split seeded into training, holdout and test images, and the model's `input_dim` follows the data
through LightningCLI's argument linking, so every config runs on 8 x 8 images without edits. Bad
files end in one line naming the file and the fix, exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import FAST, MODEL_CONFIGS, ROOT
from lightning_ae.cli import cli, main
from lightning_ae.data import MNISTDataModule

AE = str(ROOT / "configs/ae_2d.yaml")
CORNERS = [(1, 1), (1, 5), (5, 1), (5, 5)]


def blobs(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n 8 x 8 uint8 images of a bright 2 x 2 square in one of four corners (its label), on faint noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = 0.1 * rng.random((n, 8, 8))
    for i, label in enumerate(y):
        r, c = CORNERS[label]
        x[i, r : r + 2, c : c + 2] = 0.6 + 0.4 * rng.random()
    return (np.clip(x, 0, 1) * 255).astype(np.uint8), y


@pytest.fixture
def blobs_npz(tmp_path) -> Path:
    x, y = blobs()
    np.savez(tmp_path / "blobs.npz", x=x, y=y, class_names=np.array(["top left", "top right", "bottom left", "bottom right"]))
    return tmp_path / "blobs.npz"


def test_npz_pixels_labels_and_a_seeded_disjoint_split(blobs_npz):
    x, y = blobs()
    dm = MNISTDataModule(path=str(blobs_npz), batch_size=32)
    assert dm.image_shape == (8, 8) and dm.input_dim == 64
    assert dm.class_names == ("top left", "top right", "bottom left", "bottom right")
    x_all, y_all = dm.split("all")
    assert torch.equal(x_all, torch.from_numpy(x).reshape(600, 64).float() / 255)  # in the file's order
    assert torch.equal(y_all, torch.from_numpy(y))
    sizes = {name: len(dm.split(name)[0]) for name in ("train", "val", "test")}
    assert sizes == {"train": 480, "val": 60, "test": 60}
    rows = {name: {tuple(r.tolist()) for r in dm.split(name)[0]} for name in ("train", "val", "test")}
    assert not (rows["train"] & rows["test"]) and not (rows["val"] & rows["test"]) and not (rows["train"] & rows["val"])
    again = MNISTDataModule(path=str(blobs_npz), batch_size=32)
    assert torch.equal(again.split("test")[0], dm.split("test")[0])  # seeded by split_seed
    other = MNISTDataModule(path=str(blobs_npz), batch_size=32, split_seed=1)
    assert not torch.equal(other.split("test")[0], dm.split("test")[0])
    with_test = MNISTDataModule(path=str(blobs_npz), batch_size=32, val_split="test", test_fraction=0.25)
    assert len(with_test.split("train")[0]) == 450 and torch.equal(with_test.split("val")[0], with_test.split("test")[0])


def test_flat_float_npz_without_labels_and_resized(tmp_path):
    x = np.random.default_rng(1).random((40, 64)).astype(np.float32)  # (N, D), D = 8 x 8
    np.savez(tmp_path / "flat.npz", x=x)
    dm = MNISTDataModule(path=str(tmp_path / "flat.npz"), batch_size=8)
    x_all, y_all = dm.split("all")
    assert torch.equal(x_all, torch.from_numpy(x)) and (y_all == -1).all() and dm.class_names == ()
    big = MNISTDataModule(path=str(tmp_path / "flat.npz"), batch_size=8, image_size=16)
    assert big.image_shape == (16, 16) and big.split("all")[0].shape == (40, 256)


def test_image_folder_grayscale_with_subfolders_as_classes(tmp_path):
    rng = np.random.default_rng(2)
    written = {}
    for cls in ("cats", "dogs"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 256, (8, 8), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / cls / f"{i}.png")
            written[(cls, i)] = pixels
    rgb = np.stack([written[("dogs", 4)]] * 3, -1)
    Image.fromarray(rgb).save(tmp_path / "imgs" / "dogs" / "4.png")  # the same image, in colour: read as gray
    dm = MNISTDataModule(path=str(tmp_path / "imgs"), batch_size=4)
    assert dm.class_names == ("cats", "dogs") and dm.image_shape == (8, 8)
    x, y = dm.split("all")  # sorted by path: cats/0..4, then dogs/0..4
    assert y.tolist() == [0] * 5 + [1] * 5
    expected = np.stack([written[(c, i)] for c in ("cats", "dogs") for i in range(5)]).reshape(10, 64)
    assert torch.allclose(x, torch.from_numpy(expected).float() / 255, atol=1 / 255)
    small = MNISTDataModule(path=str(tmp_path / "imgs"), batch_size=4, image_size=[4, 6])
    assert small.image_shape == (4, 6) and small.input_dim == 24


@pytest.mark.parametrize("config", MODEL_CONFIGS, ids=[c.stem for c in MODEL_CONFIGS])
def test_every_config_builds_its_model_for_8x8_images(config, blobs_npz, tmp_path):
    built = cli(["--config", str(config), "--data.path", str(blobs_npz),
                 "--trainer.logger.init_args.save_dir", str(tmp_path)], run=False)
    assert built.model.hparams.input_dim == 64 and list(built.model.hparams.image_shape) == [8, 8]
    first = next(m for m in built.model.modules() if isinstance(m, torch.nn.Linear) or hasattr(m, "components"))
    width = first.components.shape[1] if hasattr(first, "components") else first.in_features
    assert width == 64


def test_fit_on_8x8_images_beats_the_mean_image(run_cli, blobs_npz):
    fitted = run_cli("fit", "--config", AE, "--data.path", str(blobs_npz), "--data.batch_size", "32",
                     "--model.init_args.hidden_dims", "[64]", "--trainer.max_epochs", "20",
                     "--trainer.enable_progress_bar", "false", "--trainer.num_sanity_val_steps", "0",
                     "--images.scatter_points", "60", "--probes.train_samples", "200", "--test_after_fit", "true",
                     fast=False)
    model, dm = fitted.model, fitted.datamodule
    assert model.encoder[0].in_features == 64 and model.image_shape == (8, 8)
    mse = float(fitted.trainer.callback_metrics["test/mse"])
    mean_image = dm.split("train")[0].mean(0)
    baseline = float((dm.split("test")[0] - mean_image).pow(2).mean())
    assert mse < 0.7 * baseline, (mse, baseline)
    figures = Path(fitted.trainer.logger.log_dir) / "figures"
    assert (figures / "recon_grid.png").is_file() and (figures / "latent_scatter.png").is_file()


# -- bad files: one line naming the file and the fix, exit status 2 ----------------------------------
@pytest.fixture
def fails(tmp_path, capsys):
    def run(path: Path, *args: str) -> str:
        with pytest.raises(SystemExit) as exit_info:
            main(["fit", "--config", AE, "--data.path", str(path), *FAST, *args,
                  "--trainer.logger.init_args.save_dir", str(tmp_path / "logs")])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2, err[-2000:]
        assert "Traceback" not in err
        lines = [line for line in err.splitlines() if line.startswith("lightning-ae: error: ")]
        assert len(lines) == 1, err[-2000:]
        assert str(path) in lines[0]
        return lines[0]

    return run


def _npz(tmp_path, **arrays) -> Path:
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


def test_bad_npz_files_are_one_line_each(fails, tmp_path):
    x, y = blobs(64)
    assert "has no `x` array (it holds images)" in fails(_npz(tmp_path, images=x))
    assert "x has shape (64, 8, 8, 3)" in fails(_npz(tmp_path, x=np.stack([x] * 3, -1)))
    assert "60 pixels per image, not a square" in fails(_npz(tmp_path, x=x.reshape(64, 64)[:, :60]))
    nan = (x / 255).astype(np.float32)
    nan[3, 2, 2] = np.nan
    assert "1 NaN or infinite values" in fails(_npz(tmp_path, x=nan))
    assert "values from 0 to 254, outside [0, 1]" in fails(_npz(tmp_path, x=x.astype(np.float32)))
    assert "y has shape (63,)" in fails(_npz(tmp_path, x=x, y=y[:63]))
    line = fails(_npz(tmp_path, x=x, y=y), "--data.batch_size", "100")
    assert "64 images leave 58 for training" in line  # ae_2d validates on the test share and "fewer than a batch" in line and "--data.batch_size" in line
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    assert "cannot be read as an .npz file" in fails(tmp_path / "junk.npz")
    assert "no such file or folder" in fails(tmp_path / "missing.npz")


def test_bad_image_folders_are_one_line_each(fails, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "holds no .png, .jpg or .jpeg image" in fails(tmp_path / "empty")
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / f"{i}.png")
    (folder / "3.jpg").write_bytes(b"\xff\xd8 truncated")
    line = fails(folder)
    assert str(folder / "3.jpg") in line and "cannot be read as an image" in line and "delete or replace it" in line


def test_the_classifier_refuses_images_without_labels(tmp_path, capsys):
    np.savez(tmp_path / "unlabelled.npz", x=blobs(300)[0])
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs/classifier.yaml"), "--data.path", str(tmp_path / "unlabelled.npz"),
              "--data.num_labeled", "null", *FAST, "--trainer.logger.init_args.save_dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err, err[-2000:]
    (line,) = [line for line in err.splitlines() if line.startswith("lightning-ae: error: ")]
    assert "the classifier needs labels" in line and str(tmp_path / "unlabelled.npz") in line
