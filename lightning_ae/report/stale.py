"""Is a record still the config's? Every value `configs/<config>.yaml` sets, against the run's resolved config.

A record keeps the configuration its run resolved (`resolved_config`, LightningCLI's config.yaml). When
the config file has changed since (a setting re-chosen on the holdout, say), the record's numbers are
those of the old setting: the report marks such a record *stale* and names the values that differ.
Only values the config file itself sets are compared (not configs/default.yaml's), and not the ones the
make rules set per run (`RUN_KEYS`); a key removed from the file is not seen here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from lightning_ae.config_files import configs_dir

# set per run by the make rules or the choose runner, never by a config file's choice
RUN_KEYS = ("seed_everything", "ckpt_path", "trainer.logger", "trainer.enable_progress_bar",
            "model.init_args.nll_samples", "model.init_args.nll_images")
# values a make rule sets for one config's runs (REPRO_EXTRA in mk/*.mk), beside its file: mk/vae.mk's BURDA_BUDGET
# and mk/greedy.mk's classifier_pretrained rule: the autoencoder's last.ckpt as the encoder, and the fine-tuning
# rate CLASSIFIER_PRETRAINED_ARGS (0.3; the file's 1.0 is what it trains from random weights)
_BURDA_BUDGET = ("trainer.max_epochs", "lr_scheduler.init_args.stages", "lr_scheduler.init_args.epochs_scale",
                 "data.batch_size")
RULE_KEYS = {"vae_burda": _BURDA_BUDGET, "iwae_burda": _BURDA_BUDGET,
             "classifier_pretrained": ("model.init_args.encoder_ckpt", "optimizer.init_args.lr")}
ABSENT = "<absent>"


@lru_cache(maxsize=None)
def _config_text(path: str, mtime_ns: int) -> str:
    return Path(path).read_text()


def config_file(config: str) -> dict | None:
    path = configs_dir() / f"{config}.yaml"
    if not path.is_file():
        return None
    return yaml.safe_load(_config_text(str(path), path.stat().st_mtime_ns)) or {}


def _same(file_value: object, run_value: object, key: str) -> bool:
    if file_value == run_value:
        return True
    if isinstance(run_value, (int, float)) and not isinstance(run_value, bool) and isinstance(file_value, (str, int, float)):
        try:
            return float(file_value) == float(run_value)  # PyYAML reads 1e-3 as a string; the CLI as a float
        except ValueError:
            return False
    # a class given by its short name in the file (`class_path: Adam`)
    return key == "class_path" and isinstance(file_value, str) and str(run_value).endswith(f".{file_value}")


def differences(file_value: object, run_value: object, path: str = "", ignore: tuple[str, ...] = RUN_KEYS
                ) -> list[tuple[str, object, object]]:
    """(dotted path, value in the file, value in the run) wherever the run differs from a value the file sets."""
    if path in ignore:
        return []
    if isinstance(file_value, dict):
        if not isinstance(run_value, dict):
            return [(path, file_value, run_value)]
        return [d for k, v in file_value.items()
                for d in differences(v, run_value.get(k, ABSENT), f"{path}.{k}" if path else str(k), ignore)]
    if isinstance(file_value, list):
        if not isinstance(run_value, list) or len(run_value) != len(file_value):
            return [(path, file_value, run_value)]
        return [d for i, (v, r) in enumerate(zip(file_value, run_value)) for d in differences(v, r, f"{path}[{i}]", ignore)]
    return [] if _same(file_value, run_value, path.rsplit(".", 1)[-1]) else [(path, file_value, run_value)]


def record_differences(record: dict, ignore: tuple[str, ...] = RUN_KEYS) -> list[tuple[str, object, object]] | None:
    """Where the record's run differs from configs/<its config>.yaml now (None: no config file or no resolved config)."""
    cfg, resolved = config_file(str(record.get("config"))), record.get("resolved_config")
    if cfg is None or not isinstance(resolved, dict):
        return None
    return differences(cfg, resolved, ignore=(*ignore, *RULE_KEYS.get(str(record.get("config")), ())))


def short(value: object) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(diffs: list[tuple[str, object, object]]) -> str:
    return "; ".join(f"`{p}` {short(run)} in the run, {short(now)} in the file now" for p, now, run in diffs)


def stale_note(rows: list[dict]) -> str:
    """The protocol cell's mark for records made under another config than the file's now ("" if none)."""
    stale = [(r, d) for r in rows if (d := record_differences(r))]
    if not stale:
        return ""
    seeds = ", ".join(str(r.get("seed")) for r, _ in stale)
    return f"; **stale: the config file changed since the run** (seed {seeds}: {describe(stale[0][1])})"


def stale_section(records: dict[tuple[str, str], list[dict]]) -> list[str]:
    """Every stale record, with the command that makes it again (the report's records section)."""
    lines = []
    for (config, version), rows in sorted(records.items()):
        stale = [r for r in rows if record_differences(r)]
        if stale:
            paths = " ".join(f"reports/runs/{config}/{version}/seed{r.get('seed')}.json" for r in stale)
            lines.append(f"- `{config}/{version}` ({describe(record_differences(stale[0]))}): `make REDO=1 {paths}`")
    if not lines:
        return ["No record is stale: each one's run used the values its config file sets now.", ""]
    return ["Stale records (their config file has changed since their run; the rows say so), and the command "
            "that makes them again:", "", *lines, ""]
