"""What a run fetches: per-symbol ranges for the daily refresh, missing years for a backfill.

* Daily refresh (``refresh_jobs``): each symbol resumes the day after its own last landed date
  (prices and market caps both; the landing log first, else the lake's dates), so a symbol
  that fell behind gets its own longer range while up-to-date ones fetch one day. Symbols
  with the same resume date share requests.
* Backfill (``backfill_jobs``): mode ``all`` fetches every chunk; mode ``missing`` drops the
  calendar years already landed and validated for every requested symbol (by the landing log,
  which only published — so validated — batches write; a lake without a log falls back to
  ``chunk_landed``) and fetches the rest in chunks of up to ``chunk_years`` years.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from indexlake.calendar import trading_days
from indexlake.lake.query import query_frame
from indexlake.lake.schemas import MARKET_CAPS, PRICES
from indexlake.pipeline.ingest import Mode, chunk_landed
from indexlake.pipeline.landing_log import covers, intervals, last_landed, read_log
from indexlake.pipeline.ranges import year_chunks

# The datasets a symbol needs landed to count as landed on a day (dividends are sparse).
TRACKED = (PRICES.name, MARKET_CAPS.name)


@dataclass(frozen=True)
class FetchJob:
    """Fetch ``symbols`` (the benchmark always comes along) over [start, end]."""

    symbols: list[str]
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start}..{self.end}"


def _sessions(start: date, end: date) -> int:
    return len(trading_days(start, end)) if start <= end else 0


def symbol_last_dates(lake_root: Path, symbols: Sequence[str]) -> dict[str, date | None]:
    """Each symbol's last landed date in both prices and market caps (landing log first, else
    the lake's dates; None when it has none)."""
    log = read_log(lake_root)
    out: dict[str, date | None] = {}
    unknown = []
    for s in symbols:
        ends = [last_landed(log, d, s) for d in TRACKED]
        if all(e is not None for e in ends):
            out[s] = min(ends)  # type: ignore[type-var]
        else:
            unknown.append(s)
    if unknown:
        lake = query_frame(lake_root, "landed_through", {"symbols": unknown})
        found = {
            row.symbol: min(pd.Timestamp(row.last_price), pd.Timestamp(row.last_market_cap)).date()
            for row in lake.itertuples()
            if pd.notna(row.last_price) and pd.notna(row.last_market_cap)
        }
        out.update({s: found.get(s) for s in unknown})
    return out


def benchmark_last_date(lake_root: Path, candidates: Sequence[str]) -> date | None:
    """The last landed price date of whichever benchmark candidate landed furthest."""
    log = read_log(lake_root)
    ends = [last_landed(log, PRICES.name, c) for c in candidates]
    lake = query_frame(lake_root, "landed_through", {"symbols": list(candidates)})
    ends += [pd.Timestamp(v).date() for v in lake["last_price"] if pd.notna(v)]
    ends = [e for e in ends if e is not None]
    return max(ends) if ends else None


def refresh_jobs(
    lake_root: Path,
    symbols: Sequence[str],
    benchmarks: Sequence[str],
    history_start: date,
    latest: date,
    chunk_years: int,
) -> list[FetchJob]:
    """The daily refresh's fetches: each symbol from the day after its last landed date (never
    before ``history_start``) to ``latest``; symbols sharing a resume date share jobs."""
    resume: dict[date, list[str]] = {}
    for symbol, last in symbol_last_dates(lake_root, symbols).items():
        start = max(last + timedelta(days=1), history_start) if last else history_start
        if _sessions(start, latest):
            resume.setdefault(start, []).append(symbol)
    jobs = [
        FetchJob(group, lo, hi)
        for start, group in sorted(resume.items())
        for lo, hi in year_chunks(start, latest, chunk_years)
        if _sessions(lo, hi)
    ]
    # The benchmark comes with every job; alone when it lags behind all of them.
    last = benchmark_last_date(lake_root, benchmarks)
    bench_start = max(last + timedelta(days=1), history_start) if last else history_start
    first = min((j.start for j in jobs), default=latest + timedelta(days=1))
    if bench_start < first:
        stop = min(first - timedelta(days=1), latest)
        alone = [
            FetchJob([], lo, hi)
            for lo, hi in year_chunks(bench_start, stop, chunk_years)
            if _sessions(lo, hi)
        ]
        jobs = alone + jobs
    return jobs


def year_landed(
    lake_root: Path, log: pd.DataFrame, symbols: Sequence[str], start: date, end: date
) -> bool:
    """Whether prices and market caps of every symbol are landed (and so validated) on every
    trading day of [start, end]."""
    if log.empty:
        return chunk_landed(lake_root, list(symbols), start, end)
    return all(covers(intervals(log, d, s), start, end) for d in TRACKED for s in symbols)


def backfill_jobs(
    lake_root: Path,
    symbols: Sequence[str],
    start: date,
    end: date,
    chunk_years: int,
    mode: Mode,
) -> list[FetchJob]:
    """The backfill's fetches over [start, end]: every chunk (``all``) or the chunks of the
    calendar years not yet landed and validated (``missing``)."""
    symbols = list(symbols)
    if mode == "all":
        chunks = year_chunks(start, end, chunk_years)
        return [FetchJob(symbols, lo, hi) for lo, hi in chunks if _sessions(lo, hi)]
    log = read_log(lake_root)
    todo = [
        (lo, hi)
        for lo, hi in year_chunks(start, end, 1)
        if _sessions(lo, hi) and not year_landed(lake_root, log, symbols, lo, hi)
    ]
    # Consecutive missing years join into chunks of up to `chunk_years` years.
    runs: list[list[tuple[date, date]]] = []
    for lo, hi in todo:
        last = runs[-1] if runs else None
        if last and last[-1][1].year + 1 == lo.year and len(last) < chunk_years:
            last.append((lo, hi))
        else:
            runs.append([(lo, hi)])
    return [FetchJob(symbols, run[0][0], run[-1][1]) for run in runs]
