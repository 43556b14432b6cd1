"""The plain hand-written PyTorch script `make bench` times beside `lightning-ae fit` (`python -m
lightning_ae.bench plain`), and the seed's Keras script. Imports torch only: no Lightning, no project code
in the timed work (`data_dir` asks `lightning_ae.idx` where the files are, before the timing matters)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


# -- the plain script: what a user would write by hand, with torch alone ----------------------------
def _read_idx(root: Path, name: str, header: int) -> torch.Tensor:
    """The bytes after the header of an MNIST IDX file (gzipped or not), as uint8."""
    import gzip

    for folder, suffix in [(root / "MNIST" / "raw", ""), (root / "MNIST" / "raw", ".gz"), (root, ""), (root, ".gz")]:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
                return torch.frombuffer(bytearray(f.read()[header:]), dtype=torch.uint8)
    raise SystemExit(f"{name}[.gz] not found in {root} or {root / 'MNIST' / 'raw'}")


def plain_fit(data_dir: Path, epochs: int = 5, batch_size: int = 128, lr: float = 1e-3, eval_batch: int = 1000,
              train_subset: int | None = None, seed: int = 42) -> list[dict[str, float]]:
    """The seed's network trained by a plain PyTorch loop, the same work as `lightning-ae fit --config
    configs/ae_2d.yaml`: all 60,000 training images in memory, shuffled each epoch, batch 128, Adam
    1e-3, per-pixel MSE, and after each epoch the MSE over the 10,000 test images. Returns the epochs'
    train loss and val MSE."""
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)
    x_train = _read_idx(data_dir, "train-images-idx3-ubyte", 16).view(-1, 784).float() / 255  # (60000, 784)
    x_test = _read_idx(data_dir, "t10k-images-idx3-ubyte", 16).view(-1, 784).float() / 255  # (10000, 784)
    x_train = x_train[:train_subset] if train_subset else x_train
    model = nn.Sequential(nn.Linear(784, 512), nn.ELU(), nn.Linear(512, 128), nn.ELU(), nn.Linear(128, 2),
                          nn.Linear(2, 128), nn.ELU(), nn.Linear(128, 512), nn.ELU(), nn.Linear(512, 784), nn.Sigmoid())
    for layer in model:
        if isinstance(layer, nn.Linear):  # Glorot, as Keras (and configs/ae_2d.yaml: init xavier)
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        perm, total = torch.randperm(len(x_train)), torch.zeros(())
        for i in range(0, len(x_train), batch_size):
            xb = x_train[perm[i : i + batch_size]]
            loss = F.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
        model.eval()
        with torch.inference_mode():
            sq = sum(F.mse_loss(model(x_test[i : i + eval_batch]), x_test[i : i + eval_batch], reduction="sum")
                     for i in range(0, len(x_test), eval_batch))
        history.append({"epoch": epoch, "train_loss": float(total) / len(x_train),
                        "val_mse": float(sq) / x_test.numel()})
        print(f"epoch {epoch + 1}/{epochs}: loss {history[-1]['train_loss']:.4f}, val mse {history[-1]['val_mse']:.4f}",
              flush=True)
    return history


def plain_main(argv: list[str]) -> None:
    """`python -m lightning_ae.bench plain`: run `plain_fit`; the last line printed is JSON."""
    p = argparse.ArgumentParser(prog="python -m lightning_ae.bench plain", description=plain_fit.__doc__)
    p.add_argument("--data-dir", default=None, help="folder with the MNIST files (default: as lightning-ae finds it)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-subset", type=int, default=None)
    a = p.parse_args(argv)
    root = Path(a.data_dir) if a.data_dir else data_dir()
    history = plain_fit(root, a.epochs, a.batch_size, a.lr, train_subset=a.train_subset)
    print(json.dumps({"val_mse": history[-1]["val_mse"], "history": history}))


# The seed's Keras script (Cross Validated answer 307746): its training part as posted, the images
# read from the same local files instead of keras.datasets (which downloads them). Left out: the
# PCA, the two `predict` passes over the training set and the plots, which the fit does not do.
KERAS_SCRIPT = """\
import gzip, json, os, sys
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from keras.optimizers import Adam

root, epochs, subset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) or None
def read(name, n):
    for path in (os.path.join(root, "MNIST", "raw", name), os.path.join(root, name)):
        for p in (path, path + ".gz"):
            if os.path.isfile(p):
                with (gzip.open if p.endswith(".gz") else open)(p, "rb") as f:
                    return np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(n, 784)
x_train = read("train-images-idx3-ubyte", 60000)[:subset] / 255
x_test = read("t10k-images-idx3-ubyte", 10000) / 255

m = Sequential()
m.add(Dense(512, activation='elu', input_shape=(784,)))
m.add(Dense(128, activation='elu'))
m.add(Dense(2, activation='linear', name="bottleneck"))
m.add(Dense(128, activation='elu'))
m.add(Dense(512, activation='elu'))
m.add(Dense(784, activation='sigmoid'))
m.compile(loss='mean_squared_error', optimizer = Adam())
history = m.fit(x_train, x_train, batch_size=128, epochs=epochs, verbose=1, validation_data=(x_test, x_test))
print(json.dumps({"val_mse": history.history["val_loss"][-1], "keras": keras.__version__,
                  "backend": keras.backend.backend()}))
"""


def data_dir() -> Path:
    """The MNIST folder `lightning-ae` reads when run from the project root (see lightning_ae.idx)."""
    from lightning_ae.idx import DEFAULT_DATA_DIRS, find_data_dir

    env = os.environ.get("LIGHTNING_AE_DATA")
    for candidate in [env] if env else [str(ROOT / d) for d in DEFAULT_DATA_DIRS]:
        root = find_data_dir(candidate)
        if root is not None:
            return root.resolve()
    raise SystemExit("MNIST not found: set LIGHTNING_AE_DATA or see README, 'Data'.")

