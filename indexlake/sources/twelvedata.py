"""Twelve Data REST client (or any server speaking its protocol, such as the sandbox).

The key travels only in the `Authorization: apikey <key>` header: never in URLs, logs or repr.
Errors are decided by the body's `code` when `status == "error"`, else by the HTTP status.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx
import orjson
import pandas as pd
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from indexlake.calendar import trading_days
from indexlake.sources.base import (
    MARKET_CAP_SOURCE,
    FetchResult,
    SymbolError,
    normalise_market_caps,
    normalise_prices,
)
from indexlake.sources.errors import (
    AuthError,
    BadRequestError,
    DailyLimitError,
    MinuteLimitError,
    PlanError,
    ServerError,
    TwelveDataError,
    classify,
    is_fatal,
    is_no_data,
    is_retryable,
)
from indexlake.sources.market_cap_chain import market_caps_with_fallback
from indexlake.sources.parsing import columnar_series, market_cap_rows, price_rows

__all__ = [
    "AuthError",
    "BadRequestError",
    "DailyLimitError",
    "MinuteLimitError",
    "PlanError",
    "ServerError",
    "TwelveDataClient",
    "TwelveDataError",
    "TwelveDataSource",
]

MAX_OUTPUTSIZE = 5000  # bars per time series request, the vendor's ceiling
# Successful time series bodies above this size are parsed column-wise by Arrow.
COLUMNAR_MIN_BYTES = 256 * 1024
# Credits per symbol and request.
COST_TIME_SERIES, COST_MARKET_CAP, COST_STATISTICS = 1, 5, 50
T = TypeVar("T")
R = TypeVar("R")


class _Pacer:
    """Spends credits within a rolling minute so a well-configured run never sees a 429."""

    def __init__(self, per_minute: int | None, minute_seconds: float = 60.0) -> None:
        self.per_minute, self.minute_seconds = per_minute, minute_seconds
        self._spent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def acquire(self, cost: int) -> None:
        if not self.per_minute:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                while self._spent and now - self._spent[0][0] >= self.minute_seconds:
                    self._spent.popleft()
                used = sum(c for _, c in self._spent)
                # A request dearer than the whole budget goes once the window is empty.
                if not self._spent or used + cost <= self.per_minute:
                    self._spent.append((now, cost))
                    return
                wait = self.minute_seconds - (now - self._spent[0][0])
            time.sleep(max(wait, 0.01))


class TwelveDataClient:
    """Typed access to /time_series, /market_cap and /statistics with batching and retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        batch_size: int = 120,
        timeout: float = 30.0,
        max_attempts: int = 5,
        transport: httpx.BaseTransport | None = None,
        window_bars: int = 4800,
        max_workers: int = 4,
        credits_per_minute: int | None = None,
        backoff_base: float = 0.1,
        backoff_max: float = 10.0,
        minute_seconds: float = 60.0,
    ) -> None:
        if not 1 <= batch_size <= 120:
            raise ValueError("batch_size must be between 1 and 120")
        if not 2 <= window_bars <= MAX_OUTPUTSIZE:
            raise ValueError(f"window_bars must be between 2 and {MAX_OUTPUTSIZE}")
        # Pacing to a tiny budget also caps the batch: a batch costs a credit per symbol.
        self.batch_size = min(batch_size, credits_per_minute or batch_size)
        self.window_bars = window_bars
        self.columnar_bytes = COLUMNAR_MIN_BYTES
        self.max_attempts = max_attempts
        self.max_workers = max_workers
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.minute_seconds = minute_seconds
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"apikey {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self._pacer = _Pacer(credits_per_minute, minute_seconds)
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests made, retries included
        self.credits_left: int | None = None  # from the optional `api-credits-left` header
        # /statistics answers (or refusals) by symbol: 50 credits each, asked once per client.
        self._statistics: dict[str, dict | TwelveDataError] = {}

    def __repr__(self) -> str:
        return f"TwelveDataClient(base_url={self.base_url!r})"

    # ---- transport --------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=self.backoff_base, max=self.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        # A minute limit clears only when the vendor's minute rolls over.
        return max(backoff, self.minute_seconds) if isinstance(exc, MinuteLimitError) else backoff

    def _get(
        self, path: str, params: dict[str, Any], cost: int, *, raw_above: int | None = None
    ) -> Any:
        """One GET with pacing and retries; the JSON body (or its bytes, when a successful body
        is larger than `raw_above`: error bodies are tiny), else raises TwelveDataError."""

        def attempt() -> Any:
            self._pacer.acquire(cost)
            with self._lock:
                self.requests += 1
            response = self._http.get(path, params=params)
            if (
                raw_above is not None
                and response.status_code < 400
                and len(response.content) > raw_above
                and response.content[:1] == b"{"
            ):
                return response.content
            return self._decode(response)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            reraise=True,
        )
        return retrying(attempt)

    def _decode(self, response: httpx.Response) -> Any:
        left = response.headers.get("api-credits-left")
        if left is not None and left.isdigit():
            self.credits_left = int(left)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            status = response.status_code
            snippet = response.text[:80].replace("\n", " ")
            raise ServerError(
                status if status >= 500 else 502, f"non-JSON answer: {snippet}"
            ) from None
        if isinstance(body, dict) and body.get("status") == "error":
            raise classify(int(body.get("code") or response.status_code), str(body.get("message")))
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise classify(response.status_code, str(message or response.reason_phrase))
        return body

    def _map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over items on a small thread pool, results in input order."""
        if len(items) <= 1 or self.max_workers <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(self.max_workers) as pool:
            return list(pool.map(fn, items))

    # ---- time series ------------------------------------------------------------------------
    def _windows(self, start: date, end: date) -> list[tuple[date, date]]:
        """Date windows of at most `window_bars` sessions that overlap by one session."""
        sessions = trading_days(start, end)
        if len(sessions) <= self.window_bars:
            return [(start, end)]
        step = self.window_bars - 1
        out = []
        for k in range(0, len(sessions) - 1, step):
            chunk = sessions[k : k + self.window_bars]
            out.append((chunk[0].date(), chunk[-1].date()))
        out[0] = (start, out[0][1])
        out[-1] = (out[-1][0], end)
        return out

    def _time_series_call(
        self, job: tuple[tuple[str, ...], date, date]
    ) -> tuple[list[pd.DataFrame], list[SymbolError]]:
        batch, lo, hi = job
        params = {
            "symbol": ",".join(batch),
            "interval": "1day",
            "start_date": lo.isoformat(),
            # Asking one day past the end works whether the vendor's end is inclusive or not.
            "end_date": (hi + timedelta(days=1)).isoformat(),
            "outputsize": MAX_OUTPUTSIZE,
            "order": "asc",
            "timezone": "Exchange",
        }
        try:
            body = self._get(
                "/time_series", params, COST_TIME_SERIES * len(batch), raw_above=self.columnar_bytes
            )
        except TwelveDataError as exc:
            if is_fatal(exc):
                raise
            if len(batch) == 1 and is_no_data(exc.code, exc.message):
                return [], []
            return [], [SymbolError(s, exc.code, exc.message) for s in batch]
        if isinstance(body, bytes):
            parsed = columnar_series(body, batch)
            if parsed is not None:
                frame, raw_errors = parsed
                errors = [SymbolError(*e) for e in raw_errors if not is_no_data(e[1], e[2])]
                return ([frame] if frame is not None else []), errors
            body = orjson.loads(body)
        if len(batch) == 1:
            body = {batch[0]: body}
        found: list[tuple[str, list[dict]]] = []
        errors: list[SymbolError] = []
        for symbol in batch:
            item = body.get(symbol) if isinstance(body, dict) else None
            if not isinstance(item, dict):
                errors.append(SymbolError(symbol, 0, "missing from the batch response"))
            elif item.get("status") == "error":
                code, message = int(item.get("code") or 0), str(item.get("message"))
                if not is_no_data(code, message):
                    errors.append(SymbolError(symbol, code, message))
            else:
                found.append((symbol, item.get("values") or []))
        return ([price_rows(found)] if found else []), errors

    def time_series(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily OHLCV for symbols over [start, end] (inclusive), batched and windowed."""
        unique = list(dict.fromkeys(symbols))
        before = self.requests
        if not unique or end < start:
            return FetchResult(normalise_prices(pd.DataFrame(), start, end), [], 0)
        batches = [
            tuple(unique[i : i + self.batch_size]) for i in range(0, len(unique), self.batch_size)
        ]
        jobs = [(b, lo, hi) for b in batches for lo, hi in self._windows(start, end)]
        results = self._map(self._time_series_call, jobs)
        frames = [f for found, _ in results for f in found]
        errors = _first_error_per_symbol(e for _, errs in results for e in errs)
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return FetchResult(normalise_prices(frame, start, end), errors, self.requests - before)

    # ---- market caps and statistics ---------------------------------------------------------
    def _market_cap_symbol(
        self, job: tuple[str, date, date]
    ) -> tuple[pd.DataFrame | None, SymbolError | None]:
        symbol, start, end = job
        pages: list[pd.DataFrame] = []
        page = 1
        while True:
            params = {
                "symbol": symbol,
                "start_date": start.isoformat(),
                "end_date": (end + timedelta(days=1)).isoformat(),
                "page": page,
                "outputsize": MAX_OUTPUTSIZE,
            }
            try:
                body = self._get("/market_cap", params, COST_MARKET_CAP)
            except TwelveDataError as exc:
                if is_fatal(exc):
                    raise
                if is_no_data(exc.code, exc.message):
                    break
                return None, SymbolError(symbol, exc.code, exc.message)
            rows = body.get("market_cap") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                return None, SymbolError(symbol, 0, "response has no market_cap list")
            if rows:
                pages.append(market_cap_rows(symbol, rows, MARKET_CAP_SOURCE))
            if len(rows) < MAX_OUTPUTSIZE:
                break
            page += 1
        return (pd.concat(pages, ignore_index=True) if pages else None), None

    def market_caps(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily market caps in USD from /market_cap, one symbol per request, paginated."""
        unique = list(dict.fromkeys(symbols))
        before = self.requests
        if not unique or end < start:
            return FetchResult(normalise_market_caps(pd.DataFrame(), start, end), [], 0)
        results = self._map(self._market_cap_symbol, [(s, start, end) for s in unique])
        frames = [f for f, _ in results if f is not None]
        errors = [e for _, e in results if e is not None]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return FetchResult(normalise_market_caps(frame, start, end), errors, self.requests - before)

    def statistics(self, symbol: str) -> dict:
        """The /statistics body (`statistics.stock_statistics.shares_outstanding`, ...), asked
        once per symbol for this client's life; a refusal (plan, bad symbol) is kept too."""
        with self._lock:
            cached = self._statistics.get(symbol)
        if cached is None:
            try:
                cached = self._get("/statistics", {"symbol": symbol}, COST_STATISTICS)
            except TwelveDataError as exc:
                exc.symbol = exc.symbol or symbol
                # Limits and transient failures may clear later in the run: do not keep them.
                if is_fatal(exc) or is_retryable(exc):
                    raise
                cached = exc
            with self._lock:
                self._statistics[symbol] = cached
        if isinstance(cached, TwelveDataError):
            raise cached
        return cached

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TwelveDataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_error_per_symbol(errors: Iterable[SymbolError]) -> list[SymbolError]:
    """One error per symbol (windows repeat them), in first-seen order."""
    seen: dict[str, SymbolError] = {}
    for e in errors:
        seen.setdefault(e.symbol, e)
    return list(seen.values())


class TwelveDataSource:
    """The `Source` over a Twelve Data compatible server (`name` says which one)."""

    def __init__(
        self,
        client: TwelveDataClient,
        *,
        name: str = "twelvedata",
        shares_outstanding: Mapping[str, float] | None = None,
    ) -> None:
        self.client = client
        self.name = name
        # Last resort of the market cap chain: a share count by symbol.
        self.shares_outstanding = dict(shares_outstanding or {})

    def __repr__(self) -> str:
        return f"TwelveDataSource(name={self.name!r}, client={self.client!r})"

    def fetch_prices(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily split-adjusted OHLCV from /time_series."""
        return self.client.time_series(symbols, start, end)

    def fetch_market_caps(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily market caps from /market_cap, else close x shares from /statistics, else close
        x the configured share count (`source` = market_cap | statistics | configured)."""
        return market_caps_with_fallback(self.client, symbols, start, end, self.shares_outstanding)

    def close(self) -> None:
        self.client.close()
