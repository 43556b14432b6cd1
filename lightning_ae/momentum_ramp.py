"""The dropout papers' SGD schedule: the learning rate decays exponentially while momentum ramps up.

Hinton, Srivastava, Krizhevsky, Sutskever & Salakhutdinov, "Improving neural networks by preventing
co-adaptation of feature detectors" (arXiv 1207.0580, 2012), Appendix A, the MNIST recipe that
Srivastava et al., JMLR 2014, Table 2 builds on: per epoch t,

    lr_t = lr_0 * gamma^t                                           (their f = 0.998)
    p_t  = p_i + (p_f - p_i) * min(t / T, 1)                         (0.5 -> 0.99 over T = 500 epochs)
    dw_t = p_t dw_{t-1} - (1 - p_t) lr_t grad,   w <- w + dw_t.

torch has ExponentialLR, and OneCycleLR / CyclicLR move momentum, but only tied to a cycle of the
learning rate; none ramps momentum on its own clock. This scheduler does both, stepped per epoch
(Lightning's default interval). With `dampen` it also sets SGD's `dampening` to the momentum, which
is the (1 - p_t) factor above: the step then stays about lr * grad as momentum rises, instead of
growing as lr / (1 - p) (50x from p = 0.5 to 0.99), so `lr` means the paper's epsilon.
"""

from __future__ import annotations

from jsonargparse.typing import PositiveFloat, PositiveInt
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lightning_ae.errors import ConfigError
from lightning_ae.networks import Dropout as Momentum  # a number in [0, 1)


class MomentumRampExponentialLR(LRScheduler):
    """lr_0 * gamma^epoch, momentum rising linearly from `momentum_start` to `momentum_end` over
    `ramp_epochs` epochs and constant after; `dampen`: SGD's dampening follows the momentum."""

    def __init__(self, optimizer: Optimizer, gamma: PositiveFloat = 0.998, momentum_start: Momentum = 0.5,
                 momentum_end: Momentum = 0.99, ramp_epochs: PositiveInt = 500, dampen: bool = True,
                 last_epoch: int = -1) -> None:
        if any("momentum" not in group for group in optimizer.param_groups):
            raise ConfigError(f"MomentumRampExponentialLR sets momentum, which {type(optimizer).__name__} has not; "
                              "use torch.optim.SGD.")
        if dampen and any(group.get("nesterov") for group in optimizer.param_groups):
            raise ConfigError("dampen: true needs nesterov: false (SGD's Nesterov momentum allows no dampening).")
        # plain numbers: the state_dict rides in the checkpoint, which loads with weights_only=True
        self.gamma, self.ramp_epochs, self.dampen = float(gamma), int(ramp_epochs), bool(dampen)
        self.momentum_start, self.momentum_end = float(momentum_start), float(momentum_end)
        super().__init__(optimizer, last_epoch)

    def momentum_at(self, epoch: int) -> float:
        return self.momentum_start + (self.momentum_end - self.momentum_start) * min(epoch / self.ramp_epochs, 1.0)

    def get_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]

    def step(self, epoch: int | None = None) -> None:
        super().step(epoch)
        momentum = self.momentum_at(self.last_epoch)
        for group in self.optimizer.param_groups:
            group["momentum"] = momentum
            if self.dampen:
                group["dampening"] = momentum
