"""Sparse autoencoder: a wide sigmoid code kept mostly inactive by a penalty on its activations.

Ng, "Sparse autoencoder", CS294A lecture notes 2011 (KL(rho || mean activation) summed over the code
units); Géron, "Hands-On Machine Learning", ch. 15 (784-1000-784, sigmoid code, linear output,
rho = 0.1, beta = 0.2, Adam 0.01, batch 1000); the Keras blog's L1 activity penalty; and
Hosseini-Asl et al., "Deep learning of part-based representation of data using sparse autoencoders
with nonnegativity constraints", IEEE TNNLS 2016 (non-negative weights: their penalty of eqs. (5)-(6),
`nonneg_penalty`, or a hard projection, `nonneg_weights`). Seed 004's weight decay is Keras's
`kernel_regularizer=l2(c)`: c * sum(w^2) over the weight matrices added to the loss (`weight_l2`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from matplotlib import pyplot as plt
from torch import Tensor

from lightning_ae import figures, losses, weight_penalties
from lightning_ae.models.autoencoder import Autoencoder
from jsonargparse.typing import NonNegativeFloat, OpenUnitInterval, PositiveInt

from lightning_ae.errors import ConfigError
from lightning_ae.networks import Activation, Init, linear_layers



class SparseAutoencoder(Autoencoder):
    """input_dim -> hidden_dims -> latent_dim sigmoid code -> mirror, MSE + beta * sparsity penalty.

    Args:
        latent_dim: number of code units (Géron: 1000, overcomplete).
        hidden_dims: encoder hidden sizes (none in Géron's shallow net).
        activation: hidden activation when there are hidden layers.
        code_activation: sigmoid (needed by the KL penalty: activations are firing rates in (0, 1)) or,
            with the L1 penalty, any non-negative activation such as relu.
        output_activation: linear (Géron) or sigmoid.
        init: he (Géron's variance scaling), xavier or default.
        penalty: kl, sum over units of KL(rho || batch-mean activation); or l1, the mean over the batch
            of the code's L1 norm.
        sparsity_target: rho, the mean activation the KL penalty aims at, in (0, 1).
        sparsity_weight: beta >= 0, the weight of the penalty in the loss.
        nonneg_weights: clamp every weight matrix to >= 0 after each optimizer step (biases stay free).
        weight_l2: lambda >= 0; adds lambda * sum(w^2) over the encoder's and decoder's weight matrices
            (not the biases) to the loss: Keras's `kernel_regularizer=regularizers.l2(lambda)` on both
            layers (seed 004: 0.003). Not Adam's `weight_decay`, which also decays biases.
        nonneg_penalty: alpha >= 0; adds alpha/2 * sum(min(w, 0)^2) over the same matrices to the loss,
            Hosseini-Asl et al.'s nonnegativity penalty (eq. (5), f of eq. (6)): a soft constraint that
            pulls negative weights towards 0 and leaves positive ones alone.
        penalised_layers: the weight matrices `weight_l2` and `nonneg_penalty` act on: all (encoder and
            decoder, as in Ng's weight decay and Hosseini-Asl et al.'s sum over both layers) or encoder
            (a Keras `kernel_regularizer` on the code layer only, beside its activity regulariser).
    """

    def __init__(
        self,
        latent_dim: PositiveInt = 1000,
        hidden_dims: Sequence[PositiveInt] = (),
        activation: Activation = "elu",
        code_activation: Literal["sigmoid", "relu"] = "sigmoid",
        output_activation: Literal["sigmoid", "linear"] = "linear",
        init: Init = "he",
        penalty: Literal["kl", "l1"] = "kl",
        sparsity_target: OpenUnitInterval = 0.1,
        sparsity_weight: NonNegativeFloat = 0.2,
        nonneg_weights: bool = False,
        weight_l2: NonNegativeFloat = 0.0,
        nonneg_penalty: NonNegativeFloat = 0.0,
        penalised_layers: Literal["all", "encoder"] = "all",
        **kwargs,
    ) -> None:
        if penalty == "kl" and code_activation != "sigmoid":
            raise ConfigError(f"penalty='kl' needs code_activation='sigmoid' (activations in (0, 1)), "
                              f"got {code_activation!r}; use penalty='l1' for other code activations.")
        super().__init__(hidden_dims=hidden_dims, latent_dim=latent_dim, activation=activation,
                         code_activation=code_activation, output_activation=output_activation, loss="mse",
                         init=init, **kwargs)
        self.penalty, self.rho, self.beta = penalty, sparsity_target, sparsity_weight
        self.nonneg_weights = nonneg_weights
        self.weight_l2, self.nonneg_penalty = weight_l2, nonneg_penalty
        self.penalised_layers = penalised_layers
        # per-unit activation sums over the current validation/test epoch, for the histogram
        self.register_buffer("_unit_sum", torch.zeros(latent_dim), persistent=False)
        self._unit_count = 0

    def sparsity(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """(penalty, per-unit mean activation (H,)) of a batch of codes `h` (B, H), in float32."""
        with torch.autocast(device_type=h.device.type, enabled=False):
            h = h.float()
            rho_hat = h.mean(0)  # (B, H) -> (H,)
            if self.penalty == "kl":
                return losses.kl_sparsity(rho_hat, self.rho), rho_hat
            return losses.l1_activity(h), rho_hat

    def objective(self, x_in: Tensor, x: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        h = self.encode(x_in)  # (B, 784) -> (B, latent_dim)
        x_hat = self.decode(h)  # (B, latent_dim) -> (B, 784)
        rec = losses.reconstruction(x_hat, x, "mse")
        penalty, rho_hat = self.sparsity(h)
        if not self.training:
            self._unit_sum += rho_hat.detach() * len(h)
            self._unit_count += len(h)
        terms = {"rec": rec, "sparsity": penalty, "mean_activation": rho_hat.mean().detach()}
        loss = rec + self.beta * penalty
        if self.weight_l2 or self.nonneg_penalty:
            weights = self.weight_matrices(self.penalised_layers)
            if self.weight_l2:
                terms["weight_l2"] = weight_penalties.l2(weights)  # sum(w^2)
                loss = loss + self.weight_l2 * terms["weight_l2"]
            if self.nonneg_penalty:
                terms["nonneg"] = weight_penalties.negative_l2(weights)  # (1/2) sum(min(w, 0)^2)
                loss = loss + self.nonneg_penalty * terms["nonneg"]
        if not self.training:  # validation and test: how negative the weights are, for every setting
            weights = self.weight_matrices()
            terms["neg_weights"] = weight_penalties.negative_fraction(weights)
            terms["neg_share"] = weight_penalties.negative_share(weights)
        return loss, x_hat, terms

    def weight_matrices(self, layers: Literal["all", "encoder"] = "all") -> list[Tensor]:
        """The encoder's (and with `all` the decoder's) weight matrices, each once (a tied decoder adds
        none), no biases."""
        nets = [net for net in (self.encoder, self.decoder)[:2 if layers == "all" else 1]
                if isinstance(net, torch.nn.Sequential)]
        return [layer.weight for net in nets for layer in linear_layers(net)]

    # -- the per-unit activation histogram over each validation / test epoch ---------------------
    def _reset_unit_means(self) -> None:
        self._unit_sum.zero_()
        self._unit_count = 0

    def on_validation_epoch_start(self) -> None:
        self._reset_unit_means()

    def on_test_epoch_start(self) -> None:
        self._reset_unit_means()

    def unit_means(self, x: Tensor) -> Tensor:
        """Mean activation per code unit (H,): over the images of the last validation/test epoch if
        any were scored, else over `x`."""
        if self._unit_count:
            return self._unit_sum / self._unit_count
        return self.encode(x).float().mean(0)

    def figures(self, x: Tensor, y: Tensor) -> dict[str, object]:
        """`sparse/unit_means`: the mean activation of each code unit (what the KL penalty constrains);
        `sparse/activations`: every activation of the images `x` (a sparse code is bimodal there, a
        dense code of small values is not). One panel per picture, a TensorBoard card each."""
        means = self.unit_means(x).detach().cpu()
        every = self.encode(x).detach().float().cpu().flatten()  # (B * latent_dim,)
        top = max(1.0, float(means.max()), float(every.max()))
        small = figures.SMALL
        out = {}
        for name, values, title, xlabel, ylabel in (
            ("sparse/unit_means", means, f"mean activation of each of the {len(means)} code units",
             "mean activation over the scored images", "code units"),
            ("sparse/activations", every, f"every activation of {len(x)} test images ({len(x)} x {len(means)})",
             "activation", "count (log scale)"),
        ):
            fig, ax = plt.subplots(figsize=(figures.WIDTH / figures.DPI, figures.HEIGHT / figures.DPI), dpi=figures.DPI)
            unit = name == "sparse/unit_means"
            ax.hist(values.numpy(), bins=100, range=(0.0, top), color="tab:blue" if unit else "tab:gray", log=not unit)
            if unit:
                if self.penalty == "kl":
                    ax.axvline(self.rho, color="k", linestyle=":", label=f"target rho = {self.rho:g}")
                ax.axvline(float(means.mean()), color="tab:red", label=f"mean = {float(means.mean()):.3f}")
                ax.legend(fontsize=small, frameon=False)
            ax.set_title(title, fontsize=figures.FONT)
            ax.set_xlabel(xlabel, fontsize=small)
            ax.set_ylabel(ylabel, fontsize=small)
            ax.tick_params(labelsize=small - 1)
            fig.tight_layout(pad=0.4)
            out[name] = fig
        return out

    # -- the non-negativity constraint ----------------------------------------------------------
    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        if self.nonneg_weights:
            self.clamp_weights()

    @torch.no_grad()
    def clamp_weights(self) -> None:
        """Project every weight matrix onto w >= 0 (the tied decoder shares the encoder's)."""
        for weight in self.weight_matrices():
            weight.clamp_(min=0.0)
