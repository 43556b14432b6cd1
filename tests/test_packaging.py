"""The configs come with the package (issue 17, point 5): `configs/` is the one copy, mapped onto the
package `lightning_ae.configs`; `--config ae_2d` names one of them. (tests/test_wheel.py builds and
installs the wheel itself; this is the fast tier.)"""

from __future__ import annotations

import tomllib

import pytest

from conftest import ROOT
from lightning_ae.cli import DEFAULT_CONFIG, cli, main
from lightning_ae.config_files import available, config_path, configs_dir, resolve_config_args
from lightning_ae.errors import ConfigError

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_is_listed_and_configs_is_the_top_level_folder():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lightning_ae").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert set(PYPROJECT["packages"]) == found | {"lightning_ae.configs"}  # a new subpackage must be listed
    assert PYPROJECT["package-dir"] == {"lightning_ae.configs": "configs"}
    assert PYPROJECT["package-data"] == {"lightning_ae.configs": ["*.yaml"]}
    assert not (ROOT / "lightning_ae" / "configs").exists()  # no second copy in the source tree


def test_packaged_configs_are_the_checkout_configs():
    assert available() == sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert DEFAULT_CONFIG == configs_dir() / "default.yaml"
    assert DEFAULT_CONFIG.read_text() == (ROOT / "configs" / "default.yaml").read_text()


def test_config_names_resolve_and_paths_stay(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").write_text("trainer: {}\n")  # a file here named like a config name: a path
    argv = ["fit", "--config", "ae_2d", "--config=pca_2d", "-c", "vae_2d", "--config", "configs/ae_2d.yaml",
            "--config", "my.yaml", "--config", "mine", "--name", "ae_2d"]
    assert resolve_config_args(argv) == [
        "fit", "--config", str(configs_dir() / "ae_2d.yaml"), f"--config={configs_dir() / 'pca_2d.yaml'}",
        "-c", str(configs_dir() / "vae_2d.yaml"), "--config", "configs/ae_2d.yaml", "--config", "my.yaml",
        "--config", "mine", "--name", "ae_2d"]
    with pytest.raises(ConfigError, match=r"no config named 'ae_3d'; the package has: ae_2d, ae_2d_25ep, .*vae_2d"):
        config_path("ae_3d")


def test_cli_builds_the_named_config_over_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the checkout: the packaged files are found from anywhere
    built = cli(["--config", "ae_2d", "--trainer.logger.init_args.save_dir", str(tmp_path)], run=False)
    assert type(built.model).__name__ == "Autoencoder" and built.model.hparams.hidden_dims == [512, 128]
    assert built.config.seed_everything == 42 and built.trainer.max_epochs == 5  # default.yaml, ae_2d.yaml
    assert type(built.trainer.logger).__name__ == "TensorBoardLogger" and built.trainer.logger.name == "ae_2d"


def test_unknown_config_name_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", "vae_3d"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("lightning-ae: error: ")]
    assert line.startswith("lightning-ae: error: no config named 'vae_3d'; the package has: ae_2d,") and "vae_20d" in line
