"""lightning-ae: classic autoencoders on MNIST with PyTorch Lightning."""

from lightning_ae.data import MNISTDataModule

__version__ = "0.1.0"
__all__ = ["MNISTDataModule"]
