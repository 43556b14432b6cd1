"""NonFiniteGuard on its own: losses are kept on the device and tested every N steps, naming the first bad one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from lightning_ae.callbacks.guards import NonFiniteGuard
from lightning_ae.errors import NonFiniteLossError


def _trainer(step: int = 0):
    return SimpleNamespace(global_step=step, current_epoch=0, optimizers=[], checkpoint_callback=None, checkpoint_callbacks=[])


def _feed(guard, losses, start=1):
    """Call the guard as Lightning does after each training batch; the step counts from `start`."""
    for i, value in enumerate(losses):
        guard.on_train_batch_end(_trainer(start + i), None, {"loss": torch.tensor(value)}, None, i)


def test_finite_losses_pass_and_are_dropped_after_each_check():
    guard = NonFiniteGuard(check_every_n_steps=4)
    _feed(guard, [0.5] * 10)
    assert len(guard._losses) == 2  # 4 + 4 were tested and dropped; 2 wait for the next check
    guard.on_train_epoch_end(_trainer(10), None)
    assert guard._losses == []


def test_the_first_bad_loss_is_named_with_its_step_at_the_next_check():
    guard = NonFiniteGuard(check_every_n_steps=5)
    _feed(guard, [0.5, 0.4, 0.3])  # steps 1-3
    with pytest.raises(NonFiniteLossError, match=r"the training loss became nan at step 5 \(epoch 0\); the learning rate"):
        _feed(guard, [0.2, float("nan"), float("inf")], start=4)  # step 5 is the first bad one; checked at step 5


def test_a_bad_loss_is_caught_at_epoch_end_and_before_a_checkpoint_save():
    guard = NonFiniteGuard(check_every_n_steps=100)
    _feed(guard, [0.5, float("-inf")])
    with pytest.raises(NonFiniteLossError, match="became -inf at step 2"):
        guard.on_train_epoch_end(_trainer(2), None)
    _feed(guard, [float("nan")], start=7)
    with pytest.raises(NonFiniteLossError, match="became nan at step 7"):
        guard.on_save_checkpoint(_trainer(7), torch.nn.Linear(2, 2), {})


def test_weights_spoiled_by_a_finite_loss_are_not_saved():
    guard = NonFiniteGuard()
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"weights became NaN or infinite at step 3 \(weight\)"):
        guard.on_save_checkpoint(_trainer(3), net, {})
