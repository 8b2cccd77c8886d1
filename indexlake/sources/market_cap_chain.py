"""Market caps by the vendor's fallback chain: /market_cap, else close x shares outstanding from
/statistics, else close x a configured share count; every row says which in `source`.

Closes for the computed caps come from /time_series over the same window, fetched only for the
symbols that fall back (one credit per symbol, in one batched call). They are split-adjusted,
and a split-adjusted close times today's share count is the historical market cap whenever the
share count changed only through splits: the two adjustments cancel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from indexlake.sources.base import (
    CONFIGURED_SOURCE,
    STATISTICS_SOURCE,
    FetchResult,
    SymbolError,
    normalise_market_caps,
)
from indexlake.sources.errors import PlanError, TwelveDataError, classify, is_fatal

if TYPE_CHECKING:
    from indexlake.sources.twelvedata import TwelveDataClient


def is_plan_refusal(error: SymbolError) -> bool:
    """Whether a per-symbol error is the plan lacking access (403, or 400 "with your plan")."""
    return isinstance(classify(error.code, error.message), PlanError)


def shares_from_statistics(body: object) -> float | None:
    """`statistics.stock_statistics.shares_outstanding` of a /statistics body, if positive."""
    try:
        raw = body["statistics"]["stock_statistics"]["shares_outstanding"]  # type: ignore[index]
        shares = float(raw)
    except (KeyError, TypeError, ValueError):
        return None
    return shares if np.isfinite(shares) and shares > 0 else None


def _caps(symbol: str, closes: pd.DataFrame, shares: float, source: str) -> pd.DataFrame:
    """Close x shares for one symbol's closes (rows without a close have no cap)."""
    closes = closes.dropna(subset=["close"])
    return pd.DataFrame(
        {
            "date": closes["date"].to_numpy(),
            "symbol": symbol,
            "market_cap": closes["close"].to_numpy(dtype=np.float64) * shares,
            "source": source,
        }
    )


def _fallback(
    client: TwelveDataClient,
    symbol: str,
    closes: pd.DataFrame,
    close_error: SymbolError | None,
    refusal: SymbolError | None,
    configured: float | None,
) -> tuple[pd.DataFrame | None, SymbolError | None]:
    """One symbol's caps from /statistics, else configured shares, else an error naming all
    three attempts (its code is the first vendor error code among them)."""
    first = (
        f"/market_cap refused: [{refusal.code}] {refusal.message}"
        if refusal
        else "/market_cap returned no rows"
    )
    if close_error is not None:
        message = (
            f"{first}; /statistics and configured shares not tried, they need closes and "
            f"/time_series failed: [{close_error.code}] {close_error.message}"
        )
        code = refusal.code if refusal else close_error.code
        return None, SymbolError(symbol, code, f"no market cap for {symbol}: {message}")
    if closes.empty:
        return None, None  # no sessions in the window while listed: nothing to compute
    shares: float | None = None
    second, stats_code = "/statistics has no shares_outstanding", 0
    try:
        shares = shares_from_statistics(client.statistics(symbol))
    except TwelveDataError as exc:
        if is_fatal(exc):
            raise
        second, stats_code = f"/statistics failed: [{exc.code}] {exc.message}", exc.code
    if shares is not None:
        return _caps(symbol, closes, shares, STATISTICS_SOURCE), None
    if configured is not None:
        return _caps(symbol, closes, configured, CONFIGURED_SOURCE), None
    message = f"{first}; {second}; no configured share count"
    code = (refusal.code if refusal else 0) or stats_code
    return None, SymbolError(symbol, code, f"no market cap for {symbol}: {message}")


def market_caps_with_fallback(
    client: TwelveDataClient,
    symbols: Sequence[str],
    start: date,
    end: date,
    shares_outstanding: Mapping[str, float] | None = None,
) -> FetchResult:
    """Daily market caps over [start, end] by the fallback chain; `requests` counts them all.

    A symbol falls back when /market_cap refuses it for the plan or returns no rows; any other
    /market_cap error is reported as is. A symbol without closes in the window gets no rows.
    """
    unique = list(dict.fromkeys(symbols))
    before = client.requests
    primary = client.market_caps(unique, start, end)
    if not unique or end < start:
        return primary
    refused = {e.symbol: e for e in primary.errors if is_plan_refusal(e)}
    errors = [e for e in primary.errors if e.symbol not in refused]
    failed = {e.symbol for e in errors}
    served = set(primary.frame["symbol"].unique())
    todo = [s for s in unique if s in refused or (s not in served and s not in failed)]
    frames = [primary.frame]
    if todo:
        prices = client.time_series(todo, start, end)
        close_errors = {e.symbol: e for e in prices.errors}
        by_symbol = dict(iter(prices.frame.groupby("symbol", sort=False)))
        configured = shares_outstanding or {}
        empty = prices.frame.iloc[:0]
        # One symbol at a time: each /statistics call costs 50 credits, so pacing, not
        # concurrency, sets the pace.
        for symbol in todo:
            frame, error = _fallback(
                client,
                symbol,
                by_symbol.get(symbol, empty),
                close_errors.get(symbol),
                refused.get(symbol),
                configured.get(symbol),
            )
            if frame is not None:
                frames.append(frame)
            if error is not None:
                errors.append(error)
    frames = [f for f in frames if not f.empty]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order = {s: i for i, s in enumerate(unique)}
    errors.sort(key=lambda e: order.get(e.symbol, len(order)))
    return FetchResult(normalise_market_caps(frame, start, end), errors, client.requests - before)
