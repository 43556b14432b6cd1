"""The variational autoencoder: gradients, the ELBO / importance-sampled NLL relation, pictures, CLI metrics."""

from __future__ import annotations

import json

import math

import pytest
from jsonargparse import ArgumentError
import numpy as np
import torch

from conftest import ROOT
from lightning_ae import losses
from lightning_ae.models import VariationalAutoencoder
from lightning_ae.models.vae import reparameterize
from lightning_ae.callbacks import latest_checkpoint
from typed import build


def tiny(latent_dim: int = 3, **kwargs) -> VariationalAutoencoder:
    torch.manual_seed(0)
    return VariationalAutoencoder(hidden_dims=[16], latent_dim=latent_dim, **kwargs)


def binary_images(n: int) -> torch.Tensor:
    return torch.bernoulli(torch.rand(n, 784, generator=torch.Generator().manual_seed(1)))


def test_objective_is_rec_plus_kl_and_trains_every_parameter():
    vae = tiny()
    x = binary_images(8)
    loss, x_hat, terms = vae.objective(x, x)
    assert set(terms) == {"rec", "kl", "elbo"}
    assert torch.allclose(loss, terms["rec"] + terms["kl"]) and torch.allclose(terms["elbo"], -loss)
    assert terms["rec"] > 0 and terms["kl"] >= 0
    assert x_hat.shape == (8, 784) and ((x_hat >= 0) & (x_hat <= 1)).all()
    loss.backward()
    for name, p in vae.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert vae.encode(x).shape == (8, 3) and vae.decode(torch.zeros(5, 3)).shape == (5, 784)


def test_kl_weight_scales_only_the_training_loss():
    x = binary_images(8)
    torch.manual_seed(3)
    loss1, _, t1 = tiny().objective(x, x)
    torch.manual_seed(3)
    loss2, _, t2 = tiny(kl_weight=0.0).objective(x, x)
    assert torch.allclose(loss2, t2["rec"]) and torch.allclose(loss1, t1["rec"] + t1["kl"])
    assert torch.allclose(t1["elbo"], t2["elbo"])  # the logged ELBO keeps weight 1


def test_reparameterisation_passes_gradients_to_mean_and_log_variance():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, math.log(4.0)]], requires_grad=True)
    torch.manual_seed(0)
    z = reparameterize(mu, logvar)
    torch.manual_seed(0)
    eps = torch.randn(1, 2)
    assert torch.allclose(z, mu + torch.tensor([[1.0, 2.0]]) * eps)  # log-variance: sigma = exp(logvar / 2)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones(1, 2))
    assert torch.allclose(logvar.grad, 0.5 * torch.tensor([[1.0, 2.0]]) * eps)


def test_more_importance_samples_give_a_tighter_bound():
    vae = tiny().eval()
    x = binary_images(64)
    torch.manual_seed(0)
    nll_1 = vae.importance_sampled_nll(x, 1).mean()  # k = 1: a one-sample -ELBO
    nll_k = vae.importance_sampled_nll(x, 200).mean()
    with torch.no_grad():  # -ELBO with the KL in closed form and many samples of the reconstruction term
        mu, logvar = vae.posterior(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(500, *mu.shape)
        neg_elbo = (losses.bernoulli_nll(vae.logits(z), x.expand(500, -1, -1)).mean(0)
                    + losses.gaussian_kl(mu, logvar)).mean()
    assert 0 < nll_k < nll_1  # binary pixels: p(x) <= 1
    assert nll_k <= neg_elbo
    assert abs(nll_1 - neg_elbo) < 0.05 * neg_elbo  # k = 1 estimates the ELBO itself


def test_nll_is_chunked_without_changing_the_estimate():
    x = binary_images(256)
    big, small = tiny(), tiny(nll_batch=512)  # small: 2 samples per image per forward pass
    torch.manual_seed(5)
    a = big.importance_sampled_nll(x, 20)
    b = small.importance_sampled_nll(x, 20)
    assert a.shape == b.shape == (256,) and torch.isfinite(b).all()
    assert torch.allclose(a.mean(), b.mean(), rtol=0.02)  # same model and k; only the sample draws differ


def test_figures_have_the_expected_grids():
    from lightning_ae import figures
    from lightning_ae.models.vae import INTERPOLATION_STEPS, MANIFOLD_STEPS, SAMPLES

    vae = tiny(latent_dim=2).eval()
    x, y = binary_images(10), torch.arange(10)
    with torch.no_grad():
        pics = vae.figures(x, y)
    for fig in pics.values():  # every picture fits a TensorBoard card, digits at twice their pixels
        assert fig.get_size_inches()[0] * fig.dpi == figures.WIDTH
    samples = json.loads(pics["vae/samples"].axes[0].get_label())
    assert samples["per_line"] * len(samples["tops"]) == SAMPLES == 18
    interpolation = json.loads(pics["vae/interpolation"].axes[0].get_label())
    assert interpolation["per_line"] == INTERPOLATION_STEPS + 2 and interpolation["rows"] == 3  # 3 pairs, ends + 4 steps
    assert np.allclose(figures.cell(pics["vae/interpolation"], 1, 0), x[2].view(28, 28).numpy())  # 2nd pair's start
    manifold = json.loads(pics["vae/manifold"].axes[0].get_label())
    assert manifold["per_line"] == MANIFOLD_STEPS and manifold["rows"] == MANIFOLD_STEPS
    with torch.no_grad():
        assert "vae/manifold" not in tiny(latent_dim=5).eval().figures(x, y)
        # the manifold's first row is decoded at the highest z1 (inverse CDF of 0.95), first column the lowest z0
        q = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(0.95)).item()
        corner = vae.decode(torch.tensor([[-q, q]])).view(28, 28)
    assert np.allclose(figures.cell(pics["vae/manifold"], 0, 0), corner.numpy(), atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"kl_weight": -1.0}, "kl_weight"),
    ({"nll_samples": 0}, "nll_samples"),
    ({"nll_images": -5}, "nll_images"),
    ({"latent_dim": 0}, "latent_dim"),
    ({"activation": "swish"}, "activation"),
])
def test_bad_hyperparameters_name_the_problem(kwargs, message):
    with pytest.raises((ArgumentError, ValueError), match=message):
        build(VariationalAutoencoder, **kwargs)


def test_cli_test_logs_elbo_and_nll_on_a_subset(run_cli, tmp_path):
    config = str(ROOT / "configs" / "vae_20d.yaml")
    small = ["--model.init_args.hidden_dims", "[64]", "--model.init_args.nll_samples", "20",
             "--model.init_args.nll_images", "100", "--probes.enabled", "false"]
    fit = run_cli("fit", "--config", config, *small)
    ckpt = latest_checkpoint(fit.trainer)
    test = run_cli("test", "--config", config, *small, "--ckpt_path", ckpt)
    m = test.trainer.callback_metrics
    assert test.model._nll_left == 0  # exactly nll_images images were scored
    assert 0 < float(m["test/nll"]) < 2000  # nats per image (a uniform pixel model gives 543)
    assert float(m["test/elbo"]) == pytest.approx(-float(m["test/rec"]) - float(m["test/kl"]), rel=1e-5)
    assert "test/knn_acc" not in m  # probes switched off
    run_dir = tmp_path / "logs" / "vae_20d"
    assert list(run_dir.glob("*/figures/vae_samples.png")) and list(run_dir.glob("*/figures/vae_interpolation.png"))


def test_kl_warmup_ramps_the_kl_weight_linearly_over_the_first_epochs(mnist_dir, tmp_path):
    import lightning as L

    from lightning_ae.data import MNISTDataModule

    class Weights(L.Callback):
        def __init__(self):
            self.seen = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.seen.append(pl_module.current_kl_weight())

    weights = Weights()
    vae = VariationalAutoencoder(hidden_dims=[16], latent_dim=2, kl_weight=0.5, kl_warmup_epochs=2)
    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=200, batch_size=50, binarize=True)
    L.Trainer(max_epochs=3, callbacks=[weights], logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path).fit(vae, datamodule=dm)
    assert weights.seen == pytest.approx([0.5 * min(1.0, step / 8) for step in range(12)])  # 4 steps an epoch
    assert vae.eval().current_kl_weight() == 0.5  # evaluation: the full ELBO
