"""lightning-ae: classic autoencoders on MNIST with PyTorch Lightning."""

__version__ = "0.1.0"
__all__ = ["MNISTDataModule"]


def __getattr__(name: str):
    """`lightning_ae.MNISTDataModule`, imported on first use: importing the package (for the bench's
    plain loop, `lightning_ae.losses`, ...) does not import Lightning, which takes seconds."""
    if name == "MNISTDataModule":
        from lightning_ae.data import MNISTDataModule

        return MNISTDataModule
    raise AttributeError(f"module 'lightning_ae' has no attribute {name!r}")
