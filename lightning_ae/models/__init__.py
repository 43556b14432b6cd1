"""Every model of the pipeline. A config's `model.class_path` names one of these."""

from lightning_ae.models.autoencoder import Autoencoder
from lightning_ae.models.base import AutoencoderModule
from lightning_ae.models.classifier import Classifier
from lightning_ae.models.iwae import ImportanceWeightedAutoencoder
from lightning_ae.models.linear import LinearAutoencoder
from lightning_ae.models.denoising import DenoisingAutoencoder
from lightning_ae.models.pca import PCA
from lightning_ae.models.sparse import SparseAutoencoder
from lightning_ae.models.stacked import StackedAutoencoder
from lightning_ae.models.vae import VariationalAutoencoder

__all__ = ["AutoencoderModule", "Autoencoder", "PCA", "Classifier", "VariationalAutoencoder", "ImportanceWeightedAutoencoder", "DenoisingAutoencoder",
           "LinearAutoencoder",
           "StackedAutoencoder", "SparseAutoencoder"]
