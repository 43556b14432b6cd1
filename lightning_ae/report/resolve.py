"""A config's resolved values, as `lightning-ae fit` would run it: LightningCLI's own `--print_config`.

    resolve("ae_2d_25ep", ["--optimizer.lr", "0.001"])  ->  the dict `fit --print_config` prints

(configs/default.yaml, then the config, then the overrides; nothing instantiated, nothing trained).
In-process: the first call imports Lightning (seconds), later ones take about a second each.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Sequence

import yaml

from lightning_ae.config_files import configs_dir


def resolve(config: str, overrides: Sequence[str] = ()) -> dict:
    from lightning_ae.cli import cli

    out, argv = io.StringIO(), sys.argv
    sys.argv = argv[:1]  # LightningCLI warns when it is given args beside a command line (pytest's, say)
    try:
        with contextlib.redirect_stdout(out):
            cli(["fit", "--config", str(configs_dir() / f"{config}.yaml"), *overrides, "--print_config"])
    except SystemExit as e:  # --print_config prints and exits
        if e.code:
            raise RuntimeError(f"{config} {' '.join(overrides)}: the CLI exited with {e.code}") from e
    finally:
        sys.argv = argv
    return yaml.safe_load(out.getvalue())


def differences(a: object, b: object, path: str = "") -> list[str]:
    """The dotted paths at which two resolved configs differ (dict keys in any order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}" if path else str(k))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]
