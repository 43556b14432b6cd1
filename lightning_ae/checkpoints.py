"""Checkpoints are data, never code: every checkpoint the package reads is loaded with `weights_only=True`.

`torch.load(..., weights_only=True)` unpickles only tensors and plain Python data; a file whose
pickle asks for anything else (a class, a function: the way a malicious `.ckpt` runs code) is refused
before any of it runs. The project's own checkpoints hold only such data (hyperparameters are plain:
the injected optimizer callables are not saved, see `lightning_ae.models.system`).

On the command line, LightningCLI reads `--ckpt_path` itself (for the hyperparameters, with
`weights_only=True`) and the Trainer reads it again to restore it; the CLI adds no read of its own
and explains a refused or corrupt file with `checkpoint_problem` only after one of those reads failed.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path

import torch


class CheckpointError(ValueError):
    """A checkpoint that does not exist, cannot be read safely, or belongs to another model."""


def missing_checkpoint(path: str | Path, what: str = "checkpoint") -> CheckpointError | None:
    """The error for a `path` that is not a file (None if it is one)."""
    p = Path(path).expanduser()
    if p.is_file():
        return None
    return CheckpointError(
        f"{what} {path} does not exist{' (it is a folder)' if p.is_dir() else ''}; give a .ckpt file "
        "(a run keeps them in logs/<name>/<version>/checkpoints/), or --ckpt_path last to resume the run "
        "named by --trainer.logger.init_args.version."
    )


def load_checkpoint(path: str | Path, what: str = "checkpoint") -> dict:
    """The checkpoint at `path`, loaded with `weights_only=True`, or a `CheckpointError` saying why not."""
    missing = missing_checkpoint(path, what)
    if missing is not None:
        raise missing
    try:
        ckpt = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refused something: nothing of the file ran
        asked = re.search(r"(?:unsupported|Unsupported global:) GLOBAL ([\w.]+)", str(e))
        raise CheckpointError(
            f"{what} {path} was refused: it holds pickled objects other than tensors and plain data "
            f"({'it asks for ' + asked.group(1) if asked else 'weights_only load failed'}), which could run code "
            "when loaded, so it was not loaded and nothing in it ran. "
            "Use a checkpoint written by lightning-ae, or one from a source you trust re-saved as plain data."
        ) from e
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0][:200]
        raise CheckpointError(
            f"{what} {path} cannot be read ({type(e).__name__}: {first}); the file is corrupt or truncated, "
            "or not a checkpoint. Use another one of the run (last.ckpt or best-*.ckpt in the same folder)."
        ) from e
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{what} {path} holds no model weights (no 'state_dict'); it is not a "
                              "Lightning checkpoint of this project.")
    return ckpt


def checkpoint_problem(path: str | Path | None) -> CheckpointError | None:
    """After a library failed to load `path`: what is wrong with the file, or None if it loads safely."""
    if path is None or not Path(path).expanduser().is_file():
        return None
    try:
        load_checkpoint(path)
    except CheckpointError as e:
        return e
    return None


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
