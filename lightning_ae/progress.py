"""The progress bar: Lightning's TQDM bar, with evaluation bars redrawn at every batch.

Training redraws every `refresh_rate` batches, once: Lightning's bar (2.6) draws twice at each of
them, once for the count and once for the metrics beside it (a redraw costs ~0.25 ms, a few % of a
CPU step of the seed network). Validation, test and predict run few, long batches (1,000 images each; a VAE's
k = 5000 importance-sampled NLL takes minutes per batch), so there the bar moves at every batch:
with one redraw every 10 batches a 10-batch test would show 0/10 until it ends.
"""

from __future__ import annotations

from lightning.pytorch.callbacks import TQDMProgressBar


class LiveEvalProgressBar(TQDMProgressBar):
    """`TQDMProgressBar(refresh_rate)` for training; validation, test and predict bars redrawn every batch."""

    def _draw(self, bar, batches_done: int) -> None:
        if bar is not None and not bar.disable:  # None: the bar is off (the caller checked is_enabled)
            bar.n = batches_done
            bar.refresh()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not self.is_enabled:  # off (refresh_rate 0, or a DDP rank other than 0)
            return
        bar, n = self.train_progress_bar, batch_idx + 1
        if not bar.disable and (n % self.refresh_rate == 0 or n == bar.total):
            bar.n = n
            bar.set_postfix(self.get_metrics(trainer, pl_module))  # refreshes: the count and the metrics in one redraw

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._draw(self.val_progress_bar if self.is_enabled else None, batch_idx + 1)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._draw(self.test_progress_bar if self.is_enabled else None, batch_idx + 1)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._draw(self.predict_progress_bar if self.is_enabled else None, batch_idx + 1)
