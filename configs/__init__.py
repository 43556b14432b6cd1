"""The configs of lightning-ae (`*.yaml`), shipped inside the package as `lightning_ae.configs`.

This folder is the only copy: pyproject.toml maps the package `lightning_ae.configs` onto it, so a
wheel installs the YAML files in `lightning_ae/configs/` and an editable install reads them here
(see `lightning_ae.config_files`). This file makes the folder that package; it holds no code.
"""
