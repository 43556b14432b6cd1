"""MomentumRampExponentialLR: Hinton et al. 2012's closed form, epoch by epoch, and what SGD then does."""

from __future__ import annotations

import pytest
import torch

from lightning_ae.errors import ConfigError
from lightning_ae.momentum_ramp import MomentumRampExponentialLR


def sgd(lr: float = 1.0, **kwargs) -> tuple[torch.nn.Parameter, torch.optim.SGD]:
    w = torch.nn.Parameter(torch.zeros(3))
    return w, torch.optim.SGD([w], lr=lr, momentum=0.9, **kwargs)


def test_lr_and_momentum_follow_the_closed_form():
    _, opt = sgd(lr=2.0)
    sched = MomentumRampExponentialLR(opt, gamma=0.9, momentum_start=0.5, momentum_end=0.99, ramp_epochs=4)
    seen = []
    for _ in range(7):
        g = opt.param_groups[0]
        seen.append((g["lr"], g["momentum"], g["dampening"]))
        opt.step()
        sched.step()
    ramp = [0.5, 0.6225, 0.745, 0.8675, 0.99, 0.99, 0.99]  # 0.5 + 0.49 t / 4, then 0.99
    assert [s[0] for s in seen] == pytest.approx([2.0 * 0.9**t for t in range(7)])
    assert [s[1] for s in seen] == pytest.approx(ramp)
    assert [s[2] for s in seen] == pytest.approx(ramp)  # dampening = momentum: the (1 - p_t) factor


def test_without_dampen_dampening_stays_zero():
    _, opt = sgd()
    sched = MomentumRampExponentialLR(opt, ramp_epochs=10, dampen=False)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.549) and opt.param_groups[0]["dampening"] == 0


def test_dampened_step_is_lr_times_gradient_at_any_momentum():
    """Hinton's rule: with a constant gradient g the step tends to lr * g, whatever the momentum;
    torch's undampened SGD tends to lr * g / (1 - p): 100 times that at p = 0.99."""
    for dampen, expected in ((True, 0.1), (False, 10.0)):
        w, opt = sgd(lr=0.1)
        MomentumRampExponentialLR(opt, gamma=1.0, momentum_start=0.99, momentum_end=0.99, ramp_epochs=1, dampen=dampen)
        for _ in range(3000):
            before = w.detach().clone()
            w.grad = torch.ones(3)
            opt.step()
        assert (before - w.detach()) == pytest.approx(torch.full((3,), expected), rel=1e-3)


def test_resumed_schedule_continues_where_it_stopped():
    _, opt = sgd()
    sched = MomentumRampExponentialLR(opt, gamma=0.5, ramp_epochs=10)
    for _ in range(3):
        opt.step()
        sched.step()
    _, opt2 = sgd()
    sched2 = MomentumRampExponentialLR(opt2, gamma=0.5, ramp_epochs=10)
    sched2.load_state_dict(sched.state_dict())
    opt2.step()
    sched2.step()
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.5**4)
    assert opt2.param_groups[0]["momentum"] == pytest.approx(0.5 + 0.49 * 4 / 10)


def test_refuses_an_optimizer_without_momentum():
    with pytest.raises(ConfigError, match="torch.optim.SGD"):
        MomentumRampExponentialLR(torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))]))
    with pytest.raises(ConfigError, match="nesterov"):
        MomentumRampExponentialLR(sgd(nesterov=True)[1])


def test_state_dict_loads_with_weights_only(tmp_path):
    """The state rides in every checkpoint: jsonargparse's typed numbers (what the CLI passes) are kept as plain ones."""
    from jsonargparse.typing import PositiveFloat, PositiveInt

    _, opt = sgd()
    sched = MomentumRampExponentialLR(opt, gamma=PositiveFloat(0.9), ramp_epochs=PositiveInt(3))
    torch.save(sched.state_dict(), tmp_path / "sched.pt")
    state = torch.load(tmp_path / "sched.pt", weights_only=True)
    assert type(state["gamma"]) is float and state["gamma"] == 0.9 and type(state["ramp_epochs"]) is int
