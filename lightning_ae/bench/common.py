"""What the parts of `make bench` share: targets, names, the load average."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO, TARGET_RSS_MB = 1.05, 1536
TARGET_WHOLE_VS_PLAIN, TARGET_WHOLE_VS_KERAS = 1.25, 0.80
KINDS = ("pipeline", "lightning", "plain")  # (a), (c), (b) of the epoch table; they alternate
PARTS = ("startup", "whole", "epochs")
WHOLE_CONFIG = "ae_2d"  # the main job: `lightning-ae fit --config configs/ae_2d.yaml`
# the fit's time from its process start to its first training step, written by FirstStepTimer
T0_ENV, MARK_ENV = "LIGHTNING_AE_BENCH_T0", "LIGHTNING_AE_BENCH_FIRST_STEP"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) / {five:.2f} (5 min)"


def spread(values: list[float], digits: int = 2) -> str:
    """"median (min-max)" of `values`."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
