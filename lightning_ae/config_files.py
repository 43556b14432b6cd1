"""The configs that come with the package, and `--config NAME`: a config named by its stem.

The YAML files live in the repository's top-level `configs/` folder, the only copy. pyproject.toml
maps the package `lightning_ae.configs` onto that folder (setuptools `package-dir`, with the YAML
files as `package-data`), so a wheel carries them inside the installed package
(`site-packages/lightning_ae/configs/`) and an editable install (`pip install -e .`, `make install`)
reads `configs/` itself. Either way `configs_dir()` finds them through `importlib.resources`, never
through a path relative to the source tree, so an installed `lightning-ae` reads `default.yaml` and
`--config ae_2d` from any folder.

`--config ae_2d` (a bare name: no `/`, no `.yaml`, and not a file in the current folder) means the
packaged `ae_2d.yaml`; a path (`--config configs/ae_2d.yaml`, `--config my.yaml`) is read as it is.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from lightning_ae.errors import ConfigError

PACKAGE = "lightning_ae.configs"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_FLAGS = ("--config", "-c")


def configs_dir() -> Path:
    """The folder of the packaged configs (`configs/` of the checkout in an editable install)."""
    try:
        return Path(str(resources.files(PACKAGE)))
    except ModuleNotFoundError:  # the sources used without installing them (PYTHONPATH=.): configs/ beside them
        return Path(__file__).resolve().parent.parent / "configs"


def available() -> list[str]:
    """The names (stems) of the packaged configs, sorted."""
    return sorted(p.stem for p in configs_dir().glob("*.yaml"))


def config_path(name: str) -> Path:
    """The packaged config named `name` (`ae_2d` -> .../configs/ae_2d.yaml), or a ConfigError listing the names."""
    path = configs_dir() / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"no config named {name!r}; the package has: {', '.join(available())} "
                          "(or give the path of a YAML file, e.g. --config ./my_config.yaml).")
    return path


def is_config_name(value: str) -> bool:
    """Whether a `--config` value names a packaged config: a bare word that is not a file here."""
    return bool(_NAME.fullmatch(value)) and not value.endswith((".yaml", ".yml", ".json")) and not Path(value).exists()


def resolve_config_args(argv: list[str]) -> list[str]:
    """`argv` with each `--config NAME` / `--config=NAME` / `-c NAME` naming a packaged config replaced by its path."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg in _FLAGS and i + 1 < len(out) and is_config_name(out[i + 1]):
            out[i + 1] = str(config_path(out[i + 1]))
        elif arg.startswith("--config=") and is_config_name(arg.split("=", 1)[1]):
            out[i] = "--config=" + str(config_path(arg.split("=", 1)[1]))
    return out
