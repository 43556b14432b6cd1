from lightning_ae.callbacks.checkpoint import latest_checkpoint
from lightning_ae.callbacks.greedy import GreedyLayerwisePretraining
from lightning_ae.callbacks.images import ImageLogger
from lightning_ae.callbacks.probes import RepresentationProbes
from lightning_ae.callbacks.records import CodesWriter, RunRecord

__all__ = ["latest_checkpoint", "ImageLogger", "CodesWriter", "RunRecord", "GreedyLayerwisePretraining",
           "RepresentationProbes"]
