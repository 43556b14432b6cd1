"""TensorBoard's HParams dashboard: each run's hyperparameters, logged once, beside its final metrics.

Every run declares the same experiment, whichever run TensorBoard reads first:

- the same hyperparameter columns: `model` (the class), the arguments of every model of
  `lightning_ae.models` (a fixed union: a column a model lacks stays empty), the data's
  (`batch_size`, `binarize`, ...), the optimizer's (`optimizer`, `lr`, `weight_decay`, `lr_scheduler`)
  and the trainer's (`max_epochs`, `precision`, `seed`); booleans as booleans, numbers as numbers,
  layer sizes as text ("512-128"); LightningCLI's internal keys (`_instantiator`, `_class_path`)
  left out;
- the same metric columns (`METRICS`): loss, MSE, the variants' headline numbers (ELBO, NLL,
  accuracy) and the probe accuracies, for validation and test.

TensorBoard reads a metric's value from the run's own scalars (its last value), so a session
logged when the fit ends gets its test metrics as soon as `lightning-ae test` writes them into the
same run. Written with the public protos of TensorBoard's hparams plugin (what
`torch.utils.tensorboard.summary.hparams` builds, which has no booleans and no empty columns).
"""

from __future__ import annotations

import inspect
import os
import time
import typing
from functools import lru_cache

import lightning as L
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2, metadata
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

TRAINING, VALIDATION = api_pb2.DATASET_TRAINING, api_pb2.DATASET_VALIDATION
# (tag, dataset, description): the metric columns of every run, in the table's order (the numbers
# that compare any two models first); empty where a run has no such scalar
METRICS = (
    ("test/mse", VALIDATION, "test per-pixel MSE"),
    ("val/mse", VALIDATION, "validation per-pixel MSE"),
    ("test/knn_acc", VALIDATION, "5-NN accuracy of the test codes"),
    ("test/probe_acc", VALIDATION, "linear-probe accuracy of the test codes"),
    ("test/sq_err_per_image", VALIDATION, "test squared error per image (Hinton & Salakhutdinov's unit)"),
    ("test/nll", VALIDATION, "importance-sampled test NLL, nats per image (VAE)"),
    ("test/elbo", VALIDATION, "test ELBO, nats per image (VAE)"),
    ("val/elbo", VALIDATION, "validation ELBO, nats per image (VAE)"),
    ("test/acc", VALIDATION, "test accuracy (classifier)"),
    ("val/acc", VALIDATION, "validation accuracy (classifier)"),
    ("test/loss", VALIDATION, "test objective (not charted for the VAE, whose objective is in nats)"),
    ("val/loss", VALIDATION, "validation objective (not charted for the VAE)"),
    ("train/loss", TRAINING, "training objective, mean of the last epoch (per-pixel for the autoencoders)"),
)
DATA_KEYS = ("dataset", "path", "batch_size", "binarize", "val_split", "train_subset", "num_labeled", "labeled_fraction")
SKIPPED = {"self", "kwargs", "args", "optimizer", "lr_scheduler"}  # the optimizer gets columns of its own
BOOL, NUMBER, STRING = api_pb2.DATA_TYPE_BOOL, api_pb2.DATA_TYPE_FLOAT64, api_pb2.DATA_TYPE_STRING
# the columns the dashboard shows before any is ticked: TensorBoard lists first the hyperparameters
# flagged `differs` (then by name) and shows the first five, so these five are flagged
SHOWN = ("model", "latent_dim", "hidden_dims", "lr", "max_epochs")


def _kind(annotation, default) -> int:
    """The column type of an argument: from its default, else from its annotation."""
    if isinstance(default, bool):
        return BOOL
    if isinstance(default, (int, float)):
        return NUMBER
    if default is not None and default is not inspect.Parameter.empty:
        return STRING  # strings, layer sizes
    for arg in typing.get_args(annotation) or (annotation,):
        if arg is bool:
            return BOOL
        if isinstance(arg, type) and issubclass(arg, (int, float)):
            return NUMBER  # jsonargparse's PositiveInt, NonNegativeFloat, ... subclass int and float
    return STRING


def _arguments(cls: type) -> dict[str, int]:
    """{argument: column type} of `cls.__init__` and the classes it forwards **kwargs to."""
    out: dict[str, int] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass.__module__.split(".")[0] != "lightning_ae":
            continue
        try:
            parameters = inspect.signature(init, eval_str=True).parameters
        except (NameError, TypeError):  # an annotation that does not resolve: types from defaults
            parameters = inspect.signature(init).parameters
        for name, p in parameters.items():
            if name not in SKIPPED and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and name not in out:
                out[name] = _kind(p.annotation, p.default)
    return out


@lru_cache(maxsize=1)
def columns() -> dict[str, tuple[int, str]]:
    """{column: (type, description)}, the same for every run: the union over the project's models."""
    from lightning_ae import models
    from lightning_ae.data import MNISTDataModule

    out: dict[str, tuple[int, str]] = {"model": (STRING, "the model's class"),
                                       "latent_dim": (NUMBER, "code size (PCA: n_components; classifier: features)")}
    for name in models.__all__:
        cls = getattr(models, name)
        for arg, kind in _arguments(cls).items():
            out.setdefault(arg, (kind, f"model argument ({name} and others)"))
    data = _arguments(MNISTDataModule)
    out.update({k: (data[k], "MNISTDataModule argument") for k in DATA_KEYS if k in data})
    out.update({
        "optimizer": (STRING, "the optimizer's class"), "lr": (NUMBER, "initial learning rate"),
        "weight_decay": (NUMBER, "the optimizer's weight decay"), "lr_scheduler": (STRING, "the scheduler's class"),
        "max_epochs": (NUMBER, "Trainer max_epochs"), "precision": (STRING, "Trainer precision"),
        "seed": (NUMBER, "seed_everything"),
    })
    return out


def _value(value, kind: int):
    """`value` as the column's type, or None (an empty cell)."""
    if value is None:
        return None
    if kind == BOOL:
        return bool(value) if isinstance(value, bool) else None
    if kind == NUMBER:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value) or "none"
    return str(value)


def run_hparams(trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, bool | float | str]:
    """The run's values of `columns()`; a column without a value is left out (an empty cell)."""
    raw: dict[str, object] = {"model": type(pl_module).__name__}
    raw.update({k: v for k, v in pl_module.hparams.items() if not k.startswith("_")})
    raw.setdefault("latent_dim", getattr(pl_module, "latent_dim", None))  # the code size of every model (PCA's k)
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is not None:
        raw.update({k: datamodule.hparams.get(k) for k in DATA_KEYS})
    if trainer.optimizers:
        optimizer = trainer.optimizers[0]
        raw.update(optimizer=type(optimizer).__name__, lr=optimizer.defaults.get("lr"),
                   weight_decay=optimizer.defaults.get("weight_decay"))
        schedulers = trainer.lr_scheduler_configs
        raw["lr_scheduler"] = type(schedulers[0].scheduler).__name__ if schedulers else "none"
    seed = os.environ.get("PL_GLOBAL_SEED")
    raw.update(max_epochs=trainer.max_epochs, precision=str(trainer.precision), seed=int(seed) if seed else None)
    out = {}
    for key, (kind, _) in columns().items():
        value = _value(raw.get(key), kind)
        if value is not None:
            out[key] = value
    return out


def _summary(tag: str, data: HParamsPluginData) -> Summary:
    data.version = metadata.PLUGIN_DATA_VERSION
    plugin = SummaryMetadata.PluginData(plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def experiment_summary() -> Summary:
    """The experiment every run declares: `columns()` and `METRICS`."""
    experiment = api_pb2.Experiment(
        hparam_infos=[api_pb2.HParamInfo(name=k, type=kind, description=text, differs=k in SHOWN)
                      for k, (kind, text) in columns().items()],
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), display_name=tag, description=text,
                                         dataset_type=dataset) for tag, dataset, text in METRICS],
    )
    return _summary(metadata.EXPERIMENT_TAG, HParamsPluginData(experiment=experiment))


def session_summaries(hparams: dict[str, bool | float | str]) -> tuple[Summary, Summary]:
    """The session start (the run's values) and end (success) summaries."""
    start = SessionStartInfo(start_time_secs=time.time())
    for key, value in hparams.items():
        if isinstance(value, bool):
            start.hparams[key].bool_value = value
        elif isinstance(value, float):
            start.hparams[key].number_value = value
        else:
            start.hparams[key].string_value = value
    end = SessionEndInfo(status=api_pb2.STATUS_SUCCESS, end_time_secs=time.time())
    return (_summary(metadata.SESSION_START_INFO_TAG, HParamsPluginData(session_start_info=start)),
            _summary(metadata.SESSION_END_INFO_TAG, HParamsPluginData(session_end_info=end)))


def log_hparams(writer, hparams: dict[str, bool | float | str], step: int = 0) -> None:
    """Write the experiment and this run's session into the run's TensorBoard events (a SummaryWriter)."""
    file_writer = writer.file_writer
    for summary in (experiment_summary(), *session_summaries(hparams)):
        file_writer.add_summary(summary, step)
    writer.flush()
