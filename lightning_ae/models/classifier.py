"""MLP digit classifier whose lower layers can come from a pretrained autoencoder's encoder.

Unsupervised pretraining: Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with
Neural Networks", Science 2006 (a pretrained 784-500-500-2000 net fine-tuned for the labels:
1.2% test error, 1.6% for backpropagation from random weights); Bengio et al., "Greedy
Layer-Wise Training of Deep Networks", NIPS 2006 (autoencoders instead of RBMs). The autoencoder
learns from every training image without labels; the classifier then reuses its encoder and
learns from few labels, with the encoder frozen or fine-tuned.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence

import torch
from jsonargparse.typing import NonNegativeFloat, PositiveFloat, PositiveInt
from torch import Tensor, nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy

from lightning_ae.checkpoints import load_checkpoint
from lightning_ae.errors import ConfigError
from lightning_ae.models.system import System
from lightning_ae.networks import Activation, Dropout, GaussianNoise, Init, NoisyBatchNorm, init_linear, mlp


class Classifier(System):
    """Encoder input_dim -> hidden_dims (same layout as `Autoencoder`'s encoder), then a softmax layer.

    Args:
        hidden_dims: sizes of the encoder layers; the last one is the feature (code) layer.
        num_classes: number of classes (10 digits).
        activation: activation of the hidden layers.
        code_activation: activation of the last encoder layer (None: `activation`); must match the
            autoencoder the encoder comes from.
        init: he, xavier or default, for the layers not loaded from a checkpoint.
        encoder_ckpt: autoencoder checkpoint (`.ckpt` of an `Autoencoder` run) whose `encoder.*`
            weights initialise the encoder; None trains from random weights.
        freeze_encoder: keep the encoder fixed and train the softmax layer only.
        optimizer, lr_scheduler: callables that build them, as for every model (`System`); in a
            config, the top-level `optimizer:` and `lr_scheduler:` sections.
        input_dropout: dropout probability on the pixels during training.
        dropout: dropout probability after every encoder layer during training (Srivastava et al.,
            JMLR 2014; with input_dropout 0.2 it is their MNIST recipe).
        input_dim: pixels per image; on the command line it follows the data (linked to `data.input_dim`).
        image_shape: (H, W) of the images (linked to `data.image_shape`); recorded, not used by the network.
        max_norm: after every optimizer step, rescale each hidden unit's incoming weight vector to
            an L2 norm of at most this (Srivastava et al., JMLR 2014, Sec. 5.1: with dropout it lets
            a large learning rate run without the weights blowing up); None: no constraint.
        batch_norm: batch-normalise every layer's pre-activations, the softmax layer's too (`NoisyBatchNorm`:
            no learned scale below the softmax, a learned shift everywhere).
        noise_std: in training, Gaussian noise of this std on every normalised pre-activation (needs
            batch_norm); with input_noise it is the supervised baseline of the ladder network (Rasmus et
            al., NIPS 2015; their code's defaults: 0.5 and 0.3).
        input_noise: in training, Gaussian noise of this std on the pixels.
    """

    def __init__(
        self,
        hidden_dims: Sequence[PositiveInt] = (300, 150),
        num_classes: PositiveInt = 10,
        activation: Activation = "elu",
        code_activation: Activation | None = None,
        init: Init = "he",
        encoder_ckpt: str | None = None,
        freeze_encoder: bool = False,
        input_dropout: Dropout = 0.0,
        dropout: Dropout = 0.0,
        input_dim: PositiveInt = 784,
        max_norm: PositiveFloat | None = None,
        image_shape: tuple[PositiveInt, PositiveInt] | None = None,
        batch_norm: bool = False,
        noise_std: NonNegativeFloat = 0.0,
        input_noise: NonNegativeFloat = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if len(hidden_dims) == 0:
            raise ConfigError("hidden_dims is empty; give the encoder's layer sizes, e.g. [300, 150].")
        if num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2, got {num_classes}.")
        if freeze_encoder and encoder_ckpt is None:
            raise ConfigError("freeze_encoder=True needs encoder_ckpt (a frozen random encoder learns nothing); "
                              "give encoder_ckpt or set freeze_encoder: false.")
        if noise_std > 0 and not batch_norm:
            raise ConfigError(f"noise_std={noise_std} adds noise to batch-normalised pre-activations; set "
                              "batch_norm: true, or noise_std: 0.")
        self.code_activation = code_activation or activation
        self.save_hyperparameters(ignore=["optimizer", "lr_scheduler"], frame=inspect.currentframe())
        self.latent_dim = hidden_dims[-1]
        side = math.isqrt(input_dim)  # (H, W) for the projector's thumbnails
        self.image_shape = tuple(image_shape) if image_shape is not None else (side, side) if side * side == input_dim else (1, input_dim)
        self.input_dropout = nn.Dropout(input_dropout)
        self.input_noise = GaussianNoise(input_noise)
        net = mlp([input_dim, *hidden_dims], activation, self.code_activation, init)
        if batch_norm:  # a NoisyBatchNorm after every linear layer, before its activation (the linear bias stays,
            # redundant under the normalisation, so that an autoencoder's encoder still loads: load_encoder)
            net = _insert_after(net, lambda m: NoisyBatchNorm(m.out_features, noise_std) if isinstance(m, nn.Linear) else None)
        if dropout > 0:  # an nn.Dropout after every activation
            net = _insert_after(net, lambda m: None if isinstance(m, (nn.Linear, NoisyBatchNorm)) else nn.Dropout(dropout))
        self.encoder = net  # (B, 784) -> (B, d)
        head = nn.Linear(hidden_dims[-1], num_classes)  # (B, d) -> (B, num_classes) logits
        init_linear(head, init, "linear")
        self.head = nn.Sequential(head, NoisyBatchNorm(num_classes, noise_std, scale=True)) if batch_norm else head
        if encoder_ckpt is not None:
            self.load_encoder(encoder_ckpt)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
        self.train_acc, self.val_acc, self.test_acc = (MulticlassAccuracy(num_classes, average="micro") for _ in range(3))

    def load_encoder(self, path: str) -> None:
        """Copy the `encoder.*` weights of an autoencoder checkpoint into the encoder, checking the layout."""
        ckpt = load_checkpoint(path, what="encoder_ckpt")
        state = {k.removeprefix("encoder."): v for k, v in ckpt["state_dict"].items() if k.startswith("encoder.")}
        theirs = [state[k] for k in sorted((k for k in state if k.endswith(".weight")), key=lambda k: int(k.split(".")[0]))]
        mine = [layer.weight for layer in self._linear_layers()]
        if [tuple(w.shape) for w in theirs] != [tuple(w.shape) for w in mine]:
            raise ConfigError(f"encoder_ckpt has encoder layers {_layout(theirs)}, the classifier {_layout(mine)}; "
                             "set hidden_dims to the autoencoder's encoder sizes.")
        hp = ckpt.get("hyper_parameters", {})
        for name, ours in (("activation", self.hparams.activation), ("code_activation", self.code_activation)):
            if name in hp and hp[name] != ours:
                raise ConfigError(f"encoder_ckpt was trained with {name}={hp[name]!r}, the classifier has "
                                 f"{ours!r}; set {name}: {hp[name]} to reuse its features.")
        order = sorted({int(k.split(".")[0]) for k in state})  # the checkpoint's linear layers, bottom first
        with torch.no_grad():  # layer by layer: dropout modules shift the indices of our Sequential
            for index, layer in zip(order, self._linear_layers()):
                layer.weight.copy_(state[f"{index}.weight"])
                layer.bias.copy_(state[f"{index}.bias"])

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        """The max-norm constraint, applied after the optimizer step: rows of each hidden weight matrix."""
        if self.hparams.max_norm is not None:
            for layer in self._linear_layers():
                layer.weight.copy_(torch.renorm(layer.weight, p=2, dim=0, maxnorm=self.hparams.max_norm))

    def _linear_layers(self) -> list[nn.Linear]:
        return [m for m in self.encoder if isinstance(m, nn.Linear)]

    def encode(self, x: Tensor) -> Tensor:  # (B, 784) -> (B, d) features
        return self.encoder(self.input_noise(self.input_dropout(x)))

    def forward(self, x: Tensor) -> Tensor:  # (B, 784) -> (B, num_classes) logits
        return self.head(self.encode(x))

    def on_fit_start(self) -> None:
        """Refuse, in one line, images without labels (a `data.path` without `y`): nothing to learn from."""
        split = getattr(self.trainer.datamodule, "split", None)
        if split is not None and len(y := split("train")[1]) and int(y.min()) < 0:
            raise ConfigError(f"the classifier needs labels, and {self.trainer.datamodule.hparams.get('path')} has "
                              "none; save them as the .npz's `y`, or put each class's images in a subfolder.")

    def _step(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        # the project's tags: `<stage>/loss` the epoch mean, `train/batch_loss` single batches
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=len(x), sync_dist=True)
        if stage == "train":
            self.log("train/batch_loss", loss, on_step=True, on_epoch=False, batch_size=len(x))
        accuracy = {"train": self.train_acc, "val": self.val_acc, "test": self.test_acc}[stage]
        accuracy.update(logits.detach(), y)
        self.log(f"{stage}/acc", accuracy, on_step=False, on_epoch=True, batch_size=len(x))
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def predict_step(self, batch, batch_idx):
        x, y = batch
        return {"z": self.encode(x), "y": y}


def _insert_after(net: nn.Sequential, make: Callable[[nn.Module], nn.Module | None]) -> nn.Sequential:
    """`net` with `make(m)` after each module `m` where it gives one."""
    return nn.Sequential(*(new for m in net for new in (m, make(m)) if new is not None))


def _layout(weights: list[Tensor]) -> str:
    """'784-300-150' for the weight matrices of a stack of linear layers."""
    return "-".join(str(d) for d in [weights[0].shape[1], *(w.shape[0] for w in weights)]) if weights else "none"
