"""The `Source` interface and the long frames every source returns (prices, market caps)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PRICE_COLUMNS: tuple[str, ...] = ("date", "symbol", "open", "high", "low", "close", "volume")
MARKET_CAP_COLUMNS: tuple[str, ...] = ("date", "symbol", "market_cap", "source")
PRICE_FIELDS: tuple[str, ...] = ("open", "high", "low", "close")
# `source` value for caps read from the vendor's /market_cap endpoint.
MARKET_CAP_SOURCE = "market_cap"
# `source` values for caps computed as close x shares outstanding, the shares coming from the
# vendor's /statistics endpoint or from a share count in the settings.
STATISTICS_SOURCE = "statistics"
CONFIGURED_SOURCE = "configured"
KEY = ["symbol", "date"]


@dataclass(frozen=True)
class SymbolError:
    """One symbol's failure (vendor error code and message) that did not stop the others."""

    symbol: str
    code: int
    message: str


@dataclass
class FetchResult:
    """Rows fetched for many symbols, the per-symbol failures, and the HTTP requests it took."""

    frame: pd.DataFrame
    errors: list[SymbolError] = field(default_factory=list)
    requests: int = 0


@runtime_checkable
class Source(Protocol):
    """Somewhere daily prices and market caps come from (vendor, sandbox, files)."""

    name: str

    def fetch_prices(self, symbols: Sequence[str], start: date, end: date) -> FetchResult: ...

    def fetch_market_caps(self, symbols: Sequence[str], start: date, end: date) -> FetchResult: ...

    def close(self) -> None: ...


def empty_prices() -> pd.DataFrame:
    """A prices frame with no rows and the contract's columns and dtypes."""
    return _typed_prices(
        {
            "date": np.array([], dtype="datetime64[ns]"),
            "symbol": np.array([], dtype=object),
            **{f: np.array([], dtype="float64") for f in PRICE_FIELDS},
            "volume": np.array([], dtype="int64"),
        }
    )


def empty_market_caps() -> pd.DataFrame:
    """A market caps frame with no rows and the contract's columns and dtypes."""
    return _typed_market_caps(
        {
            "date": np.array([], dtype="datetime64[ns]"),
            "symbol": np.array([], dtype=object),
            "market_cap": np.array([], dtype="float64"),
            "source": np.array([], dtype=object),
        }
    )


def _typed_prices(columns: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(columns, columns=list(PRICE_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["symbol"] = frame["symbol"].astype(str)
    for name in PRICE_FIELDS:
        frame[name] = frame[name].astype("float64")
    frame["volume"] = frame["volume"].astype("Int64")
    return frame


def _typed_market_caps(columns: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(columns, columns=list(MARKET_CAP_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["symbol"] = frame["symbol"].astype(str)
    frame["market_cap"] = frame["market_cap"].astype("float64")
    frame["source"] = frame["source"].astype(str)
    return frame


def _tidy(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Rows inside [start, end], sorted by key. A (symbol, date) repeated with identical values
    (overlapping windows, vendor repeats) is kept once; repeated with *different* values, every
    distinct row is kept in vendor order: which one is right cannot be decided here, so the
    conflict reaches validation (the key's uniqueness check) instead of being silently lost."""
    if frame.empty:
        return frame.reset_index(drop=True)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    frame = frame[(frame["date"] >= lo) & (frame["date"] <= hi)]
    order, repeated = _key_order(frame)
    if not repeated:  # the usual case, sorted without pandas' (slow) string factorising
        return frame.take(order).reset_index(drop=True)
    frame = frame.drop_duplicates(keep="first")
    return frame.sort_values(KEY, kind="stable").reset_index(drop=True)


def _key_order(frame: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """The stable (symbol, date) sort order of ``frame`` and whether any key repeats."""
    symbols = pa.array(frame["symbol"], type=pa.string())
    if isinstance(symbols, pa.ChunkedArray):
        symbols = symbols.combine_chunks()
    encoded = pc.dictionary_encode(symbols)
    names = encoded.dictionary.to_numpy(zero_copy_only=False)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    days = frame["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((days, codes))
    same = (np.diff(codes[order]) == 0) & (np.diff(days[order]) == 0)
    return order, bool(same.any())


def normalise_prices(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Prices in contract form: typed columns, inclusive range, de-duplicated, sorted."""
    if frame.empty:
        return empty_prices()
    return _tidy(_typed_prices({c: frame[c] for c in PRICE_COLUMNS}), start, end)


def normalise_market_caps(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Market caps in contract form: typed columns, inclusive range, de-duplicated, sorted."""
    if frame.empty:
        return empty_market_caps()
    return _tidy(_typed_market_caps({c: frame[c] for c in MARKET_CAP_COLUMNS}), start, end)


DIVIDEND_COLUMNS: tuple[str, ...] = ("date", "symbol", "amount")


def empty_dividends() -> pd.DataFrame:
    """A dividends frame with no rows and the contract's columns and dtypes."""
    return _typed_dividends(
        {
            "date": np.array([], dtype="datetime64[ns]"),
            "symbol": np.array([], dtype=object),
            "amount": np.array([], dtype="float64"),
        }
    )


def _typed_dividends(columns: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(columns, columns=list(DIVIDEND_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["symbol"] = frame["symbol"].astype(str)
    frame["amount"] = frame["amount"].astype("float64")
    return frame


def normalise_dividends(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Dividends (``date`` = ex-date) in contract form: typed, inclusive range, sorted by key."""
    if frame.empty:
        return empty_dividends()
    return _tidy(_typed_dividends({c: frame[c] for c in DIVIDEND_COLUMNS}), start, end)
