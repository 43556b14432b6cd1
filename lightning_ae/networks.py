"""Plain `nn.Module` building blocks shared by the LightningModule systems."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from jsonargparse.typing import restricted_number_type
from torch import Tensor, nn
from torch.nn import functional as F

from lightning_ae.errors import ConfigError

# The argument types of the models: LightningCLI (jsonargparse) refuses any other value while parsing,
# with the choices in the message and in `--help`.
Activation = Literal["elu", "relu", "sigmoid", "tanh", "linear"]
Init = Literal["he", "xavier", "default"]
Dropout = restricted_number_type("Dropout", float, [(">=", 0), ("<", 1)])  # a probability below 1

ACTIVATIONS: dict[str, type[nn.Module]] = dict(zip(get_args(Activation), (nn.ELU, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity)))


def activation(name: Activation) -> nn.Module:
    return ACTIVATIONS[name]()


def init_linear(layer: nn.Linear, scheme: Init, nonlinearity: str) -> None:
    """He (Kaiming) init for rectifier-like units, Xavier (Glorot) for sigmoid/tanh/linear."""
    if scheme == "default":
        return
    if scheme == "he":
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    else:
        gain = nn.init.calculate_gain(nonlinearity if nonlinearity in ("sigmoid", "tanh") else "linear")
        nn.init.xavier_uniform_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)


def mlp(dims: Sequence[int], act: Activation, last_act: Activation | None = None, init: Init = "he") -> nn.Sequential:
    """Linear layers dims[0] -> dims[1] -> ... with `act` between them and `last_act` (default: none) after."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layer = nn.Linear(d_in, d_out)
        last = i == len(dims) - 2
        name = (last_act or "linear") if last else act
        init_linear(layer, init, name)
        layers += [layer, activation(name)]
    return nn.Sequential(*layers)


class GaussianNoise(nn.Module):
    """x + N(0, std^2) noise in training, x unchanged in eval."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: Tensor) -> Tensor:  # (B, F) -> (B, F)
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x

    def extra_repr(self) -> str:
        return f"std={self.std}"


class NoisyBatchNorm(nn.Module):
    """One encoder layer's normalisation in the supervised baseline of the ladder network (Rasmus et al.,
    "Semi-Supervised Learning with Ladder Networks", NIPS 2015, Sec. 3; the `f` of their code):
    z = BatchNorm(W h) without a learned scale, z + N(0, std^2) in training, then a learned shift beta
    (and, where `scale`, a learned scale gamma: their softmax layer). Eval uses the running statistics
    and no noise."""

    def __init__(self, features: int, std: float, scale: bool = False) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(features, affine=False)
        self.noise = GaussianNoise(std)
        self.beta = nn.Parameter(torch.zeros(features))
        self.gamma = nn.Parameter(torch.ones(features)) if scale else None

    def forward(self, z: Tensor) -> Tensor:  # (B, F) -> (B, F)
        z = self.noise(self.norm(z)) + self.beta
        return z * self.gamma if self.gamma is not None else z


def linear_layers(net: nn.Sequential) -> list[nn.Linear]:
    return [m for m in net if isinstance(m, nn.Linear)]


class TiedDecoder(nn.Module):
    """Decoder whose weights are the transposed encoder weights (own biases): W_dec_k = W_enc_{L-k}^T."""

    def __init__(self, encoder: nn.Sequential, act: str, last_act: str) -> None:
        super().__init__()
        self.encoder_layers = linear_layers(encoder)  # plain list: parameters stay owned by the encoder
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(layer.in_features)) for layer in reversed(self.encoder_layers)]
        )
        n = len(self.encoder_layers)
        self.acts = nn.ModuleList([activation(act if i < n - 1 else last_act) for i in range(n)])

    def forward(self, z: Tensor) -> Tensor:
        h = z
        for layer, bias, act in zip(reversed(self.encoder_layers), self.biases, self.acts):
            h = act(F.linear(h, layer.weight.t(), bias))  # (B, out_k) -> (B, in_k)
        return h


class TransposedBlock(nn.Module):
    """One layer of a `TiedDecoder`: act(h W + b) with W the (transposed) weight of its encoder layer."""

    def __init__(self, layer: nn.Linear, bias: nn.Parameter, act: nn.Module) -> None:
        super().__init__()
        self.layer, self.bias, self.act = layer, bias, act

    def forward(self, h: Tensor) -> Tensor:  # (B, out_features) -> (B, in_features)
        return self.act(F.linear(h, self.layer.weight.t(), self.bias))


def layer_blocks(net: nn.Module) -> list[nn.Module]:
    """Split a network into one block per linear layer (the layer and the activation after it).

    Works on `nn.Sequential` of Linear + activation modules (`networks.mlp`) and on `TiedDecoder`.
    """
    if isinstance(net, TiedDecoder):
        layers = list(reversed(net.encoder_layers))
        return [TransposedBlock(layer, bias, act) for layer, bias, act in zip(layers, net.biases, net.acts)]
    if not isinstance(net, nn.Sequential):
        raise ConfigError(
            f"greedy pretraining needs nn.Sequential encoder/decoder networks (or a TiedDecoder), "
            f"got {type(net).__name__}; use an Autoencoder built with networks.mlp."
        )
    blocks: list[list[nn.Module]] = []
    for module in net:
        if isinstance(module, nn.Linear):
            blocks.append([module])
        elif blocks:
            blocks[-1].append(module)  # the activation after the layer
        else:
            raise ConfigError(f"the network starts with {type(module).__name__}, expected an nn.Linear layer.")
    return [nn.Sequential(*b) for b in blocks]


def block_shape(block: nn.Module) -> tuple[int, int]:
    """(in, out) features of a layer block."""
    if isinstance(block, TransposedBlock):
        return block.layer.out_features, block.layer.in_features
    return block[0].in_features, block[0].out_features
