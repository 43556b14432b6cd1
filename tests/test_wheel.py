"""The package outside the repository (issue 17, point 5): build the wheel, install it (not editable)
into a fresh venv that reuses the installed torch, Lightning, ... (no download), and from another folder
`lightning-ae fit --config ae_2d` trains with the same defaults as in the checkout (configs/default.yaml
and ae_2d.yaml come inside the wheel)."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.processes]


def run(cmd: list, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the wheel of this checkout installed, reusing this environment's packages."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy of the sources: the build writes build/ and *.egg-info beside them
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("lightning_ae", "configs"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", tmp / "dist", src],
        cwd=tmp)
    wheel = next((tmp / "dist").glob("lightning_ae-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "lightning_ae/configs/default.yaml" in names and "lightning_ae/configs/ae_2d.yaml" in names

    env_dir = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", env_dir], cwd=tmp)
    python = env_dir / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    # after the venv's own site-packages: this environment's (torch, lightning, pip, ...), as plain path
    # lines, so its .pth files (the editable install of the checkout) are not run
    (purelib / "zz_reuse_installed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # --ignore-installed: pip neither looks at nor touches the checkout's editable install it can see
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel], cwd=tmp)
    return env_dir


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LIGHTNING_AE", "PL_"))}
    return {**env, "OMP_NUM_THREADS": "1", **extra}


def test_installed_package_is_the_wheel(venv, tmp_path):
    out = run([venv / "bin" / "python", "-c", "import lightning_ae, lightning_ae.cli as c; print(lightning_ae.__file__); "
               "print(c.DEFAULT_CONFIG)"], cwd=tmp_path, env=clean_env())
    module, default = out.stdout.split()
    assert Path(module).is_relative_to(venv) and not Path(module).is_relative_to(ROOT)
    assert Path(default).is_relative_to(venv) and Path(default).read_text() == (ROOT / "configs" / "default.yaml").read_text()


def test_fit_by_config_name_from_another_folder(venv, tmp_path, mnist_dir):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(LIGHTNING_AE_DATA=str(mnist_dir), LIGHTNING_AE_OFFLINE="1")
    fit = run([venv / "bin" / "lightning-ae", "fit", "--config", "ae_2d", "--trainer.max_epochs", "1",
               "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "2", "--data.train_subset", "1000",
               "--trainer.enable_progress_bar", "false", "--images.scatter_points", "256"], cwd=elsewhere, env=env)
    assert "args parameter" not in fit.stderr  # the name is resolved in the command line, not beside it
    # default.yaml's logger (save_dir logs, the run named after the config) and seed, ae_2d.yaml's model
    run_dir = elsewhere / "logs" / "ae_2d" / "version_0"
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["seed_everything"] == 42
    assert config["trainer"]["logger"]["class_path"] == "lightning.pytorch.loggers.TensorBoardLogger"
    assert config["trainer"]["logger"]["init_args"]["default_hp_metric"] is False
    assert config["trainer"]["max_epochs"] == 1 and config["trainer"]["log_every_n_steps"] == 50
    assert config["model"]["class_path"] == "lightning_ae.models.Autoencoder"
    assert config["model"]["init_args"]["hidden_dims"] == [512, 128] and config["model"]["init_args"]["latent_dim"] == 2
    assert config["optimizer"]["class_path"] == "torch.optim.Adam" and config["images"]["num_images"] == 6
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and list(run_dir.glob("events.out.tfevents.*"))


def test_unknown_config_name_lists_the_names(venv, tmp_path):
    out = subprocess.run([str(venv / "bin" / "lightning-ae"), "fit", "--config", "ae_2dd"], cwd=tmp_path,
                         env=clean_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.startswith("lightning-ae: error: ")]
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "no config named 'ae_2dd'" in lines[0] and "ae_2d, ae_2d_25ep," in lines[0] and "vae_2d" in lines[0]
