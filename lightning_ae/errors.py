"""Errors a user can fix, and how `lightning-ae` words them: one line naming the problem and the fix.

`main()` in `lightning_ae.cli` catches `USER_ERRORS` and prints `describe(error)`; `--debug` (or
LIGHTNING_AE_DEBUG=1) shows the full traceback instead. The CLI looks at a `--ckpt_path`
before Lightning loads it (`read_checkpoint`, `check_checkpoint_class`, `check_checkpoint_weights`),
so a missing, corrupt or foreign checkpoint is named as such instead of ending in a traceback.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path

import torch
from jsonargparse import ArgumentError
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from lightning_ae.data import DataError

# the names Lightning resolves itself (`last`: newest last*.ckpt of the run; `best`: after a fit)
SPECIAL_CKPT_PATHS = ("last", "best", "hpc")


class CheckpointError(ValueError):
    """A `--ckpt_path` that does not exist, cannot be read, or belongs to another model."""


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite (raised by `lightning_ae.callbacks.NonFiniteGuard`)."""


USER_ERRORS = (DataError, CheckpointError, ValueError, FileNotFoundError, KeyError, FloatingPointError,
               ArgumentError, MisconfigurationException)

# lines of jsonargparse's nested messages that say nothing to a user
_NOISE = re.compile(r"^(Does not validate against any of the Union subtypes|Subtypes: |Errors:|Given value|"
                    r"Expected a <class 'NoneType'>)")


def root_cause(error: BaseException) -> BaseException:
    """The exception whose message is meant for the user: the innermost of a `raise ... from` chain
    (jsonargparse wraps the ValueError of a model's __init__), or the first of our own on the way."""
    while error.__cause__ is not None and not isinstance(error, (DataError, CheckpointError, NonFiniteLossError)):
        error = error.__cause__
    return error


def describe(error: BaseException, subcommand: str | None = None) -> str:
    """One line for the user: our own message when a library wrapped it, jsonargparse's condensed."""
    if isinstance(error, ArgumentError):  # a key or value the parser refused: keep the lines that name it
        lines = [line.strip().lstrip("- ").strip() for line in str(error).splitlines()]
        text = ""
        for line in (line for line in lines if line and not _NOISE.match(line)):
            text += (" " if text.endswith(":") else ": " if text else "") + line
        return f"{text}; `lightning-ae {subcommand + ' ' if subcommand else ''}--help` lists the valid options."
    cause = root_cause(error)
    if isinstance(cause, KeyError):  # str(KeyError) is the repr of the key
        return f"missing key {cause}"
    text = " ".join(str(cause).split()) or type(cause).__name__  # one line, whatever the library wrote
    return text if len(text) <= 1000 else text[:1000] + " ..."


def read_checkpoint(path: str | Path | None) -> dict | None:
    """The checkpoint at `path`, or a `CheckpointError` saying why it cannot be used.

    `None` and the names Lightning resolves itself ("last", "best", "hpc") give None.
    """
    if path is None or str(path) in SPECIAL_CKPT_PATHS or "://" in str(path) or str(path).startswith("registry"):
        return None
    p = Path(path).expanduser()
    if not p.is_file():
        raise CheckpointError(
            f"checkpoint {path} does not exist{' (it is a folder)' if p.is_dir() else ''}; give a .ckpt file "
            "(a run keeps them in logs/<name>/<version>/checkpoints/), or --ckpt_path last to resume the run "
            "named by --trainer.logger.init_args.version."
        )
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError, ValueError, zipfile.BadZipFile,
            AttributeError, ModuleNotFoundError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0]
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(e).__name__}: {first}); the file is corrupt or truncated, "
            "or not a checkpoint. Use another one of the run (last.ckpt or best-*.ckpt in the same folder)."
        ) from e
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"checkpoint {path} holds no model weights (no 'state_dict'); it is not a "
                              "Lightning checkpoint of this project.")
    return ckpt


def check_checkpoint_class(ckpt: dict, path: str | Path, class_path: str | None) -> None:
    """Refuse a checkpoint of another model class than the configured `class_path`.

    (LightningCLI would otherwise silently build the checkpoint's class instead of the configured one.)
    """
    saved = (ckpt.get("hyper_parameters") or {}).get("_class_path")
    if saved and class_path and saved.rsplit(".", 1)[-1] != class_path.rsplit(".", 1)[-1]:
        raise CheckpointError(
            f"checkpoint {path} belongs to {saved}, but the config builds {class_path}; use the config the "
            "checkpoint was trained with (config.yaml beside its checkpoints/ folder), or leave --config out."
        )


def check_checkpoint_weights(ckpt: dict, path: str | Path, model: torch.nn.Module) -> None:
    """Refuse a checkpoint whose weights do not fit `model` (names and shapes), in one line."""
    mismatch = state_dict_mismatch(ckpt["state_dict"], model.state_dict(), strict=getattr(model, "strict_loading", True))
    if mismatch:
        raise CheckpointError(
            f"checkpoint {path} does not fit this {type(model).__name__}: {mismatch}. It was trained with other "
            "layer sizes; use its own config (config.yaml beside its checkpoints/ folder) or a matching checkpoint."
        )


def overridden_hparams(ckpt: dict, init_args: dict) -> dict[str, tuple[object, object]]:
    """{name: (checkpoint value, configured value)} for the model arguments the checkpoint will override."""
    saved = {k: v for k, v in (ckpt.get("hyper_parameters") or {}).items() if not k.startswith("_")}
    norm = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
    return {k: (v, init_args[k]) for k, v in saved.items() if k in init_args and norm(v) != norm(init_args[k])}


def state_dict_mismatch(saved: dict, expected: dict, strict: bool = True, show: int = 3) -> str:
    """A short description of how two state dicts differ in keys and shapes ("" when they fit)."""
    problems = []
    shapes = [f"{k} {tuple(saved[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
              if k in saved and hasattr(saved[k], "shape") and tuple(saved[k].shape) != tuple(v.shape)]
    if shapes:
        problems.append(f"{len(shapes)} weight(s) of another shape (checkpoint vs model: {'; '.join(shapes[:show])}"
                        f"{' ...' if len(shapes) > show else ''})")
    if strict:
        missing = [k for k in expected if k not in saved]
        extra = [k for k in saved if k not in expected]
        if missing:
            problems.append(f"{len(missing)} weight(s) missing ({', '.join(missing[:show])}{' ...' if len(missing) > show else ''})")
        if extra:
            problems.append(f"{len(extra)} unexpected weight(s) ({', '.join(extra[:show])}{' ...' if len(extra) > show else ''})")
    return "; ".join(problems)
