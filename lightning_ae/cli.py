"""The `lightning-ae` command: LightningCLI (fit, validate, test, predict) over the project's models.

`lightning-ae fit --config configs/ae_2d.yaml` reads `configs/default.yaml` first (trainer,
TensorBoard logger, seed), then the model's file. The YAML `model.class_path` names the model.
`--config ae_2d` (a bare name) is the config of that name that comes with the package (see
`lightning_ae.config_files`), so an installed `lightning-ae` works from any folder.
`lightning-ae export ...` and `lightning-ae summary ...` are the tools `python -m lightning_ae.export`
and `python -m lightning_ae.summary` (not Trainer methods, so not LightningCLI subcommands).
Errors a user can fix (missing data, impossible hyperparameters, unknown keys, bad checkpoints, a
loss that became NaN) are printed as one line with exit status 2 (see `lightning_ae.errors`); add
`--debug` or set LIGHTNING_AE_DEBUG=1 for the full traceback. SIGTERM saves `last.ckpt` and exits 143.
The optimizer and learning-rate schedule are LightningCLI's own `optimizer:` / `lr_scheduler:`
sections (`--optimizer AdamW --optimizer.lr 3e-3`), linked to the model's injected callables.
"""

from __future__ import annotations

import lightning_ae.quiet  # noqa: F401  (first: the library messages it silences start at import)

import importlib
import os
import sys
from pathlib import Path

import lightning as L
from jsonargparse.typing import PositiveInt
from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, LRSchedulerTypeTuple
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch.optim import Optimizer

from lightning_ae.callbacks import CodesWriter, GreedyLayerwisePretraining, ImageLogger, RepresentationProbes, RunRecord
from lightning_ae.callbacks.checkpoint import BestCheckpoint, LatestCheckpoint, latest_checkpoint
from lightning_ae.callbacks.guards import CheckpointOnInterrupt, NonFiniteGuard
from lightning_ae.progress import LiveEvalProgressBar
from lightning_ae.checkpoints import CheckpointError, checkpoint_problem, missing_checkpoint
from lightning_ae.config_files import configs_dir, resolve_config_args
from lightning_ae.data import MNISTDataModule
from lightning_ae.errors import USER_ERRORS, describe, root_cause

DEFAULT_CONFIG = configs_dir() / "default.yaml"  # the packaged copy of configs/default.yaml
SUBCOMMANDS = ("fit", "validate", "test", "predict")
TOOLS = {"export": "lightning_ae.export", "summary": "lightning_ae.summary"}  # `lightning-ae export ...`
# the names Lightning resolves itself (`last`: newest last*.ckpt of the run; `best`: after a fit)
SPECIAL_CKPT_PATHS = ("last", "best", "hpc")
# the model's arguments that follow the data (linked from the DataModule when it is built), not the config
DATA_LINKED = ("input_dim", "image_shape")


class ConfigParser(LightningArgumentParser):
    """LightningCLI's parser, which does not validate a config again when it writes it: LightningCLI dumps
    the config it has just parsed and validated twice a run (the model's hyperparameters and the run's
    config.yaml), and each validation walks the whole Trainer signature again (an in-process pca_2d fit of the
    tests' FAST budget: 0.81 -> 0.64 s, machine loaded). Lightning 2.6.6 passes `skip_none`, the name
    jsonargparse 4.49 deprecated for `skip_unset` (the same flag); it is handed on under the new name."""

    @staticmethod
    def _writing(kwargs: dict) -> dict:
        kwargs.setdefault("skip_validation", True)
        if "skip_none" in kwargs:
            kwargs["skip_unset"] = kwargs.pop("skip_none")
        return kwargs

    def dump(self, namespace, *args, **kwargs) -> str:
        return super().dump(namespace, *args, **self._writing(kwargs))

    def save(self, namespace, *args, **kwargs) -> None:
        super().save(namespace, *args, **self._writing(kwargs))


class AutoencoderCLI(LightningCLI):
    """LightningCLI with the project's always-on callbacks as top-level config sections, and
    LightningCLI's `optimizer` / `lr_scheduler` sections linked to the model's injected callables."""

    def __init__(self, *args, subcommand: str | None = None, **kwargs) -> None:
        self.only_subcommand = subcommand  # set before LightningCLI builds its parsers (subcommands() below)
        super().__init__(*args, **kwargs)

    def subcommands(self) -> dict[str, set[str]]:
        """LightningCLI's subcommands, or only the one the command line names (`lightning-ae fit ...`):
        each subcommand's parser holds the whole Trainer, model and data signature, and building all
        four cost every run about 0.3 s (an in-process pca_2d fit of the tests' FAST budget: 1.14 -> 0.81 s,
        machine loaded). `lightning-ae --help` and a command line that names none of them (an error) still
        get all four."""
        every = LightningCLI.subcommands()
        return {self.only_subcommand: every[self.only_subcommand]} if self.only_subcommand in every else every

    def init_parser(self, **kwargs):
        parser = super().init_parser(**kwargs)
        parser.exit_on_error = False  # main() prints parse errors as one line, not the usage
        return parser

    def add_arguments_to_parser(self, parser) -> None:
        parser.exit_on_error = False
        # `--optimizer AdamW --optimizer.lr 3e-3`, `--lr_scheduler CosineAnnealingLR ...`: given to the
        # model's `optimizer` / `lr_scheduler` arguments (lightning_ae.models.system), not patched in
        parser.add_optimizer_args((Optimizer,), link_to="model.init_args.optimizer")
        parser.add_lr_scheduler_args(LRSchedulerTypeTuple, link_to="model.init_args.lr_scheduler")
        # the model's input size follows the data (a named dataset, an .npz, an image folder): every
        # config runs on 8 x 8 or 64 x 64 images as it is; read from the DataModule once it is built
        for name in DATA_LINKED:
            parser.link_arguments(f"data.{name}", f"model.init_args.{name}", apply_on="instantiate")
        parser.add_lightning_class_args(BestCheckpoint, "checkpoint")  # the best, by val/loss
        parser.set_defaults({"checkpoint.monitor": "val/loss", "checkpoint.mode": "min",
                             "checkpoint.filename": "best-epoch{epoch:03d}", "checkpoint.auto_insert_metric_name": False})
        parser.add_lightning_class_args(LatestCheckpoint, "last_checkpoint")  # last.ckpt: the latest weights
        parser.add_lightning_class_args(ImageLogger, "images")
        parser.add_lightning_class_args(CodesWriter, "codes")
        parser.add_lightning_class_args(RepresentationProbes, "probes")
        parser.add_lightning_class_args(NonFiniteGuard, "guard")
        parser.add_argument("--progress_bar_refresh_rate", type=PositiveInt, default=10,
                            help="batches between redraws of the progress bar (when it is on)")
        parser.add_argument("--name", type=str | None, default=None,
                            help="run name: logs go to logs/<name>/version_N (default: the last config file's name)")
        parser.add_argument("--test_after_fit", type=bool, default=False,
                            help="fit only: then test the run's last.ckpt in the same process, as `lightning-ae "
                                 "test --ckpt_path <run>/checkpoints/last.ckpt` would, without a second start-up "
                                 "and data load")

    def instantiate_trainer(self, **kwargs):
        """Lightning's TQDM progress bar, redrawn every `progress_bar_refresh_rate` training batches (each
        redraw costs ~0.25 ms, 2-3% of a CPU step of the seed network) and at every evaluation batch
        (`lightning_ae.progress`); a bar in `trainer.callbacks`
        is used as it is, and none is added when `trainer.enable_progress_bar` is false."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        chosen = config.trainer.callbacks or []
        chosen = chosen if isinstance(chosen, list) else [chosen]
        if config.trainer.enable_progress_bar is not False and not any(isinstance(c, ProgressBar) for c in chosen):
            kwargs["callbacks"] = [*chosen, LiveEvalProgressBar(refresh_rate=config.progress_bar_refresh_rate)]
        trainer = super().instantiate_trainer(**kwargs)
        lightning_ae.quiet.install(self.subcommand)  # and the library messages that do not apply to it
        _cheap_cuda_check(str(config.trainer.strategy))
        if self.subcommand == "fit" and isinstance(config.trainer.strategy, str):
            for callback in trainer.callbacks:
                if isinstance(callback, GreedyLayerwisePretraining):
                    callback.refuse_strategy(config.trainer.strategy)
        if self.subcommand:
            drop_idle_callbacks(trainer, self.subcommand, bool(config.get("test_after_fit")))
        return trainer

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        self._check_checkpoint_model(config)
        logger = config.trainer.logger
        name = config.get("name") or (Path(str(config.config[-1])).stem if config.get("config") else None)
        if name and getattr(logger, "class_path", "").endswith("TensorBoardLogger") and logger.init_args.name == "default":
            logger.init_args.name = name

    def after_fit(self) -> None:
        """`--test_after_fit true`: test the last checkpoint of the run just fitted (its weights in memory
        when no last.ckpt was written), in this process, into the same run folder and run.json. The test
        results go to run.json and TensorBoard; `python -m lightning_ae.summary <run>` prints them."""
        if not self.config.fit.get("test_after_fit") or self.trainer.interrupted:
            return
        self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=latest_checkpoint(self.trainer),
                          verbose=False, weights_only=True)  # data, never code (lightning_ae.checkpoints)

    def parse_arguments(self, parser, args) -> None:
        """Parse; note the configured model before LightningCLI applies a checkpoint's hyperparameters."""
        super().parse_arguments(parser, args)
        config = self.config.get(self.config.get("subcommand")) or self.config
        path = config.get("ckpt_path")
        self.ckpt_path = None if path is None or str(path) in SPECIAL_CKPT_PATHS or "://" in str(path) else str(path)
        if self.ckpt_path is not None and missing_checkpoint(self.ckpt_path) is not None:
            raise missing_checkpoint(self.ckpt_path)
        model = config.get("model")
        self.configured_model = (model.get("class_path"), dict(model.get("init_args") or {})) if model else None

    def _check_checkpoint_model(self, config) -> None:
        """LightningCLI has replaced the model's class and arguments with the checkpoint's: refuse a
        checkpoint of another class (it would silently build that one), and say which arguments changed."""
        if self.ckpt_path is None or self.configured_model is None:
            return
        configured, args = self.configured_model
        saved = config.model.get("class_path")
        if saved and configured and saved.rsplit(".", 1)[-1] != configured.rsplit(".", 1)[-1]:
            raise CheckpointError(
                f"checkpoint {self.ckpt_path} belongs to {saved}, but the config builds {configured}; use the config the "
                "checkpoint was trained with (config.yaml beside its checkpoints/ folder), or leave --config out.")
        now = dict(config.model.get("init_args") or {})
        norm = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
        changed = {k: (now[k], v) for k, v in args.items()
                   if k in now and k not in DATA_LINKED and norm(now[k]) != norm(v)}
        if changed:
            rank_zero_info("lightning-ae: the model is built with the checkpoint's hyperparameters: " + ", ".join(
                f"{k}={v!r} (config: {c!r})" for k, (v, c) in changed.items()))


def drop_idle_callbacks(trainer: L.Trainer, subcommand: str, test_after_fit: bool = False) -> None:
    """Leave out the callbacks with nothing to do in `subcommand`: Lightning still calls each of them
    ~6 times a training step (CodesWriter works in predict, the probes in test)."""
    idle = {"fit": (CodesWriter,) if test_after_fit else (CodesWriter, RepresentationProbes),
            "validate": (CodesWriter, RepresentationProbes), "test": (CodesWriter,),
            "predict": (RepresentationProbes,)}.get(subcommand, ())
    trainer.callbacks[:] = [c for c in trainer.callbacks if not isinstance(c, idle)]


def _cheap_cuda_check(strategy: str) -> None:
    """Undo lightning 2.6's `PYTORCH_NVML_BASED_CUDA_CHECK=1` (set when it is imported, so that
    `torch.cuda.is_available()` asks NVML and never initialises CUDA in a process that will fork)
    once the Trainer is built: torch's optimizers call `is_available()` at every `step()`, and the
    NVML way loads libnvidia-ml each time, ~0.1-0.3 ms a step (2-3% of a CPU step of the seed
    network; a plain script without Lightning never pays it). Kept for the strategies that fork
    (ddp_fork, ddp_notebook); `ddp` and `ddp_spawn` start fresh processes."""
    if "fork" not in strategy and "notebook" not in strategy:
        os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)


def cli(args: list[str] | None = None, run: bool = True) -> AutoencoderCLI:
    defaults = [str(DEFAULT_CONFIG)] if DEFAULT_CONFIG.is_file() else []
    # `--config ae_2d`: the packaged configs/ae_2d.yaml (in sys.argv itself, as --debug is taken out of it in
    # main(): LightningCLI warns when given args beside a command line, and a DDP launch reruns sys.argv)
    if args is None:
        sys.argv[1:] = resolve_config_args(sys.argv[1:])
    else:
        args = resolve_config_args(list(args))
    argv = sys.argv[1:] if args is None else args
    # `lightning-ae fit ...`: build that subcommand's parser alone (AutoencoderCLI.subcommands)
    only = argv[0] if run and argv and argv[0] in SUBCOMMANDS else None
    return AutoencoderCLI(
        L.LightningModule,  # every AutoencoderModule variant, and the Classifier that reuses an encoder
        MNISTDataModule,
        subclass_mode_model=True,
        seed_everything_default=42,
        auto_configure_optimizers=False,  # the model builds them from the linked `optimizer` / `lr_scheduler`
        trainer_defaults={"callbacks": [RunRecord(), CheckpointOnInterrupt()]},
        save_config_kwargs={"overwrite": True},
        # with subcommands each subcommand's parser reads the defaults; without (run=False), the main one
        parser_kwargs=({sub: {"default_config_files": defaults} for sub in ((only,) if only else SUBCOMMANDS)}
                       if run else {"default_config_files": defaults}),
        parser_class=ConfigParser,
        subcommand=only,
        args=args,
        run=run,
    )


def _ckpt_path(argv: list[str]) -> str | None:
    """The `--ckpt_path` of a command line (`--ckpt_path P` or `--ckpt_path=P`), if any."""
    for i, arg in enumerate(argv):
        if arg == "--ckpt_path" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--ckpt_path="):
            return arg.split("=", 1)[1]
    return None


def main(args: list[str] | None = None) -> None:
    """`lightning-ae`: errors a user can fix become one line and exit status 2 (`--debug`: traceback)."""
    argv = sys.argv[1:] if args is None else list(args)
    if "--debug" in argv:  # the env variable reaches the processes a DDP launch starts, too
        os.environ["LIGHTNING_AE_DEBUG"] = "1"
        argv = [a for a in argv if a != "--debug"]
        if args is None:
            sys.argv[1:] = argv
        args = None if args is None else argv
    if argv and argv[0] in TOOLS:  # `lightning-ae export ...`, `lightning-ae summary ...`
        return importlib.import_module(TOOLS[argv[0]]).main(argv[1:])
    try:
        cli(args)
    except SIGTERMException:
        print("lightning-ae: stopped by SIGTERM; last.ckpt was saved in the run's checkpoints/ folder: "
              "rerun the same command with --ckpt_path last to resume.", file=sys.stderr)
        sys.exit(143)
    except Exception as e:
        error = e if isinstance(e, USER_ERRORS) or isinstance(root_cause(e), USER_ERRORS) else None
        if error is None:  # LightningCLI or the Trainer failed to load --ckpt_path: is the file the problem?
            error = checkpoint_problem(_ckpt_path(argv))
        if error is None or os.environ.get("LIGHTNING_AE_DEBUG"):
            raise
        subcommand = next((a for a in argv if a in SUBCOMMANDS), None)
        print(f"lightning-ae: error: {describe(error, subcommand)}", file=sys.stderr)
        print("(add --debug or set LIGHTNING_AE_DEBUG=1 for the full traceback)", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
