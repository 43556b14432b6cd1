"""RMSpropTF follows TensorFlow 1's RMSprop: mean square starts at 1, decays by 0.9."""

from __future__ import annotations

import pytest
import torch

from lightning_ae.optim import RMSpropTF


def tf1_rmsprop_steps(w: torch.Tensor, grads: list[torch.Tensor], lr: float, rho: float = 0.9, eps: float = 1e-10):
    """TensorFlow 1's update, written out: ms <- rho ms + (1 - rho) g^2 (ms starts at 1); w <- w - lr g / sqrt(ms)."""
    ms = torch.ones_like(w)
    for g in grads:
        ms = rho * ms + (1 - rho) * g * g
        w = w - lr * g / (ms.sqrt() + eps)
    return w


def test_steps_match_tensorflow_1():
    torch.manual_seed(0)
    w0 = torch.randn(5, 3)
    grads = [torch.randn(5, 3) * s for s in (0.01, 1.0, 3.0)]
    w = torch.nn.Parameter(w0.clone())
    opt = RMSpropTF([w], lr=0.1)
    for g in grads:
        w.grad = g.clone()
        opt.step()
    assert torch.allclose(w.detach(), tf1_rmsprop_steps(w0, grads, 0.1), atol=1e-6)


def test_first_step_is_small_unlike_pytorch_rmsprop():
    g = torch.full((4,), 0.01)
    sizes = {}
    for name, cls in (("tf", RMSpropTF), ("torch", torch.optim.RMSprop)):
        w = torch.nn.Parameter(torch.zeros(4))
        opt = cls([w], lr=0.1)
        w.grad = g.clone()
        opt.step()
        sizes[name] = w.detach().abs().max().item()
    assert abs(sizes["tf"] - 0.1 * 0.01 / 0.9 ** 0.5) < 1e-6  # about lr * g
    assert sizes["torch"] > 0.9  # lr / sqrt(1 - 0.99): a jump of 1 from a gradient of 0.01


def test_state_dict_round_trip_and_momentum():
    w = torch.nn.Parameter(torch.ones(3))
    opt = RMSpropTF([w], lr=0.01, momentum=0.9)
    w.grad = torch.ones(3)
    opt.step()
    again = RMSpropTF([w], lr=0.01, momentum=0.9)
    again.load_state_dict(opt.state_dict())
    assert torch.equal(again.state[w]["square_avg"], opt.state[w]["square_avg"])
    assert "momentum_buffer" in again.state[w]


def test_burda_schedule_is_3_to_the_i_epochs_at_lr_times_10_to_the_minus_i_over_7():
    from lightning_ae.optim import BurdaSchedule

    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([w], lr=1e-3)
    schedule = BurdaSchedule(opt)
    assert schedule.total_epochs == 3280 == sum(3**i for i in range(8))
    rates = []
    for _ in range(schedule.total_epochs + 2):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    starts = [0, 1, 4, 13, 40, 121, 364, 1093]
    for i, start in enumerate(starts):
        assert rates[start] == rates[start + 3**i - 1] == pytest.approx(1e-3 * 10 ** (-i / 7))
    assert rates[-1] == pytest.approx(1e-3 * 10 ** (-1))  # the last rate holds after the schedule
    short = BurdaSchedule(torch.optim.Adam([w], lr=1e-3), stages=7, epochs_scale=0.2)
    assert short.stage_ends == [1, 2, 4, 9, 25, 74, 220]
