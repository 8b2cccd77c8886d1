"""The landing log: which (dataset, symbol, date range) slices were fetched, validated and
published, kept as merged intervals in ``<lake>/_state/landed.parquet``.

A published batch replaces the slice ``replace_symbols x [start, end]`` of its dataset after
its suite passed, so an interval here means "asked the source for this range and published
what came back" — including ranges where the symbol had no rows (not yet listed, delisted, no
dividend). That is what lets a daily run fetch each symbol only from where it stopped, and a
backfill in ``missing`` mode skip years already landed and validated, without re-asking the
source about a delisted symbol every day. The file is bookkeeping, not a dataset: readers of
the lake never see it (they scan dataset directories only).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from indexlake.calendar import trading_days
from indexlake.lake.partitions import write_file_atomic

LOG_FILE = Path("_state") / "landed.parquet"
SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("symbol", pa.string()),
        ("start", pa.date32()),
        ("end", pa.date32()),
    ]
)
Interval = tuple[date, date]


def log_path(lake_root: Path) -> Path:
    return Path(lake_root) / LOG_FILE


def read_log(lake_root: Path) -> pd.DataFrame:
    """Every landed interval (``dataset``, ``symbol``, ``start``, ``end`` as dates)."""
    path = log_path(lake_root)
    if not path.exists():
        return SCHEMA.empty_table().to_pandas()
    try:
        table = pq.read_table(path, schema=SCHEMA)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"landing log {path} is unreadable: {exc}") from exc
    return table.to_pandas(date_as_object=True)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals; two join when no trading day lies between them."""
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out:
            prev_lo, prev_hi = out[-1]
            gap_lo = prev_hi + timedelta(days=1)
            if lo <= gap_lo or len(trading_days(gap_lo, lo - timedelta(days=1))) == 0:
                out[-1] = (prev_lo, max(prev_hi, hi))
                continue
        out.append((lo, hi))
    return out


def record_landed(
    lake_root: Path, dataset: str, symbols: Iterable[str], start: date, end: date
) -> None:
    """Add ``symbols x [start, end]`` of ``dataset`` to the log (atomic rewrite, merged)."""
    symbols = list(dict.fromkeys(symbols))
    if not symbols or end < start:
        return
    log = read_log(lake_root)
    wanted = set(symbols)
    touched = log["dataset"].eq(dataset).to_numpy() & log["symbol"].isin(wanted).to_numpy()
    spans: dict[str, list[Interval]] = {s: [(start, end)] for s in symbols}
    for symbol, lo, hi in zip(
        log["symbol"].to_numpy()[touched],
        log["start"].to_numpy()[touched],
        log["end"].to_numpy()[touched],
        strict=True,
    ):
        spans[symbol].append((lo, hi))
    # One merge per distinct set of spans: in a backfill every symbol has the same ones.
    merged_of: dict[tuple[Interval, ...], list[Interval]] = {}
    out_symbols: list[str] = []
    out_starts: list[date] = []
    out_ends: list[date] = []
    for symbol, found in spans.items():
        key = tuple(sorted(found))
        merged = merged_of.get(key)
        if merged is None:
            merged = merged_of[key] = _merge(key)
        out_symbols += [symbol] * len(merged)
        out_starts += [a for a, _ in merged]
        out_ends += [b for _, b in merged]
    out = pd.DataFrame(
        {"dataset": dataset, "symbol": out_symbols, "start": out_starts, "end": out_ends}
    )
    if not touched.all():
        out = pd.concat([log.loc[~touched], out], ignore_index=True)
    out = out.sort_values(["dataset", "symbol", "start"])
    table = pa.Table.from_pandas(out.reset_index(drop=True), schema=SCHEMA, preserve_index=False)
    write_file_atomic(table, log_path(lake_root))


def intervals(log: pd.DataFrame, dataset: str, symbol: str) -> list[Interval]:
    """The merged landed intervals of one symbol in one dataset."""
    part = log[log["dataset"].eq(dataset) & log["symbol"].eq(symbol)]
    return _merge(zip(part["start"], part["end"], strict=True))


def covers(spans: list[Interval], start: date, end: date) -> bool:
    """Whether every trading day of [start, end] lies inside one of ``spans``."""
    for lo, hi in spans:
        if lo <= start and end <= hi:
            return True
    days = trading_days(start, end)
    if len(days) == 0:
        return True
    inside = pd.Series(False, index=days)
    for lo, hi in spans:
        inside |= (days >= pd.Timestamp(lo)) & (days <= pd.Timestamp(hi))
    return bool(inside.all())


def last_landed(log: pd.DataFrame, dataset: str, symbol: str) -> date | None:
    """The last day of the latest landed interval of ``symbol`` in ``dataset`` (None if none)."""
    part = log[log["dataset"].eq(dataset) & log["symbol"].eq(symbol)]
    return None if part.empty else max(part["end"])
