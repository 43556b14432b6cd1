"""The one place where messages from libraries that this project cannot change are silenced.

`lightning_ae.cli` imports this module before anything else, so every `lightning-ae` process (and
every DDP worker, which reruns the same command) starts with these filters. Each filter names the
library and version that emits the message and why the message does not apply here; delete a
filter when the library stops emitting it. Our own code is not filtered: it must not warn.
"""

from __future__ import annotations

import logging
import warnings


def install(subcommand: str | None = None) -> None:
    """Add the warning filters below (at the front of the list), with those of `subcommand` when named (the
    CLI names it). Run at import; `tests/conftest.py` runs it again for every test, since pytest gives each
    test a fresh copy of the filters it had before collection."""
    # torch 2.14 deprecates `isinstance(x, LeafSpec)` (FutureWarning); lightning 2.6.6 still builds
    # LeafSpec in lightning/pytorch/utilities/_pytree.py at every evaluation loop. Nothing for a user to do.
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)

    # lightning 2.6.6 warns when `configure_optimizers` returns None, Lightning's documented way of saying
    # "no optimizer": our PCA (lightning_ae/models/pca.py) is solved in closed form and has none by design.
    warnings.filterwarnings("ignore", message=r"`LightningModule\.configure_optimizers` returned `None`")

    # lightning 2.6.6 warns when an epoch has fewer batches than `log_every_n_steps` ("you won't see logs
    # for the training epoch"); our models log the epoch's mean loss (`train/loss`) and the last batch's
    # loss every epoch whatever the interval (lightning_ae/models/base.py), so short runs lose nothing.
    warnings.filterwarnings("ignore",
                            message=r"The number of training batches \(\d+\) is smaller than the logging interval")

    # lightning 2.6.6's LightningCLI calls jsonargparse APIs deprecated in jsonargparse 4.49 (`add_instantiator`,
    # `instantiate_classes`; lightning/pytorch/cli.py). Python hides DeprecationWarnings outside __main__, but
    # pytest and `python -W default` show them; a user can do nothing about them.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"lightning\.pytorch\.cli")

    if subcommand in ("validate", "test", "predict"):
        # lightning 2.6.6's ModelCheckpoint, restored from a checkpoint written in another folder, warns that
        # it does not reload its best-k bookkeeping ("The dirpath has changed from ..."): `lightning-ae test
        # --ckpt_path <run>/checkpoints/last.ckpt` runs in a new run folder as a rule, and saves no checkpoint.
        warnings.filterwarnings("ignore", message=r"The dirpath has changed from")
    if subcommand == "predict":
        # lightning 2.6.6's prediction loop warns, for a prediction writer (our CodesWriter), that it cannot
        # record which samples each batch held when the loader has no torch BatchSampler: our loader
        # (lightning_ae/loader.py) slices one tensor in order, and CodesWriter writes the codes in that
        # order, never reading the indices.
        warnings.filterwarnings("ignore", message=r"Couldn't infer the batch indices fetched from your dataloader")


install()


class _NoAdvertising(logging.Filter):
    """lightning 2.6.6 logs "💡 Tip: ... try installing litlogger/litmodels" (an advertisement for its
    cloud service) at INFO through `rank_zero_info` at every Trainer start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")


# the logger of lightning.pytorch.utilities.rank_zero (rank_zero_info / rank_zero_warn of lightning 2.x)
logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_NoAdvertising())
