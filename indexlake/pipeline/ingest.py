"""Ingest: fetch a chunk from a source, land it in staging, and publish it into the lake.

Fetched rows are landed first as staging files (``<data_dir>/staging/<run_id>/...``) so that a
batch that fails validation is kept for inspection and never reaches the published lake.
Publishing replaces exactly the (symbols x dates) slice that was fetched, partition by
partition, so a re-run of the same range is idempotent and rows outside it are kept.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow.parquet as pq

from indexlake.calendar import trading_days
from indexlake.lake.partitions import (
    merge_range,
    read_partition,
    table_to_frame,
    to_table,
    write_file_atomic,
    write_partition,
)
from indexlake.lake.query import query_frame
from indexlake.lake.schemas import DATASETS, DIVIDENDS, MARKET_CAPS, PRICES
from indexlake.pipeline.landing_log import record_landed
from indexlake.sources.base import FetchResult, Source, SymbolError
from indexlake.sources.benchmark import fetch_benchmark

Mode = Literal["missing", "all"]


@dataclass
class StagedBatch:
    """One fetched chunk of one dataset, landed in staging and not yet published."""

    dataset: str
    start: date
    end: date
    symbols: list[str]
    path: Path
    rows: int
    errors: list[SymbolError] = field(default_factory=list)
    # For prices: the benchmark candidate that served (SPX, or an ETF when SPX was refused).
    benchmark: str | None = None

    @property
    def label(self) -> str:
        return f"{self.start}..{self.end}"

    @property
    def replace_symbols(self) -> list[str]:
        """Symbols whose slice may be replaced: those fetched without an error."""
        failed = {e.symbol for e in self.errors}
        return [s for s in self.symbols if s not in failed]


def staging_dir(data_dir: Path, run_id: str) -> Path:
    """Where one run lands its fetched batches before validation."""
    return Path(data_dir) / "staging" / run_id


def chunk_landed(lake_root: Path, symbols: list[str], start: date, end: date) -> bool:
    """True if prices and market caps of ``symbols`` cover every trading day of [start, end]."""
    sessions = len(trading_days(start, end))
    landed = query_frame(
        lake_root, "landed_dates", {"symbols": symbols, "start": start, "end": end}
    ).iloc[0]
    return bool(landed["price_dates"] >= sessions and landed["market_cap_dates"] >= sessions)


def latest_landed_date(lake_root: Path) -> date | None:
    """The last date with landed prices, or None on an empty lake."""
    last = query_frame(lake_root, "latest_landed_date")["last_date"].iloc[0]
    return None if pd.isna(last) else pd.Timestamp(last).date()


def _stage(frame: pd.DataFrame, dataset: str, path: Path) -> int:
    table = to_table(frame, DATASETS[dataset])
    write_file_atomic(table, path, scratch=True)
    return table.num_rows


def ingest_chunk(
    source: Source,
    data_dir: Path,
    run_id: str,
    symbols: list[str],
    benchmarks: str | Sequence[str],
    start: date,
    end: date,
    *,
    dividends: bool = True,
) -> list[StagedBatch]:
    """Fetch prices (symbols + benchmark), market caps and dividends (symbols, when the source
    serves them and ``dividends`` is on) and land them in staging.

    ``benchmarks`` are candidates tried in order (SPX, then ETFs tracking it); the prices
    batch records which one served in ``StagedBatch.benchmark``.
    """
    candidates = (benchmarks,) if isinstance(benchmarks, str) else tuple(benchmarks)
    stage = staging_dir(data_dir, run_id)
    label = f"{start}_{end}"
    members = [s for s in symbols if s not in candidates]
    fetch_dividends = getattr(source, "fetch_dividends", None)
    per_symbol: list[tuple[str, Callable[..., FetchResult]]] = []
    if members:
        per_symbol.append((MARKET_CAPS.name, source.fetch_market_caps))
        if dividends and fetch_dividends is not None:
            per_symbol.append((DIVIDENDS.name, fetch_dividends))
    prices = source.fetch_prices(members, start, end) if members else None
    bench, served = fetch_benchmark(source, start, end, candidates)
    frames = [r.frame for r in (prices, bench) if r is not None and not r.frame.empty]
    price_frame = pd.concat(frames, ignore_index=True) if frames else bench.frame
    path = stage / PRICES.name / f"{label}.parquet"
    batches = [
        StagedBatch(
            dataset=PRICES.name,
            start=start,
            end=end,
            symbols=[*members, served],
            path=path,
            rows=_stage(price_frame, PRICES.name, path),
            errors=[*(prices.errors if prices else []), *bench.errors],
            benchmark=served,
        )
    ]
    del frames, price_frame, prices  # one dataset's frames in memory at a time
    for name, fetch in per_symbol:
        result = fetch(members, start, end)
        path = stage / name / f"{label}.parquet"
        batches.append(
            StagedBatch(
                dataset=name,
                start=start,
                end=end,
                symbols=members,
                path=path,
                rows=_stage(result.frame, name, path),
                errors=list(result.errors),
            )
        )
    return batches


def read_staged(batch: StagedBatch) -> pd.DataFrame:
    """The staged rows of a batch, typed as the dataset."""
    return table_to_frame(pq.read_table(batch.path, schema=DATASETS[batch.dataset].schema))


def publish_batch(lake_root: Path, batch: StagedBatch) -> int:
    """Merge a validated batch into its year partitions; returns rows written."""
    dataset = DATASETS[batch.dataset]
    frame = read_staged(batch)
    frame = frame[frame["symbol"].isin(batch.replace_symbols)]
    row_years = pd.to_datetime(frame["date"]).dt.year.to_numpy()
    years = range(batch.start.year, batch.end.year + 1)
    for year in years:
        lo, hi = max(batch.start, date(year, 1, 1)), min(batch.end, date(year, 12, 31))
        part = frame[row_years == year]
        existing = read_partition(lake_root, dataset, year)
        if existing.empty and part.empty:
            continue
        merged = merge_range(existing, part, batch.replace_symbols, lo, hi)
        write_partition(lake_root, dataset, year, merged)
    record_landed(lake_root, batch.dataset, batch.replace_symbols, batch.start, batch.end)
    return len(frame)


def clear_staging(data_dir: Path, run_id: str) -> None:
    """Remove a run's staging files once everything in them is published."""
    shutil.rmtree(staging_dir(data_dir, run_id), ignore_errors=True)
