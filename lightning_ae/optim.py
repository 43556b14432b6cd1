"""Optimizers and learning-rate schedules of the classic papers and posts that PyTorch spells differently."""

from __future__ import annotations

from itertools import accumulate

import torch
from jsonargparse.typing import ClosedUnitInterval, PositiveFloat, PositiveInt
from torch.optim.lr_scheduler import LRScheduler


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


class BurdaSchedule(LRScheduler):
    """The learning-rate schedule of Burda, Grosse & Salakhutdinov ("Importance Weighted Autoencoders",
    ICLR 2016, Sec. 5): for i = 0 .. stages - 1, 3^i passes over the data at lr * 10^(-i/7).

    With the default 8 stages that is 3,280 epochs (their schedule, with Adam lr 1e-3, betas 0.9 /
    0.999, eps 1e-4, batch 20). `epochs_scale` shortens every stage (3^i * scale epochs, at least
    one) for a smaller budget; `total_epochs` is what `trainer.max_epochs` should be. Stepped per epoch.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, stages: PositiveInt = 8, epochs_scale: PositiveFloat = 1.0,
                 last_epoch: int = -1) -> None:
        self.stage_ends = list(accumulate(max(1, round(3**i * epochs_scale)) for i in range(stages)))
        super().__init__(optimizer, last_epoch)

    @property
    def total_epochs(self) -> int:
        return self.stage_ends[-1]

    def stage(self, epoch: int) -> int:
        """The stage i of `epoch` (0-based); the last stage's rate holds after the schedule ends."""
        return next((i for i, end in enumerate(self.stage_ends) if epoch < end), len(self.stage_ends) - 1)

    def get_lr(self) -> list[float]:
        return [base * 10 ** (-self.stage(self.last_epoch) / 7) for base in self.base_lrs]


class ConstantThenLinear(LRScheduler):
    """The learning rate held for the first `decay_from` of `total_epochs`, then linearly down to 0 at
    the last epoch's end: the schedule of the ladder network's code (Rasmus et al., NIPS 2015: Adam 0.002
    for 100 epochs, then to 0 over 50; `decay_from` 0.67 of 150). Stepped per epoch."""

    def __init__(self, optimizer: torch.optim.Optimizer, total_epochs: PositiveInt,
                 decay_from: ClosedUnitInterval = 2 / 3, last_epoch: int = -1) -> None:
        self.total_epochs = int(total_epochs)  # plain ints: the state_dict goes into checkpoints read with weights_only
        self.decay_start = round(float(decay_from) * total_epochs)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch: int) -> float:
        """The rate of 0-based `epoch` over the initial one: 1 until decay_start, then (total - epoch) / (total - decay_start)."""
        return min(1.0, max(0.0, (self.total_epochs - epoch) / max(1, self.total_epochs - self.decay_start)))

    def get_lr(self) -> list[float]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]
