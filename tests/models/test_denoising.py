"""DenoisingAutoencoder: each noise's statistics, corruption only where asked, clean targets, and
test-time noise settable on a checkpoint from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from jsonargparse import ArgumentError
import torch

from lightning_ae import figures
from lightning_ae.models import DenoisingAutoencoder
from lightning_ae.callbacks import latest_checkpoint
from typed import build

TINY = dict(hidden_dims=[16], latent_dim=4, activation="sigmoid", code_activation="sigmoid", tie_weights=True)


def model(**kwargs) -> DenoisingAutoencoder:
    return DenoisingAutoencoder(**{**TINY, **kwargs})


@pytest.fixture
def x() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(200, 784) * 0.8 + 0.1  # (200, 784) strictly inside (0, 1): no pixel is 0 or 1 already


def test_masking_zeroes_about_p_and_keeps_the_rest(x):
    noisy = model(noise="masking", noise_level=0.3).train().corrupt(x)
    zeroed = noisy == 0
    assert abs(zeroed.float().mean().item() - 0.3) < 0.01  # 156,800 pixels: std of the fraction ~0.001
    assert torch.equal(noisy[~zeroed], x[~zeroed])  # classic zero-masking: survivors unchanged


def test_masking_rescale_keeps_the_expected_input(x):
    noisy = model(noise="masking", noise_level=0.5, rescale=True).train().corrupt(x)
    kept = noisy != 0
    assert torch.allclose(noisy[kept], 2 * x[kept])
    assert abs(noisy.mean().item() - x.mean().item()) < 0.01


def test_gaussian_std_and_clipping(x):
    torch.manual_seed(1)
    raw = model(noise="gaussian", noise_level=0.2, clip=False).train().corrupt(x)
    assert abs((raw - x).std().item() - 0.2) < 0.005 and abs((raw - x).mean().item()) < 0.005
    assert raw.min() < 0 and raw.max() > 1  # not clipped
    torch.manual_seed(1)  # the same draws
    clipped = model(noise="gaussian", noise_level=0.2, clip=True).train().corrupt(x)
    assert clipped.min() >= 0 and clipped.max() <= 1
    inside = (raw > 0) & (raw < 1)
    assert torch.equal(clipped[inside], raw[inside])


def test_salt_pepper_sets_a_fraction_to_0_or_1(x):
    noisy = model(noise="salt_pepper", noise_level=0.4).train().corrupt(x)
    changed = noisy != x
    assert abs(changed.float().mean().item() - 0.4) < 0.01
    values = noisy[changed]
    assert set(values.unique().tolist()) == {0.0, 1.0}
    assert abs(values.mean().item() - 0.5) < 0.02  # salt and pepper equally often


def test_none_and_zero_level_are_identity(x):
    assert torch.equal(model(noise="none", noise_level=0.7).train().corrupt(x), x)
    assert torch.equal(model(noise="gaussian", noise_level=0.0).train().corrupt(x), x)


def test_corruption_is_reproducible_under_the_global_seed(x):
    m = model(noise="masking", noise_level=0.3).train()
    torch.manual_seed(7)
    a = m.corrupt(x)
    torch.manual_seed(7)
    assert torch.equal(a, m.corrupt(x))


@pytest.mark.parametrize("kwargs, match", [
    (dict(noise="masking", noise_level=1.5), "noise_level is the fraction"),
    (dict(noise="salt_pepper", noise_level=2.0), "noise_level is the fraction"),
    (dict(noise="gaussian", noise_level=-0.1), "noise_level"),
    (dict(noise="masking", noise_level=1.0, rescale=True), "lower it or set rescale: false"),
    (dict(noise="dropout"), "noise"),
    (dict(eval_noise_kind="masking", eval_noise_level=3.0), "eval_noise_level is the fraction"),
])
def test_bad_noise_settings_name_the_argument_and_the_fix(kwargs, match):
    with pytest.raises((ArgumentError, ValueError), match=match):
        build(DenoisingAutoencoder, **{**TINY, **kwargs})


def test_gaussian_std_above_one_is_allowed():
    assert model(noise="gaussian", noise_level=1.5).noise_level == 1.5


class Spy(DenoisingAutoencoder):
    """Records the input the network saw and the target of the loss."""

    def objective(self, x_in, x):
        self.seen = (x_in.clone(), x.clone())
        return super().objective(x_in, x)


@pytest.mark.parametrize("eval_noise", [False, True])
def test_corruption_in_training_only_unless_eval_noise_and_clean_target(x, eval_noise):
    m = Spy(**TINY, noise="masking", noise_level=0.5, eval_noise=eval_noise)
    m.log = m.log_dict = lambda *a, **k: None  # no Trainer here
    batch = (x, torch.zeros(len(x)))
    m.train()
    loss = m._step(batch, "train")
    x_in, target = m.seen
    assert torch.equal(target, x) and not torch.equal(x_in, x)  # noisy input, clean target
    assert torch.allclose(loss, torch.mean((m(x_in) - x) ** 2))  # the loss is against the clean input
    m.eval()
    for stage in ("val", "test"):
        with torch.no_grad():
            m._step(batch, stage)
        x_in, target = m.seen
        assert torch.equal(target, x)
        assert torch.equal(x_in, x) is (not eval_noise)


def test_eval_noise_kind_scores_a_clean_trained_net_on_noisy_inputs(x):
    m = model(noise="none", eval_noise=True, eval_noise_kind="masking", eval_noise_level=0.3)
    assert torch.equal(m.train().corrupt(x), x)  # trained clean
    assert abs((m.eval().corrupt(x) == 0).float().mean().item() - 0.3) < 0.01  # scored on masked inputs


def test_figures_rows_noisy_reconstruction_clean(x):
    m = model(noise="salt_pepper", noise_level=0.3).eval()
    fig = m.figures(x[:5], torch.zeros(5))["denoising/grid"]
    layout = json.loads(fig.axes[0].get_label())
    assert layout["rows"] == 3 and layout["per_line"] == 5  # 3 rows of 5 digits
    assert [t.get_text() for t in fig.texts] == ["input, salt pepper noise 0.3", "DenoisingAutoencoder's reconstruction",
                                                 "clean target"]
    noisy, clean = figures.cell(fig, 0, 0), figures.cell(fig, 2, 0)
    assert np.allclose(clean, x[0].view(28, 28).numpy())
    assert not np.allclose(noisy, clean)
    again = m.figures(x[:5], torch.zeros(5))["denoising/grid"]  # the same noise every epoch
    assert np.array_equal(fig.axes[0].images[0].get_array(), again.axes[0].images[0].get_array())


def test_checkpoint_leaves_out_eval_settings_so_test_can_set_them(run_cli, tmp_path):
    """`test --ckpt_path` builds the model from the checkpoint's hyperparameters; eval_noise must still
    follow the command line, and a clean-trained net must be scorable on noisy inputs."""
    args = ["--model", "lightning_ae.models.DenoisingAutoencoder", "--model.init_args.hidden_dims", "[32]",
            "--model.init_args.latent_dim", "8", "--model.init_args.noise", "none", "--images.pca_row", "false",
            "--probes.enabled", "false"]
    fit = run_cli("fit", *args, "--trainer.logger.init_args.version", "fit")
    ckpt = latest_checkpoint(fit.trainer)
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert saved["noise"] == "none" and not {"eval_noise", "eval_noise_kind", "eval_noise_level"} & set(saved)

    clean = run_cli("test", *args, "--ckpt_path", ckpt, "--trainer.logger.init_args.version", "clean")
    noisy = run_cli("test", *args, "--ckpt_path", ckpt, "--trainer.logger.init_args.version", "noisy",
                    "--model.init_args.eval_noise", "true", "--model.init_args.eval_noise_kind", "masking",
                    "--model.init_args.eval_noise_level", "0.5")
    assert not clean.model.eval_noise
    assert noisy.model.eval_noise and noisy.model.eval_noise_kind == "masking" and noisy.model.noise == "none"
    runs = {v: json.loads((tmp_path / "logs" / "default" / v / "run.json").read_text()) for v in ("clean", "noisy")}
    assert runs["noisy"]["hparams"]["eval_noise"] is True and runs["clean"]["hparams"]["eval_noise"] is False
    rmse = {v: r["test"]["metrics"]["test/rmse"] for v, r in runs.items()}
    assert abs(rmse["noisy"] - rmse["clean"]) > 1e-4  # other inputs, same weights (3 steps: barely trained)
