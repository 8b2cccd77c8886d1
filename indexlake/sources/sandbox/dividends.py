"""Cash dividends of the sandbox market: seeded, quarterly, a yield of about 0.5-4% a year.

About 60% of symbols pay. A payer declares a fixed amount per (actual) share for each calendar
year, a quarter of ``yield x`` the unadjusted close of the year's first session (whole cents);
its ex-dates fall on the first session on or after a fixed day of every third month. Amounts
are served on the split-adjusted basis of the served closes (unadjusted amount / split factor
at the ex-date), so ``amount / close`` on an ex-date is the dividend yield of that day whether
or not a split came later. Benchmarks pay none.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from indexlake.sources.sandbox.factors import Bars, stream

DIVIDEND_STREAM = 5  # SeedSequence namespace, after the ones in factors.py
PAYER_SHARE = 0.6
YIELD_RANGE = (0.005, 0.04)
_AMOUNT_DECIMALS = 6


class Dividends(NamedTuple):
    """One symbol's ex-dates (datetime64[D], ascending) and amounts per share."""

    date: np.ndarray
    amount: np.ndarray  # on the split-adjusted basis of the served closes
    unadjusted: np.ndarray  # per actual share at the ex-date


def no_dividends() -> Dividends:
    empty = np.array([], dtype=np.float64)
    return Dividends(np.array([], dtype="datetime64[D]"), empty, empty.copy())


def dividend_schedule(seed: int, index: int, bars: Bars) -> Dividends:
    """The dividends of symbol ``index`` over its whole served history ``bars``."""
    rng = stream(seed, DIVIDEND_STREAM, index)
    pays = rng.random() < PAYER_SHARE
    dividend_yield = rng.uniform(*YIELD_RANGE)
    first_month = int(rng.integers(1, 4))  # 1..3: the quarter's first, second or third month
    day = int(rng.integers(1, 29))
    if not pays or len(bars.date) == 0:
        return no_dividends()
    years = bars.date.astype("datetime64[Y]")
    first_year, last_year = int(str(years[0])), int(str(years[-1]))
    targets = np.array(
        [
            np.datetime64(f"{y:04d}-{m:02d}-{day:02d}")
            for y in range(first_year, last_year + 1)
            for m in range(first_month, 13, 3)
        ],
        dtype="datetime64[D]",
    )
    slots = np.searchsorted(bars.date, targets, side="left")
    # Inside the listed history, strictly after the first session (no dividend on listing day).
    slots = np.unique(slots[(slots > 0) & (slots < len(bars.date))])
    if len(slots) == 0:
        return no_dividends()
    unadjusted_close = bars.close * bars.factor
    year_of = years.astype(np.int64)
    year_start = np.searchsorted(year_of, year_of[slots], side="left")
    per_share = np.round(dividend_yield * unadjusted_close[year_start] / 4, 2)
    per_share = np.maximum(per_share, 0.01)
    adjusted = np.round(per_share / bars.factor[slots], _AMOUNT_DECIMALS)
    return Dividends(bars.date[slots], adjusted, per_share)
