"""Deep (undercomplete) MLP autoencoder.

Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks", Science 2006:
784-1000-500-250-30 (and -2). The default is the smaller 784-512-128-2 ELU network of the
well-known Cross Validated reproduction, which beats 2-component PCA after two epochs.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import Literal

from jsonargparse.typing import PositiveInt
from torch import Tensor

from lightning_ae.errors import ConfigError
from lightning_ae.losses import ReconstructionLoss
from lightning_ae.models.base import AutoencoderModule
from lightning_ae.networks import Activation, Init, TiedDecoder, mlp


class Autoencoder(AutoencoderModule):
    """MLP encoder input_dim -> hidden_dims -> latent_dim (linear code) and its mirror decoder.

    Args:
        hidden_dims: encoder hidden sizes; the decoder mirrors them.
        latent_dim: size of the code.
        activation: hidden activation: elu, relu, sigmoid, tanh or linear.
        code_activation: activation of the code layer (linear in the classic posts).
        output_activation: sigmoid (pixels in [0,1]) or linear.
        loss: mse (per pixel) or bce (per pixel, needs a sigmoid output).
        init: he, xavier or default (PyTorch's).
        tie_weights: the decoder reuses the transposed encoder weights (own biases), halving the weights.
    """

    def __init__(
        self,
        hidden_dims: Sequence[PositiveInt] = (512, 128),
        latent_dim: PositiveInt = 2,
        activation: Activation = "elu",
        code_activation: Activation = "linear",
        output_activation: Literal["sigmoid", "linear"] = "sigmoid",
        loss: ReconstructionLoss = "mse",
        init: Init = "he",
        tie_weights: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.loss_kind = loss
        if loss == "bce" and output_activation != "sigmoid":
            raise ConfigError("loss='bce' needs output_activation='sigmoid' (outputs must be probabilities).")
        self.latent_dim = latent_dim
        self.tie_weights = tie_weights
        dims = [self.input_dim, *hidden_dims, latent_dim]
        self.encoder = mlp(dims, activation, code_activation, init)  # (B, 784) -> (B, latent_dim)
        self.decoder = self.build_decoder(dims, activation, output_activation, init)

    def build_decoder(self, dims, activation: str, output_activation: str, init: str):
        """The mirror network (B, latent_dim) -> (B, 784), tied to the encoder's weights if asked."""
        if self.tie_weights:
            return TiedDecoder(self.encoder, activation, output_activation)
        return mlp(dims[::-1], activation, output_activation, init)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)
