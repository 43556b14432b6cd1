"""How useful are the codes? Label probes on frozen codes, and the codes in TensorBoard's projector.

At test end every model with an `encode` method (autoencoders, PCA, the classifier's features)
encodes training and test images, and two classifiers that never change the model are scored on
the test codes:

- k-nearest neighbours (Euclidean, majority vote, ties to the nearest neighbour's digit) with the
  training codes as the reference set: `test/knn_acc`;
- a linear probe, multinomial logistic regression on standardised codes trained full-batch with
  L-BFGS (Alain & Bengio, "Understanding intermediate layers using linear classifier probes",
  2016): `test/probe_acc`.

Floors for reference (5-NN on PCA codes of MNIST): about 0.42 with 2 components, 0.93 with 10.

The first `embedding_points` test codes go to TensorBoard's embedding projector, with their digits
(and test-set indices) as metadata and the images as thumbnails, at the run's last step (the tested
checkpoint's global step). They are written into a run of their own, `<run>/projector` (its
`projector_config.pbtxt`, the tensors, and an events file holding a note on the embedding): a new
run is what makes a running TensorBoard read projector configs again, so the codes appear without
a restart. Codes of fewer than 3 dimensions get zero columns up to 3 (the tensor's name says so):
the projector's PCA view asks for three components and draws nothing for 2-D data otherwise.
"""

from __future__ import annotations

import lightning as L
import torch
from jsonargparse.typing import NonNegativeFloat, NonNegativeInt, PositiveInt
from torch import Tensor, nn
from torch.nn import functional as F

from lightning_ae.callbacks.images import RunStep, log_dir, run_name


def knn_accuracy(z_train: Tensor, y_train: Tensor, z_test: Tensor, y_test: Tensor, k: int = 5,
                 chunk: int = 1000) -> float:
    """Accuracy of k-NN classification of `z_test` by majority vote of its nearest `z_train` codes."""
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    correct = 0
    for start in range(0, len(z_test), chunk):
        d = torch.cdist(z_test[start : start + chunk].float(), z_train.float())  # (chunk, N_train)
        nearest = d.topk(k, dim=1, largest=False).indices  # (chunk, k), closest first
        labels = y_train[nearest]  # (chunk, k)
        votes = F.one_hot(labels, num_classes).sum(1).float()  # (chunk, C)
        votes += 0.5 * F.one_hot(labels[:, 0], num_classes)  # a tie goes to the nearest neighbour's class
        correct += int((votes.argmax(1) == y_test[start : start + chunk]).sum())
    return correct / len(z_test)


def linear_probe_accuracy(z_train: Tensor, y_train: Tensor, z_test: Tensor, y_test: Tensor, steps: int = 100,
                          l2: float = 1e-4) -> float:
    """Test accuracy of logistic regression fitted (full batch, L-BFGS, L2 `l2`) on standardised codes."""
    with torch.inference_mode(False), torch.enable_grad():  # Lightning tests under inference mode
        z_train, z_test = z_train.float().clone(), z_test.float().clone()
        mean, std = z_train.mean(0), z_train.std(0).clamp_min(1e-6)
        z_train, z_test = (z_train - mean) / std, (z_test - mean) / std
        num_classes = int(max(y_train.max(), y_test.max())) + 1
        head = nn.Linear(z_train.shape[1], num_classes).to(z_train.device)
        nn.init.zeros_(head.weight)  # convex problem: a fixed start makes the probe deterministic
        nn.init.zeros_(head.bias)
        opt = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")
        y_train = y_train.clone()

        def closure() -> Tensor:
            opt.zero_grad()
            loss = F.cross_entropy(head(z_train), y_train) + l2 * head.weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            return float((head(z_test).argmax(1) == y_test).float().mean())


PROJECTOR_RUN = "projector"  # the sub-folder of a run that holds its projector embedding


def projector_codes(z: Tensor) -> tuple[Tensor, str]:
    """Codes (N, d) as the projector gets them, and the embedding's name: fewer than 3 dimensions are
    padded with zero columns (the projector's PCA view needs three components)."""
    d = z.shape[1]
    if d >= 3:
        return z, f"test_codes_{d}d"
    return torch.cat([z, z.new_zeros(len(z), 3 - d)], 1), f"test_codes_{d}d_zero_padded_to_3d"


def write_embedding(folder, z: Tensor, y: Tensor, images: Tensor, step: int, note: str,
                    shape: tuple[int, int] = (28, 28)) -> str:
    """Write the projector files of codes `z` (N, d), digits `y` (N,) and images (N, H * W) of `shape` into
    `folder` (a run of its own) at `step`; return the embedding's name."""
    from torch.utils.tensorboard import SummaryWriter

    codes, tag = projector_codes(z.float().cpu())
    n = len(codes)
    with SummaryWriter(log_dir=str(folder)) as writer:
        writer.add_text("projector", note, global_step=step)
        writer.add_embedding(codes, metadata=[[int(d), i] for i, d in enumerate(y.tolist())],
                             metadata_header=["digit", "test_index"],
                             label_img=images.float().cpu().view(n, 1, *shape), global_step=step, tag=tag)
    return tag


class RepresentationProbes(RunStep):
    """At test end: k-NN and linear-probe accuracy of the model's codes, and a projector embedding.

    Logs `test/knn_acc` and `test/probe_acc` (they reach `trainer.callback_metrics` and so
    `run.json`). The probes run on rank 0, which hands the two accuracies to the other ranks; models
    without `encode` are skipped. The images are the
    DataModule's `split(name, as_seen=True)`: binary ones where the model trains on binary pixels.

    Args:
        enabled: run the probes at all.
        train_samples: training images encoded as the reference/training set of the probes (the
            first ones of the seeded training split; None: all).
        test_samples: test images scored (None: all 10,000).
        knn_k: neighbours of the k-NN vote.
        probe_steps: L-BFGS iterations of the linear probe.
        probe_l2: L2 penalty on the linear probe's weights.
        embedding_points: test codes written to the TensorBoard projector (0: none).
        batch_size: images encoded at once.
    """

    def __init__(self, enabled: bool = True, train_samples: PositiveInt | None = 10_000,
                 test_samples: PositiveInt | None = None, knn_k: PositiveInt = 5, probe_steps: PositiveInt = 100,
                 probe_l2: NonNegativeFloat = 1e-4, embedding_points: NonNegativeInt = 2000,
                 batch_size: PositiveInt = 1000) -> None:
        self.enabled, self.train_samples, self.test_samples = enabled, train_samples, test_samples
        self.knn_k, self.probe_steps, self.probe_l2 = knn_k, probe_steps, probe_l2
        self.embedding_points, self.batch_size = embedding_points, batch_size

    @torch.no_grad()
    def _encode(self, pl_module: L.LightningModule, x: Tensor) -> Tensor:
        return torch.cat([pl_module.encode(x[i : i + self.batch_size].to(pl_module.device))
                          for i in range(0, len(x), self.batch_size)])  # (N, 784) -> (N, latent_dim)

    def _splits(self, trainer: L.Trainer) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Training and test images as the model sees them (binary ones if it trains on binary pixels)."""
        dm = trainer.datamodule
        x_train, y_train = (t[: self.train_samples] for t in dm.split("train", as_seen=True))
        x_test, y_test = (t[: self.test_samples] for t in dm.split("test", as_seen=True))
        return x_train, y_train, x_test, y_test

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.enabled or not callable(getattr(pl_module, "encode", None)):
            return
        scores = self._probe(trainer, pl_module) if trainer.is_global_zero else None
        # rank 0's accuracies to every rank (a no-op in one process), each logging the same value: synced
        # epoch-level metrics, as Lightning asks for under DDP, whose mean is rank 0's
        scores = trainer.strategy.broadcast(scores, src=0)
        if scores is not None:
            pl_module.log("test/knn_acc", scores[0], sync_dist=True)
            pl_module.log("test/probe_acc", scores[1], sync_dist=True)

    def _probe(self, trainer: L.Trainer, pl_module: L.LightningModule) -> tuple[float, float] | None:
        """The k-NN and linear-probe accuracies (None for images without labels), and the projector files."""
        was_training = pl_module.training
        pl_module.eval()
        x_train, y_train, x_test, y_test = self._splits(trainer)
        if len(y_train) == 0 or len(y_test) == 0 or int(min(y_train.min(), y_test.min())) < 0:
            pl_module.train(was_training)
            return None  # images without labels (data.path without `y`): nothing to probe
        z_train, z_test = self._encode(pl_module, x_train), self._encode(pl_module, x_test)
        y_train, y_test = y_train.to(z_train.device), y_test.to(z_train.device)
        knn = knn_accuracy(z_train, y_train, z_test, y_test, k=min(self.knn_k, len(z_train)))
        probe = linear_probe_accuracy(z_train, y_train, z_test, y_test, self.probe_steps, self.probe_l2)
        n = min(self.embedding_points, len(z_test))
        if n and trainer.logger is not None:
            step, d = self.run_step(trainer), z_test.shape[1]
            padded = "" if d >= 3 else f" The {d}-D codes are padded with {3 - d} zero column(s) so that the PCA view draws."
            note = (f"{run_name(trainer)}: the {d}-D codes of the first {n} test digits at step {step} (the tested "
                    f"checkpoint's), coloured by `digit` in the Projector tab.{padded}")
            write_embedding(log_dir(trainer) / PROJECTOR_RUN, z_test[:n], y_test[:n], x_test[:n], step, note,
                            shape=tuple(getattr(pl_module, "image_shape", (28, 28))))
        pl_module.train(was_training)
        return knn, probe
