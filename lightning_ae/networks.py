"""Plain `nn.Module` building blocks shared by the LightningModule systems."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "elu": nn.ELU,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "linear": nn.Identity,
}
INITS = ("he", "xavier", "default")


def check_choice(name: str, value: str, choices) -> str:
    """Return `value` if it is one of `choices`, else raise an error that lists them."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not known; choose one of: {', '.join(choices)}.")
    return value


def check_dims(hidden_dims: Sequence[int], latent_dim: int, allow_empty: bool = True) -> None:
    if latent_dim is None or latent_dim <= 0:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim}.")
    if not allow_empty and len(hidden_dims) == 0:
        raise ValueError("hidden_dims is empty; give at least one hidden layer size, e.g. [300].")
    bad = [d for d in hidden_dims if d <= 0]
    if bad:
        raise ValueError(f"hidden_dims must be positive integers, got {list(hidden_dims)}.")


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[check_choice("activation", name, ACTIVATIONS)]()


def init_linear(layer: nn.Linear, scheme: str, nonlinearity: str) -> None:
    """He (Kaiming) init for rectifier-like units, Xavier (Glorot) for sigmoid/tanh/linear."""
    if scheme == "default":
        return
    if scheme == "he":
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    else:
        gain = nn.init.calculate_gain(nonlinearity if nonlinearity in ("sigmoid", "tanh") else "linear")
        nn.init.xavier_uniform_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)


def mlp(dims: Sequence[int], act: str, last_act: str | None = None, init: str = "he") -> nn.Sequential:
    """Linear layers dims[0] -> dims[1] -> ... with `act` between them and `last_act` (default: none) after."""
    check_choice("init", init, INITS)
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layer = nn.Linear(d_in, d_out)
        last = i == len(dims) - 2
        name = (last_act or "linear") if last else act
        init_linear(layer, init, name)
        layers += [layer, activation(name)]
    return nn.Sequential(*layers)


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
