"""The `lightning-ae` command: LightningCLI (fit, validate, test, predict) over the project's models.

`lightning-ae fit --config configs/ae_2d.yaml` reads `configs/default.yaml` first (trainer,
TensorBoard logger, seed), then the model's file. The YAML `model.class_path` names the model.
Errors a user can fix (missing data, impossible hyperparameters, unknown keys, bad checkpoints, a
loss that became NaN) are printed as one line with exit status 2 (see `lightning_ae.errors`); add
`--debug` or set LIGHTNING_AE_DEBUG=1 for the full traceback. SIGTERM saves `last.ckpt` and exits 143.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lightning_ae.callbacks import CodesWriter, ImageLogger, RepresentationProbes, RunRecord
from lightning_ae.callbacks.checkpoint import Checkpoint
from lightning_ae.callbacks.guards import CheckpointOnInterrupt, NonFiniteGuard
from lightning_ae.data import MNISTDataModule
from lightning_ae.errors import (USER_ERRORS, check_checkpoint_class, check_checkpoint_weights, describe,
                                 overridden_hparams, read_checkpoint)

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"
# Lightning's default progress bar redraws after every batch: ~0.25 ms, 2-3% of a CPU step of the seed
# network. Ten batches per redraw is still several redraws a second; a progress bar callback given
# in the config (`trainer.callbacks`) is used as it is.
PROGRESS_REFRESH_BATCHES = 10


class AutoencoderCLI(LightningCLI):
    """LightningCLI with the project's always-on callbacks exposed as top-level config sections."""

    def init_parser(self, **kwargs):
        parser = super().init_parser(**kwargs)
        parser.exit_on_error = False  # main() prints parse errors as one line, not the usage
        return parser

    def add_arguments_to_parser(self, parser) -> None:
        parser.exit_on_error = False
        parser.add_lightning_class_args(Checkpoint, "checkpoint")  # last.ckpt = the latest weights
        parser.set_defaults({
            "checkpoint.monitor": "val/loss",
            "checkpoint.mode": "min",
            "checkpoint.save_last": True,
            "checkpoint.filename": "best-epoch{epoch:03d}",
            "checkpoint.auto_insert_metric_name": False,
        })
        parser.add_lightning_class_args(ImageLogger, "images")
        parser.add_lightning_class_args(CodesWriter, "codes")
        parser.add_lightning_class_args(RepresentationProbes, "probes")
        parser.add_lightning_class_args(NonFiniteGuard, "guard")
        parser.add_argument("--name", type=str | None, default=None,
                            help="run name: logs go to logs/<name>/version_N (default: the last config file's name)")

    def instantiate_trainer(self, **kwargs):
        config = self._get(self.config_init, "trainer", default={})
        chosen = config.get("callbacks") or []
        chosen = chosen if isinstance(chosen, list) else [chosen]
        if config.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in chosen):
            defaults = self.trainer_defaults.get("callbacks", [])
            self.trainer_defaults = {**self.trainer_defaults, "callbacks": [
                *[c for c in defaults if not isinstance(c, ProgressBar)], TQDMProgressBar(refresh_rate=PROGRESS_REFRESH_BATCHES)]}
        return super().instantiate_trainer(**kwargs)

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        logger = config.trainer.logger
        name = config.get("name") or (Path(str(config.config[-1])).stem if config.get("config") else None)
        if name and getattr(logger, "class_path", "").endswith("TensorBoardLogger") and logger.init_args.name == "default":
            logger.init_args.name = name

    def parse_arguments(self, parser, args) -> None:
        """Parse, then look at `--ckpt_path` before LightningCLI applies the checkpoint's hyperparameters."""
        super().parse_arguments(parser, args)
        config = self.config.get(self.config.get("subcommand")) or self.config
        self._ckpt = read_checkpoint(config.get("ckpt_path"))  # missing or corrupt: one-line error
        model = config.get("model")
        if self._ckpt is not None and model is not None and model.get("class_path"):
            check_checkpoint_class(self._ckpt, config.ckpt_path, model.class_path)
            changed = overridden_hparams(self._ckpt, dict(model.get("init_args") or {}))
            if changed:
                rank_zero_info("lightning-ae: the model is built with the checkpoint's hyperparameters: " + ", ".join(
                    f"{k}={v!r} (config: {c!r})" for k, (v, c) in changed.items()))

    def _check_ckpt_weights(self) -> None:
        """Weights of another shape (a checkpoint without hyperparameters) get a one-line error."""
        if getattr(self, "_ckpt", None) is not None:
            check_checkpoint_weights(self._ckpt, self.config_init[self.subcommand].ckpt_path, self.model)
            self._ckpt = None

    before_fit = before_validate = before_test = before_predict = _check_ckpt_weights


def cli(args: list[str] | None = None, run: bool = True) -> AutoencoderCLI:
    defaults = [str(DEFAULT_CONFIG)] if DEFAULT_CONFIG.is_file() else []
    return AutoencoderCLI(
        L.LightningModule,  # every AutoencoderModule variant, and the Classifier that reuses an encoder
        MNISTDataModule,
        subclass_mode_model=True,
        seed_everything_default=42,
        auto_configure_optimizers=False,
        trainer_defaults={"callbacks": [RunRecord(), CheckpointOnInterrupt()]},
        save_config_kwargs={"overwrite": True},
        # with subcommands each subcommand's parser reads the defaults; without (run=False), the main one
        parser_kwargs=({sub: {"default_config_files": defaults} for sub in ("fit", "validate", "test", "predict")}
                       if run else {"default_config_files": defaults}),
        args=args,
        run=run,
    )


def main(args: list[str] | None = None) -> None:
    """`lightning-ae`: errors a user can fix become one line and exit status 2 (`--debug`: traceback)."""
    argv = sys.argv[1:] if args is None else list(args)
    if "--debug" in argv:  # the env variable reaches the processes a DDP launch starts, too
        os.environ["LIGHTNING_AE_DEBUG"] = "1"
        argv = [a for a in argv if a != "--debug"]
        if args is None:
            sys.argv[1:] = argv
        args = None if args is None else argv
    try:
        cli(args)
    except SIGTERMException:
        print("lightning-ae: stopped by SIGTERM; last.ckpt was saved in the run's checkpoints/ folder: "
              "rerun the same command with --ckpt_path last to resume.", file=sys.stderr)
        sys.exit(143)
    except USER_ERRORS as e:
        if os.environ.get("LIGHTNING_AE_DEBUG"):
            raise
        subcommand = next((a for a in argv if a in ("fit", "validate", "test", "predict")), None)
        print(f"lightning-ae: error: {describe(e, subcommand)}", file=sys.stderr)
        print("(add --debug or set LIGHTNING_AE_DEBUG=1 for the full traceback)", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
