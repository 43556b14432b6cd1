"""One verdict rule for every row, fixed before any run: seeds, mean ± sample std, 2 standard errors.

A row's records are its seeds' runs (n of them). `ours` is their mean, `±` their sample standard
deviation (n - 1 in the denominator), the standard error SE = std / sqrt(n). A published number is
rounded to the digits it was printed with, so it is known only to half a unit in its last digit (r).
The gap to it counts when |mean - published| > 2 SE + r: then the row *beats* or *misses* it (by
the metric's direction); otherwise it is *within noise*. With one seed there is no SE: "1 seed: no
verdict". A row without a published number gets no verdict; a row without records is "not run".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

RULE = ("*beats* / *misses*: |mean − published| > 2 SE + r, where SE = sample std / √n over n seeds and "
        "r = half a unit in the published number's last printed digit (its rounding); *within noise* otherwise; "
        "\"1 seed: no verdict\" with a single seed; no verdict without a published number.")
NOT_RUN, ONE_SEED, WITHIN, BEATS, MISSES = "not run", "1 seed: no verdict", "within noise", "beats", "misses"


@dataclass(frozen=True)
class Stats:
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / self.n

    @property
    def std(self) -> float | None:
        """Sample standard deviation (n - 1), None with fewer than 2 values."""
        if self.n < 2:
            return None
        m = self.mean
        return math.sqrt(math.fsum((v - m) ** 2 for v in self.values) / (self.n - 1))

    @property
    def se(self) -> float | None:
        return None if self.std is None else self.std / math.sqrt(self.n)


def published_value(printed: str, metric: str) -> tuple[float, float]:
    """The published number in the metric's units, and its rounding r (half a unit in the last digit).

    "1.2%" is a test error: for `test/acc` it becomes 1 - 0.012, known to 0.0005."""
    text = printed.strip()
    percent = text.endswith("%")
    d = Decimal(text.rstrip("%"))
    half_unit = Decimal(1).scaleb(d.as_tuple().exponent) / 2
    if percent:
        d, half_unit = d / 100, half_unit / 100
        if metric.endswith("acc"):
            d = 1 - d
    return float(d), float(half_unit)


def verdict(stats: Stats | None, printed: str | None, metric: str, lower_is_better: bool = True) -> str:
    """The row's verdict under RULE (see the module docstring)."""
    if stats is None or stats.n == 0:
        return NOT_RUN
    if printed is None:
        return ""
    if stats.n < 2:
        return ONE_SEED
    value, rounding = published_value(printed, metric)
    gap = stats.mean - value
    if abs(gap) <= 2 * stats.se + rounding:
        return WITHIN
    return BEATS if (gap < 0) == lower_is_better else MISSES


def fmt_stats(stats: Stats | None, digits_of: str | None = None) -> str:
    """"mean ± std (n=3)"; with a published number, the mean with one digit more than it was printed with."""
    if stats is None or stats.n == 0:
        return "—"
    if digits_of is not None:
        places = max(0, -Decimal(digits_of.rstrip("%")).as_tuple().exponent) + 1
        places += 2 if digits_of.endswith("%") else 0
        f = lambda v: f"{v:.{places}f}"  # noqa: E731
    else:
        places = 2 if abs(stats.mean) >= 1 else 4 if abs(stats.mean) >= 0.01 else 5
        f = lambda v: f"{v:.{places}f}"  # noqa: E731  (the std with the mean's decimals)
    text = f(stats.mean)
    if stats.std is not None:
        text += f" ± {f(stats.std)}"
    return f"{text} (n={stats.n})"
