"""Errors a user can fix, and how `lightning-ae` words them: one line naming the problem and the fix.

`main()` in `lightning_ae.cli` catches `USER_ERRORS` and prints `describe(error)`; `--debug` (or
LIGHTNING_AE_DEBUG=1) shows the full traceback instead. Checkpoint problems are
`lightning_ae.checkpoints.CheckpointError`s; values of the wrong type or range never reach our code
(the typed signatures make jsonargparse refuse them while parsing).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

from jsonargparse import ArgumentError
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from lightning_ae.checkpoints import CheckpointError
from lightning_ae.idx import DataError


class ConfigError(ValueError):
    """A combination of settings that cannot work together (each value alone passed its type check)."""


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite (raised by `lightning_ae.callbacks.NonFiniteGuard`)."""


# Mistakes a user can fix. Values of the wrong type or range are refused by the parser (ArgumentError:
# the typed signatures); combinations by our ConfigError; Lightning's MisconfigurationException names
# impossible Trainer settings. Any other exception is a bug of ours and keeps its traceback.
USER_ERRORS = (DataError, CheckpointError, ConfigError, NonFiniteLossError, ArgumentError, MisconfigurationException)

# lines of jsonargparse's nested messages that say nothing to a user
_NOISE = re.compile(r"^(Does not validate against any of the Union subtypes|Subtypes: |Errors:|Given value|"
                    r"Expected a <class 'NoneType'>)")


_NESTED = re.compile(r'Parser key "([\w.]+)": Problem with given class_path \'[^\']*\': Parser key "([\w.]+)"')


def root_cause(error: BaseException) -> BaseException:
    """The exception whose message is meant for the user: the innermost of a `raise ... from` chain
    (jsonargparse wraps the ValueError of a model's __init__), or the first of our own on the way."""
    while error.__cause__ is not None and not isinstance(error, (DataError, CheckpointError, ConfigError, NonFiniteLossError)):
        error = error.__cause__
    return error


def describe(error: BaseException, subcommand: str | None = None) -> str:
    """One line for the user: our own message when a library wrapped it, jsonargparse's condensed."""
    if isinstance(error, ArgumentError):  # a key or value the parser refused: keep the lines that name it
        lines = [line.strip().lstrip("- ").strip() for line in str(error).splitlines()]
        text = ""
        for line in (line for line in lines if line and not _NOISE.match(line)):
            text += (" " if text.endswith(":") else ": " if text else "") + line
        # 'Parser key "model": Problem with given class_path 'X': Parser key "latent_dim": ...' -> '--model.init_args.latent_dim: ...'
        while (nested := _NESTED.sub(r'Parser key "\1.init_args.\2"', text)) != text:
            text = nested
        text = re.sub(r'Parser key "([\w.]+)": ', r"--\1: ", text)
        return f"{text}; `lightning-ae {subcommand + ' ' if subcommand else ''}--help` lists the valid options."
    cause = root_cause(error)
    text = " ".join(str(cause).split()) or type(cause).__name__  # one line, whatever the library wrote
    return text if len(text) <= 1000 else text[:1000] + " ..."


def exit_on_user_error(prog: str, fn: Callable[[], object]) -> object:
    """Run `fn`; a user error ends the program with one line and exit status 2 (LIGHTNING_AE_DEBUG=1: traceback)."""
    try:
        return fn()
    except Exception as e:
        if not (isinstance(e, USER_ERRORS) or isinstance(root_cause(e), USER_ERRORS)) or os.environ.get("LIGHTNING_AE_DEBUG"):
            raise
        print(f"{prog}: error: {describe(e)}", file=sys.stderr)
        sys.exit(2)
