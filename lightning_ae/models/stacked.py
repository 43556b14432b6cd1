"""Stacked autoencoder: Géron's 784-300-150-300-784 ELU network and its first-layer filters.

Géron, "Hands-On Machine Learning", ch. 15 (after Hinton & Salakhutdinov, Science 2006, and
Bengio et al., "Greedy layer-wise training of deep networks", NIPS 2007): He initialisation,
an L2 penalty on the weights, a linear output and per-pixel MSE; with `tie_weights` the decoder
reuses the transposed encoder matrices (half the weights). What sets it apart from the plain
`Autoencoder` is only its defaults and the picture of what the first layer detects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from jsonargparse.typing import PositiveInt
from torch import Tensor

from lightning_ae import figures
from lightning_ae.errors import ConfigError
from lightning_ae.models.autoencoder import Autoencoder
from lightning_ae.networks import Activation, Init, linear_layers


class StackedAutoencoder(Autoencoder):
    """input_dim -> hidden_dims -> latent_dim (ELU code) -> mirror, linear output, L2 weight penalty.

    Args:
        hidden_dims: encoder hidden sizes (Géron: [300]).
        latent_dim: size of the code (Géron: 150).
        activation: hidden activation (elu).
        code_activation: activation of the code layer (elu: Géron's code layer is a hidden layer too).
        output_activation: linear (Géron) or sigmoid.
        init: he (Géron's variance scaling), xavier or default.
        num_filters: first-layer filters (rows of the first weight matrix) in the `stacked/filters` picture.
        **kwargs: `tie_weights` and the arguments of `AutoencoderModule`. The notebook's L2 penalty
            1e-4 is Adam's `weight_decay` in the configs' `optimizer:` section: it adds
            `weight_decay * w` to each gradient, the gradient of TensorFlow's
            `l2_regularizer(weight_decay)` (it also decays the biases, which TF did not).
    """

    def __init__(
        self,
        hidden_dims: Sequence[PositiveInt] = (300,),
        latent_dim: PositiveInt = 150,
        activation: Activation = "elu",
        code_activation: Activation = "elu",
        output_activation: Literal["sigmoid", "linear"] = "linear",
        init: Init = "he",
        num_filters: PositiveInt = 25,
        **kwargs,
    ) -> None:
        super().__init__(hidden_dims=hidden_dims, latent_dim=latent_dim, activation=activation,
                         code_activation=code_activation, output_activation=output_activation, loss="mse", init=init,
                         **kwargs)
        first = linear_layers(self.encoder)[0].out_features
        if num_filters > first:
            raise ConfigError(f"num_filters must be between 1 and the first layer's {first} units, got {num_filters}.")
        if self.hparams.get("image_shape") is None and self.image_shape[0] == 1:
            raise ConfigError(f"the filters picture needs the images' shape; input_dim={self.input_dim} is not a square: "
                              "give image_shape (H, W) (the CLI sets it from the data).")
        self.num_filters = num_filters

    def filters(self) -> Tensor:
        """The first `num_filters` rows of the first weight matrix as images: (num_filters, 1, H, W)."""
        w = linear_layers(self.encoder)[0].weight[: self.num_filters]  # (num_filters, input_dim)
        return w.detach().float().cpu().reshape(-1, 1, *self.image_shape)

    def figures(self, x: Tensor, y: Tensor) -> dict[str, object]:
        """`stacked/filters`: the first `num_filters` rows of W1 as images, each scaled to [0, 1] on its own
        (the pattern matters, not the weight scale), at twice their pixels."""
        w = self.filters().flatten(1)  # (num_filters, input_dim)
        low, high = w.min(1, keepdim=True).values, w.max(1, keepdim=True).values
        scaled = (w - low) / (high - low).clamp_min(1e-12)
        per_line = math.ceil(math.sqrt(self.num_filters))
        return {"stacked/filters": figures.labelled_grid(
            [scaled], per_line=per_line, side=self.image_shape,
            title=f"first-layer filters: rows 1-{self.num_filters} of W1, each scaled to its own range")}
