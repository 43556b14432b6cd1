"""Variational autoencoder with a Gaussian code and a Bernoulli decoder.

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014. The encoder gives the mean and
the log-variance (not the log standard deviation) of q(z|x) = N(mu, diag(exp(logvar))); training
draws z = mu + exp(logvar / 2) * eps (the reparameterisation trick) and maximises the evidence
lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),

with log p(x|z) the Bernoulli log-likelihood of the pixels summed over the image (BCE with logits)
and the KL in closed form, both in nats per image. The defaults are the 784-500-500-20 ELU
network of Geron's notebook. The test set also gets the importance-sampled estimate of the
negative log-likelihood of Burda, Grosse & Salakhutdinov ("Importance Weighted Autoencoders",
ICLR 2016), -log (1/k) sum_i p(x, z_i) / q(z_i|x) with z_i ~ q(z|x), which tightens towards
-log p(x) as k grows (their plain VAE 784-200-200-50: 86.76 nats on binarised MNIST, k = 5000).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lightning_ae import figures, losses
from lightning_ae.models.base import AutoencoderModule
from jsonargparse.typing import NonNegativeFloat, NonNegativeInt, PositiveInt

from lightning_ae.networks import Activation, Init, init_linear, mlp

MANIFOLD_STEPS = 6  # the 2-D manifold picture is a MANIFOLD_STEPS x MANIFOLD_STEPS grid of decoded codes
# (6 digits at twice their pixels fill a TensorBoard card; Kingma & Welling's figure is 20 x 20)
INTERPOLATION_STEPS = 4  # decoded codes between (and including) the two end points of a pair
SAMPLES, PER_LINE = 18, 6  # decoded prior samples, in lines of 6
MAX_PAIRS = 3  # interpolations, a pair per row


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """A sample of N(mu, exp(logvar)) that is differentiable in mu and logvar: mu + sigma * eps."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


class VariationalAutoencoder(AutoencoderModule):
    """MLP encoder to (mean, log-variance) heads, a sampled code, and an MLP decoder of Bernoulli logits.

    Logged: `*/elbo`, `*/rec` and `*/kl` in nats per image, and the reconstruction metrics of
    decode(mean) (`val/mse`, ...) like every model; the objective (rec + kl_weight * kl) reaches the
    callbacks, the progress bar and run.json as `*/loss` but not TensorBoard, whose `val/loss` chart
    holds per-pixel errors (`chart_loss`); at kl_weight 1 it is -`*/elbo`.

    `encode` returns the posterior mean (the code used by the scatter plots, probes and `predict`);
    `decode` returns pixel probabilities (the sigmoid of the logits), so the reconstruction metrics
    and pictures of the base module apply unchanged.

    Args:
        hidden_dims: encoder hidden sizes; the decoder mirrors them.
        latent_dim: size of the code z.
        activation: hidden activation: elu, relu, sigmoid, tanh or linear.
        init: he, xavier or default (PyTorch's).
        kl_weight: weight of the KL term in the training loss (1: the ELBO; other values give the
            beta-VAE objective). The logged `elbo` always uses weight 1.
        nll_samples: importance samples k per test image for `test/nll`.
        nll_images: test images that get `test/nll` (the first ones; None: all of them).
        nll_batch: codes decoded per forward pass of `test/nll` (bounds its memory: about
            nll_batch x 784 floats per tensor).
        kl_warmup_epochs: ramp the KL term's weight linearly from 0 to `kl_weight` over these first
            training epochs (0: off). Helps short runs leave the posterior-collapse plateau.
    """

    chart_loss = False  # nats per image: charted as */elbo, not beside the per-pixel `*/loss` of other models

    def __init__(
        self,
        hidden_dims: Sequence[PositiveInt] = (500, 500),
        latent_dim: PositiveInt = 20,
        activation: Activation = "elu",
        init: Init = "he",
        kl_weight: NonNegativeFloat = 1.0,
        nll_samples: PositiveInt = 100,
        nll_images: NonNegativeInt | None = 1000,
        nll_batch: PositiveInt = 20_000,
        kl_warmup_epochs: NonNegativeInt = 0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.kl_weight, self.kl_warmup_epochs = kl_weight, kl_warmup_epochs
        features = hidden_dims[-1] if len(hidden_dims) else self.input_dim
        self.encoder = mlp([self.input_dim, *hidden_dims], activation, activation, init)  # (B, 784) -> (B, H)
        self.mean_head = nn.Linear(features, latent_dim)  # (B, H) -> (B, latent_dim)
        self.logvar_head = nn.Linear(features, latent_dim)  # (B, H) -> (B, latent_dim)
        for head in (self.mean_head, self.logvar_head):
            init_linear(head, init, "linear")
        self.decoder = mlp([latent_dim, *reversed(hidden_dims), self.input_dim], activation, None, init)  # logits
        self._nll_left = 0  # test images still to score with the importance-sampled NLL this test epoch

    # -- the network -----------------------------------------------------------------------------
    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance of q(z|x): (B, 784) -> 2 x (B, latent_dim)."""
        h = self.encoder(x)
        return self.mean_head(h), self.logvar_head(h)

    def encode(self, x: Tensor) -> Tensor:  # (B, 784) -> (B, latent_dim), the posterior mean
        return self.mean_head(self.encoder(x))

    def logits(self, z: Tensor) -> Tensor:  # (..., latent_dim) -> (..., 784) Bernoulli logits
        return self.decoder(z)

    def decode(self, z: Tensor) -> Tensor:  # (B, latent_dim) -> (B, 784) pixel probabilities
        return torch.sigmoid(self.logits(z))

    # -- training objective ----------------------------------------------------------------------
    def objective(self, x_in: Tensor, x: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        mu, logvar = self.posterior(x_in)
        logits = self.logits(reparameterize(mu, logvar))  # one sample: an unbiased estimate of the ELBO
        rec = losses.bernoulli_nll(logits, x)  # (B,) nats, float32
        kl = losses.gaussian_kl(mu, logvar)  # (B,) nats, float32
        loss = (rec + self.current_kl_weight() * kl).mean()
        # in training the sampled reconstruction; in evaluation the deterministic one, decode(mean)
        x_hat = torch.sigmoid(logits) if self.training else self.decode(mu)
        return loss, x_hat, {"rec": rec.mean(), "kl": kl.mean(), "elbo": -(rec + kl).mean()}

    def current_kl_weight(self) -> float:
        """`kl_weight`, ramped up linearly from 0 over the first `kl_warmup_epochs` epochs of training
        (KL warm-up: Bowman et al. 2016, Sonderby et al. 2016), per optimizer step; evaluation uses `kl_weight`."""
        if not self.training or self.kl_warmup_epochs == 0:
            return self.kl_weight
        try:
            trainer = self.trainer
        except RuntimeError:  # called by hand, outside a Trainer
            return self.kl_weight
        done = trainer.global_step / max(1, trainer.num_training_batches)  # epochs of optimizer steps so far
        return self.kl_weight * min(1.0, done / self.kl_warmup_epochs)

    # -- importance weights and the importance-sampled negative log-likelihood -------------------
    def log_weights(self, x: Tensor, mu: Tensor, logvar: Tensor, k: int) -> Tensor:
        """log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x) for k samples z_i ~ q(z|x): (B, 784) -> (k, B).

        Differentiable in the networks (the reparameterisation trick); logsumexp over them gives the
        k-sample importance-weighted bound of Burda et al. (k = 1: the ELBO).
        """
        z = mu + torch.exp(0.5 * logvar) * torch.randn(k, *mu.shape, device=mu.device, dtype=mu.dtype)  # (k, B, L)
        logits = self.logits(z)  # (k, B, 784)
        log_px_z = -losses.bernoulli_nll(logits, x.expand_as(logits))  # (k, B)
        return log_px_z + losses.gaussian_log_prob(z) - losses.gaussian_log_prob(z, mu.float(), logvar.float())

    @torch.no_grad()
    def importance_sampled_nll(self, x: Tensor, num_samples: int) -> Tensor:
        """-log p(x) estimated with `num_samples` importance samples from q(z|x), in nats: (B, 784) -> (B,).

        log p(x) >= log (1/k) sum_i w_i, w_i = p(x|z_i) p(z_i) / q(z_i|x); k = 1 gives a one-sample
        ELBO, and the bound tightens as k grows. Decodes about `nll_batch` codes at a time.
        """
        mu, logvar = (t.float() for t in self.posterior(x))  # (B, L) each
        chunk = max(1, self.hparams.nll_batch // len(x))  # samples per image per forward pass
        log_w = torch.cat([self.log_weights(x, mu, logvar, min(chunk, num_samples - start))
                           for start in range(0, num_samples, chunk)])  # (num_samples, B)
        return -(torch.logsumexp(log_w, dim=0) - math.log(num_samples))

    def on_test_epoch_start(self) -> None:
        n = self.hparams.nll_images
        self._nll_left = math.inf if n is None else -(-n // self.trainer.world_size)  # this rank's share

    def test_step(self, batch, batch_idx):
        super().test_step(batch, batch_idx)
        x = batch[0][: min(len(batch[0]), self._nll_left)]
        if len(x) == 0:
            return
        self._nll_left -= len(x)
        nll = self.importance_sampled_nll(x, self.hparams.nll_samples)
        self.log("test/nll", nll.mean(), on_step=False, on_epoch=True, batch_size=len(x), sync_dist=True)

    # -- pictures --------------------------------------------------------------------------------
    def figures(self, x: Tensor, y: Tensor) -> dict[str, object]:
        """`vae/samples` (decoded prior samples), `vae/interpolation` (decoded posterior means between
        pairs of test digits, a pair per row) and, for a 2-D code, `vae/manifold` (the decoder over a
        grid of the latent plane): figures a TensorBoard card shows at twice the pixels."""
        g = torch.Generator().manual_seed(0)  # the same prior samples every epoch
        z = torch.randn(SAMPLES, self.latent_dim, generator=g).to(self.device, x.dtype)
        out: dict[str, object] = {"vae/samples": figures.labelled_grid(
            [self.decode(z)], per_line=PER_LINE, side=self.image_shape,
            title=f"decoded samples z ~ N(0, I), {self.latent_dim}-D code")}
        pairs = min(len(x) // 2, MAX_PAIRS)
        if pairs:
            mu = self.encode(x[: 2 * pairs]).view(pairs, 2, -1)  # (pairs, 2, L)
            t = torch.linspace(0, 1, INTERPOLATION_STEPS, device=x.device, dtype=mu.dtype).view(1, -1, 1)
            codes = mu[:, :1] + t * (mu[:, 1:] - mu[:, :1])  # (pairs, steps, L)
            decoded = self.decode(codes)  # (pairs, steps, 784)
            x_pairs = x[: 2 * pairs].view(pairs, 2, -1)
            rows = torch.cat([x_pairs[:, :1], decoded, x_pairs[:, 1:]], dim=1)  # originals at both ends
            steps = ", ".join(f"{float(s):.2g}" for s in t.flatten())
            out["vae/interpolation"] = figures.labelled_grid(
                list(rows), per_line=INTERPOLATION_STEPS + 2, side=self.image_shape,
                title=f"original, decoded posterior means at t = {steps}, original")
        if self.latent_dim == 2:
            # evenly spaced probabilities through the Gaussian inverse CDF: equal prior mass per cell
            p = torch.linspace(0.05, 0.95, MANIFOLD_STEPS)
            v = torch.distributions.Normal(0.0, 1.0).icdf(p).to(self.device, x.dtype)
            z1, z0 = torch.meshgrid(v.flip(0), v, indexing="ij")  # rows: z1 from high to low; columns: z0
            grid = self.decode(torch.stack([z0, z1], dim=-1))  # (steps, steps, 784)
            out["vae/manifold"] = figures.labelled_grid(
                list(grid), per_line=MANIFOLD_STEPS, side=self.image_shape,
                title=f"decoded z, prior quantiles 5%-95%: z1 {float(v[0]):+.1f} (left) to {float(v[-1]):+.1f}, "
                      f"z2 {float(v[-1]):+.1f} (top) to {float(v[0]):+.1f}")
        return out
