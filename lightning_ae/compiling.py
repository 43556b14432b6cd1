"""Optional `torch.compile` of a model's networks, falling back to eager mode where it cannot work.

`model.init_args.compile: true` compiles each child network of an `AutoencoderModule` (encoder,
decoder, ...) in place with `nn.Module.compile()`: parameter names and checkpoints are unchanged,
and every path through the networks (`forward`, `encode`, `decode`) runs compiled. Where
compilation is unsupported (no Dynamo for this Python, no C++ compiler for the CPU backend) the
model runs eagerly and a warning says why. A graph that fails to compile raises at its first call
(the process-wide `torch._dynamo.config.suppress_errors` switch is left to the user: it is private
to torch and would change every other compiled model in the process).
"""

from __future__ import annotations

import shutil
import sys

import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn
from torchmetrics import Metric


def compile_unsupported_reason(device: torch.device | str = "cpu") -> str | None:
    """Why `torch.compile` cannot work here, or None."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if sys.platform == "win32":
        return "torch.compile's default backend does not support Windows"
    if torch.device(device).type == "cpu" and not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "the CPU backend needs a C++ compiler (c++, g++ or clang++) on PATH"
    return None


def compile_networks(module: nn.Module, device: torch.device | str = "cpu") -> list[str]:
    """Compile `module`'s child networks in place; returns the names compiled ([] on fallback)."""
    reason = compile_unsupported_reason(device)
    if reason is not None:
        rank_zero_warn(f"compile=true ignored: {reason}; the model runs eagerly.")
        return []
    names = []
    for name, child in module.named_children():
        if not any(True for _ in child.parameters()) or any(isinstance(m, Metric) for m in child.modules()):
            continue  # metrics and parameter-free helpers are not networks
        try:
            child.compile()
        except RuntimeError as e:  # e.g. Dynamo not supported on this Python version
            rank_zero_warn(f"compile=true ignored for {name}: {e}; it runs eagerly.")
            continue
        names.append(name)
    return names
