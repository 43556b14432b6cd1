"""The evaluation bars move at every batch; training keeps its refresh rate."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_ae.progress import LiveEvalProgressBar


class _Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def test_step(self, batch, batch_idx):
        self.log("test/x", self.layer(batch[0]).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class _Seen(L.Callback):
    """What the bars show after each batch (runs after the bar: it comes later in the list)."""

    def __init__(self, bar):
        self.bar, self.test, self.train = bar, [], []

    def on_test_batch_end(self, *args, **kwargs):
        self.test.append(self.bar.test_progress_bar.n)

    def on_train_batch_end(self, *args, **kwargs):
        self.train.append(self.bar.train_progress_bar.n)


def test_test_bar_counts_every_batch_and_training_every_tenth(tmp_path):
    bar = LiveEvalProgressBar(refresh_rate=10)
    seen = _Seen(bar)
    loader = DataLoader(TensorDataset(torch.randn(12, 4)), batch_size=1)
    trainer = L.Trainer(max_epochs=1, callbacks=[bar, seen], logger=False, enable_checkpointing=False,
                        enable_model_summary=False, default_root_dir=tmp_path, limit_val_batches=0)
    trainer.fit(_Tiny(), loader)
    trainer.test(_Tiny(), loader, verbose=False)
    assert seen.test == list(range(1, 13))  # Lightning's bar at refresh_rate 10: [0] * 9 + [10, 10, 12]
    assert seen.train == [0] * 9 + [10, 10, 12]


def test_the_training_bar_is_drawn_once_per_refresh(tmp_path, capsys):
    """Every `refresh_rate` batches the training bar is drawn once, count and metrics together (Lightning's
    own bar draws each of those states twice; a redraw is a few % of a CPU step of the seed network)."""
    loader = DataLoader(TensorDataset(torch.randn(30, 4)), batch_size=1)
    trainer = L.Trainer(max_epochs=1, callbacks=[LiveEvalProgressBar(refresh_rate=10)], logger=False,
                        enable_checkpointing=False, enable_model_summary=False, default_root_dir=tmp_path,
                        limit_val_batches=0)
    trainer.fit(_Tiny(), loader)
    drawn = capsys.readouterr()
    states = [s for s in (drawn.out + drawn.err).split("\r") if s.startswith("Epoch 0:") and s.count("|") >= 2]
    counts = [int(s.split("|")[2].split("/")[0]) for s in states]  # "Epoch 0:  33%|###   | 10/30 [...]"
    assert [n for n in counts if n < 30] == [0, 10, 20], counts  # (at 30 the epoch's end draws its own states)


def test_a_bar_with_refresh_rate_zero_stays_off(tmp_path, capsys):
    """refresh_rate 0 turns the bar off (Lightning's meaning): training runs and draws nothing."""
    loader = DataLoader(TensorDataset(torch.randn(12, 4)), batch_size=1)
    trainer = L.Trainer(max_epochs=1, callbacks=[LiveEvalProgressBar(refresh_rate=0)], logger=False,
                        enable_checkpointing=False, enable_model_summary=False, default_root_dir=tmp_path,
                        limit_val_batches=0)
    trainer.fit(_Tiny(), loader)
    assert trainer.global_step == 12
    drawn = capsys.readouterr()
    assert "Epoch 0:" not in drawn.out + drawn.err
