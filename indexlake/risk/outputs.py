"""The ``rolling_series`` and ``stress_tests`` dataset rows for one strategy and its benchmark.

Both take the level frame of :func:`indexlake.risk.report.aligned_levels` (columns strategy
and benchmark on their common dates), so they measure the same returns as ``risk_metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from indexlake.lake.schemas import ROLLING_SERIES, STRESS_TESTS
from indexlake.risk.report import SUBJECT_BENCHMARK, SUBJECT_STRATEGY, aligned_returns
from indexlake.risk.rolling import rolling_series
from indexlake.risk.settings import StressWindow
from indexlake.risk.stress import WORST_PERIOD_HORIZONS, worst_periods

# Values of stress_tests.test and .coverage.
TEST_WORST_PERIOD = "worst_period"
TEST_HISTORICAL = "historical_window"
TEST_BETA_SHOCK = "beta_shock"
TEST_SECTOR_SHOCK = "sector_shock"
COVERED = "covered"
PARTIAL = "partial"
ABSENT = "absent"
# Sector-shock row holding the weight of the names without a sector label.
UNLABELLED = "unlabelled"
# Beta of the beta shocks: the trailing year when it has one, else the full period.
BETA_WINDOWS = ("trailing_252d", "full")


def rolling_rows(
    levels: pd.DataFrame, *, benchmark_symbol: str, returns: pd.DataFrame | None = None
) -> pd.DataFrame:
    """ROLLING_SERIES rows: rolling vol/beta and drawdown of both subjects per return date.

    ``returns`` are the returns of ``levels`` when already at hand.
    """
    returns = aligned_returns(levels) if returns is None else returns
    long = rolling_series(returns, returns[SUBJECT_BENCHMARK])
    subject = long["series"].to_numpy()
    return pd.DataFrame(
        {
            "date": pd.DatetimeIndex(long["date"]),
            "subject": subject,
            "symbol": np.where(subject == SUBJECT_BENCHMARK, benchmark_symbol, None),
            **{c: long[c].to_numpy() for c in ROLLING_SERIES.columns[3:]},
        }
    )


Row = tuple[object, ...]  # one STRESS_TESTS row, in column order


def _day(value: object) -> object:
    """A timestamp as ``datetime.date`` (None for None/NaT), for Arrow date32 columns."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _worst_rows(returns: pd.DataFrame, horizons: tuple[int, ...]) -> list[Row]:
    worst = worst_periods(returns, horizons)
    lives = returns.notna().sum()
    rows: list[Row] = []
    for name, h, start, end, move in worst.itertuples(index=False):
        found = not np.isnan(move)
        detail = (
            f"worst {h} consecutive returns"
            if found
            else f"{int(lives[name])} returns in history, fewer than {h}"
        )
        coverage = COVERED if found else ABSENT
        rows.append(
            (
                TEST_WORST_PERIOD,
                f"worst_{h}d",
                name,
                _day(start),
                _day(end),
                coverage,
                np.nan,
                np.nan,
                float(move),
                detail,
            )
        )
    return rows


def _historical_rows(levels: pd.DataFrame, windows: Sequence[StressWindow]) -> list[Row]:
    """Each named window replayed close to close on both subjects, or why it could not be."""
    rows: list[Row] = []
    dates = levels.index
    values = levels.to_numpy(dtype=np.float64)
    first, last = (dates[0], dates[-1]) if len(dates) else (None, None)
    held = f"{first.date()}..{last.date()}" if first is not None else "no dates"
    for window in windows:
        start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
        spans = first is not None and first <= start and last >= end
        overlaps = first is not None and first <= end and last >= start
        if spans:
            # Base: the last close on or before the start; final: the same for the end.
            base = int(dates.searchsorted(start, side="right")) - 1
            final = int(dates.searchsorted(end, side="right")) - 1
            moves = values[final] / values[base] - 1.0
            detail = f"close {dates[base].date()} to close {dates[final].date()}"
        else:
            moves = np.full(len(levels.columns), np.nan)
            detail = f"levels cover {held}; the window is not replayed"
        coverage = COVERED if spans else PARTIAL if overlaps else ABSENT
        for subject, move in zip(levels.columns, moves, strict=True):
            rows.append(
                (
                    TEST_HISTORICAL,
                    window.name,
                    subject,
                    window.start,
                    window.end,
                    coverage,
                    np.nan,
                    np.nan,
                    float(move),
                    detail,
                )
            )
    return rows


def _beta_rows(risk: pd.DataFrame, shocks: Sequence[float]) -> list[Row]:
    """Strategy return ≈ β × benchmark shock, β from the published risk metrics."""
    subject = risk["subject"].to_numpy()
    window = risk["window"].to_numpy()
    betas = risk["beta"].to_numpy(dtype=np.float64)
    beta, used, start, end = np.nan, None, None, None
    for name in BETA_WINDOWS:
        at = np.flatnonzero((subject == SUBJECT_STRATEGY) & (window == name))
        if len(at) and np.isfinite(betas[at[0]]):
            i = int(at[0])
            beta, used = float(betas[i]), name
            start, end = _day(risk["start_date"].iloc[i]), _day(risk["end_date"].iloc[i])
            break
    detail = f"beta over {used}" if used else "no beta: too few returns or flat benchmark"
    coverage = COVERED if used else ABSENT
    return [
        (
            TEST_BETA_SHOCK,
            f"benchmark_{round(s * 100):+d}pct",
            SUBJECT_STRATEGY,
            start,
            end,
            coverage,
            float(s),
            beta,
            beta * float(s),
            detail,
        )
        for s in shocks
    ]


def _sector_rows(allocations: pd.DataFrame, sectors: Mapping[str, str], shock: float) -> list[Row]:
    """Strategy return when one sector's names all move by ``shock``, one row per sector.

    Exposure is the sector's weight in the latest published allocation (drifted weights). The
    weight of names without a label is reported as an ``unlabelled`` row with no return,
    never dropped: a missing label is not zero exposure.
    """
    if allocations.empty:
        return [
            (
                TEST_SECTOR_SHOCK,
                UNLABELLED,
                SUBJECT_STRATEGY,
                None,
                None,
                ABSENT,
                shock,
                np.nan,
                np.nan,
                "no allocations published",
            )
        ]
    dates = allocations["date"].to_numpy()
    latest = dates.max()
    today = np.flatnonzero(dates == latest)
    # Only the latest day's rows become Python strings (not every published row).
    symbols = allocations["symbol"].iloc[today].to_numpy().astype(str)
    weights = allocations["weight"].to_numpy(dtype=np.float64)[today]
    labels = np.array([sectors.get(s, "") for s in symbols], dtype=object)
    labelled = labels != ""
    names, where = np.unique(labels[labelled].astype(str), return_inverse=True)
    exposure = np.bincount(where, weights=weights[labelled], minlength=len(names))
    on = _day(latest)
    rows: list[Row] = [
        (
            TEST_SECTOR_SHOCK,
            str(name),
            SUBJECT_STRATEGY,
            on,
            on,
            COVERED,
            shock,
            float(e),
            float(e) * shock,
            f"weights on {on}",
        )
        for name, e in zip(names, exposure, strict=True)
    ]
    if not labelled.all():
        missing = sorted(symbols[~labelled])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        shown = ", ".join(missing[:10]) + more
        rows.append(
            (
                TEST_SECTOR_SHOCK,
                UNLABELLED,
                SUBJECT_STRATEGY,
                on,
                on,
                ABSENT,
                shock,
                float(weights[~labelled].sum()),
                np.nan,
                f"no sector label for {len(missing)} name(s): {shown}",
            )
        )
    return rows


def stress_rows(
    levels: pd.DataFrame,
    risk: pd.DataFrame,
    allocations: pd.DataFrame,
    *,
    windows: Sequence[StressWindow],
    benchmark_shocks: Sequence[float],
    sectors: Mapping[str, str],
    sector_shock: float,
    horizons: tuple[int, ...] = WORST_PERIOD_HORIZONS,
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """STRESS_TESTS rows: worst periods, named windows, beta shocks and sector shocks.

    ``levels`` is the aligned level frame (``returns``, its returns, if already at hand),
    ``risk`` the strategy's RISK_METRICS rows (for beta) and ``allocations`` its ALLOCATIONS
    rows (for sector weights). Every result is a simple return (negative = loss). A test that
    cannot run still has its row, with ``coverage`` ``absent`` (or ``partial`` for a window
    the data only overlaps) and a ``detail`` saying why.
    """
    rows = [
        *_worst_rows(aligned_returns(levels) if returns is None else returns, horizons),
        *_historical_rows(levels, windows),
        *_beta_rows(risk, benchmark_shocks),
        *_sector_rows(allocations, sectors, sector_shock),
    ]
    frame = pd.DataFrame(rows, columns=list(STRESS_TESTS.columns))
    return frame.astype({c: "float64" for c in ("shock", "exposure", "stressed_return")})
