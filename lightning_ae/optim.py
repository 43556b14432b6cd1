"""Optimizers the classic posts used that PyTorch spells differently."""

from __future__ import annotations

import torch


class RMSpropTF(torch.optim.RMSprop):
    """RMSprop as TensorFlow 1's `tf.train.RMSPropOptimizer` ran it (the 2016-17 blog posts).

    PyTorch's RMSprop starts the running mean of squared gradients at 0, so its first steps have size
    about lr / sqrt(1 - alpha) per weight (1.0 for lr 0.1), which saturates sigmoid networks at once.
    TensorFlow 1 started it at 1 (first steps about lr * gradient), decayed it by 0.9 and used
    epsilon 1e-10. Those are the defaults here; the update rule is PyTorch's.
    """

    def __init__(self, params, lr: float = 1e-3, alpha: float = 0.9, eps: float = 1e-10, **kwargs) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, **kwargs)
        for group in self.param_groups:
            for p in group["params"]:
                state = {"step": torch.tensor(0.0), "square_avg": torch.ones_like(p, memory_format=torch.preserve_format)}
                if group["momentum"] > 0:
                    state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if group["centered"]:
                    state["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                self.state[p] = state
