"""Twelve Data REST client (or any server speaking its protocol, such as the sandbox).

The key travels only in the `Authorization: apikey <key>` header: never in URLs, logs or repr.
Errors are decided by the body's `code` when `status == "error"`, else by the HTTP status.

Decisions (counted in `client.stats`):

- paced: every request first takes its credits (per symbol) from `CreditPacer` (per minute and
  per day, corrected by the `api-credits-used` / `api-credits-left` headers), so a run with the
  plan's limits configured never sees a 429;
- retried with exponential backoff and jitter: timeouts, connection errors, 5xx, non-JSON
  gateway pages, malformed or truncated JSON, spurious 404s, and 429-minute (the pacer then
  books the whole minute, so every thread waits for the next one). Failures and minute limits
  each have `max_attempts`;
- never retried: 400 / 401 / 403 / 414. 401 and 429-day stop the fetch; 429-day (or the
  configured daily budget) raises `DailyLimitError` saying when to resume (00:00 UTC);
- "No data is available on the specified dates" is an empty result;
- batches: one symbol's transient error inside a batch is retried alone; an unparseable value
  fails its own symbol (named with the row's date), never its neighbours;
- a plan-wide refusal of /market_cap or /statistics is remembered for the client's life (a run):
  later symbols and chunks go straight to the fallback;
- duplicate (symbol, date) rows: identical ones are kept once; rows that differ are all kept
  (vendor order) and counted, for validation to quarantine.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx
import orjson
import pandas as pd
from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_exponential_jitter

from indexlake.calendar import trading_days
from indexlake.sources.base import (
    KEY,
    MARKET_CAP_SOURCE,
    FetchResult,
    SymbolError,
    normalise_dividends,
    normalise_market_caps,
    normalise_prices,
)
from indexlake.sources.errors import (
    AuthError,
    BadRequestError,
    DailyLimitError,
    GatewayPageError,
    MalformedBodyError,
    MinuteLimitError,
    PayloadError,
    PlanError,
    ServerError,
    TwelveDataError,
    classify,
    daily_limit_stop,
    is_fatal,
    is_no_data,
    is_retryable,
    retry_kind,
)
from indexlake.sources.market_cap_chain import market_caps_with_fallback
from indexlake.sources.pacing import CreditPacer
from indexlake.sources.parsing import (
    MISSING,
    columnar_series,
    dividend_frame,
    market_cap_frame,
    price_rows,
)
from indexlake.sources.reference_cache import ReferenceCache

__all__ = [
    "AuthError",
    "BadRequestError",
    "ClientStats",
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
COST_DIVIDENDS = 20  # /dividends, per symbol and request
COST_PROFILE = 10
T = TypeVar("T")
R = TypeVar("R")


log = logging.getLogger(__name__)


@dataclass
class ClientStats:
    """What resilience cost a client: retries by kind (timeout, connection, server_error,
    gateway_page, malformed_json, minute_limit, not_found), symbols retried alone after an
    error inside a batch (by the same kinds), conflicting duplicate rows kept for validation,
    and requests skipped because the plan refused an endpoint for the whole run."""

    retries: Counter[str] = field(default_factory=Counter)
    symbol_retries: Counter[str] = field(default_factory=Counter)
    duplicate_conflicts: int = 0
    plan_skips: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: str, kind: str, n: int = 1) -> None:
        with self._lock:
            getattr(self, name)[kind] += n

    def add_conflicts(self, n: int) -> None:
        with self._lock:
            self.duplicate_conflicts += n

    def as_dict(self) -> dict[str, object]:
        """Plain counters (for logs, artifacts and the chaos report)."""
        with self._lock:
            return {
                "retries": dict(sorted(self.retries.items())),
                "retries_total": sum(self.retries.values()),
                "symbol_retries": dict(sorted(self.symbol_retries.items())),
                "duplicate_conflicts": self.duplicate_conflicts,
                "plan_skips": dict(self.plan_skips),
            }


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
        credits_per_day: int | None = None,
        pacer: CreditPacer | None = None,
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
        # Credits per minute and per day, charged per symbol; `pacer` injects a test clock.
        self.pacer = pacer or CreditPacer(
            credits_per_minute, credits_per_day, minute_seconds=minute_seconds
        )
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests made, retries included
        self.stats = ClientStats()
        # /statistics answers (or refusals) by symbol: 50 credits each, asked once per client.
        self._statistics: dict[str, dict | TwelveDataError] = {}
        # On-disk /statistics and /profile answers with a time to live (set by open_source).
        self.reference_cache: ReferenceCache | None = None
        # A plan-wide refusal of an endpoint (/market_cap, /statistics), remembered for the
        # client's life (one run): later symbols and chunks skip straight to the fallback.
        self._plan_refusals: dict[str, PlanError] = {}

    def __repr__(self) -> str:
        return f"TwelveDataClient(base_url={self.base_url!r})"

    # ---- transport --------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=self.backoff_base, max=self.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, MinuteLimitError):
            # A minute limit clears only when the vendor's minute rolls over: the pacer books
            # the whole minute so every thread waits for it (or, unpaced, wait a minute here).
            self.pacer.exhaust()
            return max(backoff, self.pacer.seconds_to_next_minute())
        return backoff

    def _count_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is not None:
            self.stats.count("retries", retry_kind(exc))

    def _get(
        self,
        path: str,
        params: dict[str, Any],
        cost: int,
        *,
        raw_above: int | None = None,
        parse: Callable[[Any], T] | None = None,
    ) -> Any:
        """One GET with pacing and retries; the JSON body (or its bytes, when a successful body
        is larger than `raw_above`: error bodies are tiny), passed through `parse` inside the
        retried attempt (so a body that turns out malformed is fetched again), else raises
        TwelveDataError."""

        def attempt() -> Any:
            spend = self.pacer.acquire(cost)
            with self._lock:
                self.requests += 1
            try:
                response = self._http.get(path, params=params)
            finally:
                self.pacer.settle(spend)
            self._observe(response)
            if (
                raw_above is not None
                and response.status_code < 400
                and len(response.content) > raw_above
                and response.content[:1] == b"{"
            ):
                body: Any = response.content
            else:
                body = self._decode(response)
            if parse is None:
                return body
            try:
                return parse(body)
            except orjson.JSONDecodeError:
                raise MalformedBodyError(502, f"malformed JSON from {path}") from None

        # Minute limits and failures have a budget of `max_attempts` each: a 429-minute is
        # cured by waiting for the next minute, it says nothing about the server's health.
        failures: Counter[bool] = Counter()

        def stop(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            failures[isinstance(exc, MinuteLimitError)] += 1
            return max(failures.values()) >= self.max_attempts

        retrying = Retrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=self._count_retry,
            reraise=True,
        )
        return retrying(attempt)

    def _observe(self, response: httpx.Response) -> None:
        """Credit headers (optional, not in the vendor's spec) correct the pacer."""
        used = response.headers.get("api-credits-used")
        left = response.headers.get("api-credits-left")
        self.pacer.observe(used, left)

    def _decode(self, response: httpx.Response) -> Any:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            status = response.status_code
            snippet = response.text[:80].replace("\n", " ")
            if 400 <= status < 500:
                # A 4xx page (e.g. a proxy's 414 for an over-long URL) is decided by its status.
                raise self._error(status, f"non-JSON answer: {snippet}") from None
            if status >= 500 or snippet.lstrip()[:1] == "<":
                raise GatewayPageError(
                    status if status >= 500 else 502, f"non-JSON answer: {snippet}"
                ) from None
            raise MalformedBodyError(502, f"malformed JSON answer: {snippet}") from None
        if isinstance(body, dict) and body.get("status") == "error":
            code = int(body.get("code") or response.status_code)
            raise self._error(code, str(body.get("message")))
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise self._error(response.status_code, str(message or response.reason_phrase))
        return body

    @staticmethod
    def _error(code: int, message: str) -> TwelveDataError:
        exc = classify(code, message)
        # The vendor's daily credits are gone: stop the run, saying when it can resume.
        return daily_limit_stop(message) if isinstance(exc, DailyLimitError) else exc

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

    def _parse_series(
        self, body: Any, batch: tuple[str, ...]
    ) -> tuple[list[pd.DataFrame], list[SymbolError]]:
        """A time series body (JSON, or raw bytes) as price frames and per-symbol errors."""
        if isinstance(body, bytes):
            parsed = columnar_series(body, batch)
            # Every symbol missing: maybe one error for the whole call, read below.
            if parsed is not None and (parsed[0] is not None or not _all_missing(parsed[1])):
                frame, raw_errors = parsed
                errors = [SymbolError(*e) for e in raw_errors if not is_no_data(e[1], e[2])]
                if len(batch) == 1 and errors:  # a single symbol's error is the whole call's
                    raise self._error(errors[0].code, errors[0].message)
                return ([frame] if frame is not None else []), errors
            body = orjson.loads(body)
            if isinstance(body, dict) and body.get("status") == "error":
                raise self._error(int(body.get("code") or 0), str(body.get("message")))
        if len(batch) == 1:
            body = {batch[0]: body}
        found: list[tuple[str, list[dict]]] = []
        errors: list[SymbolError] = []
        for symbol in batch:
            item = body.get(symbol) if isinstance(body, dict) else None
            if not isinstance(item, dict):
                errors.append(SymbolError(symbol, 0, MISSING))
            elif item.get("status") == "error":
                code, message = int(item.get("code") or 0), str(item.get("message"))
                if not is_no_data(code, message):
                    errors.append(SymbolError(symbol, code, message))
            else:
                found.append((symbol, item.get("values") or []))
        while found:
            try:
                return [price_rows(found)], errors
            except PayloadError as exc:
                # An unparseable value fails its own symbol (named with the row's date), not
                # the symbols sharing its batch.
                if exc.symbol not in {s for s, _ in found}:
                    raise
                errors.append(SymbolError(exc.symbol, 0, str(exc)))
                found = [(s, v) for s, v in found if s != exc.symbol]
        return [], errors

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
            frames, errors = self._get(
                "/time_series",
                params,
                COST_TIME_SERIES * len(batch),
                raw_above=self.columnar_bytes,
                parse=lambda body: self._parse_series(body, batch),
            )
        except TwelveDataError as exc:
            if is_fatal(exc):
                raise
            if len(batch) == 1 and is_no_data(exc.code, exc.message):
                return [], []
            return [], [SymbolError(s, exc.code, exc.message) for s in batch]
        if len(batch) == 1:
            return frames, errors
        # One symbol's transient error inside a batch is retried alone (with the single
        # request's own retries); its neighbours' rows are kept as they are.
        kept: list[SymbolError] = []
        for error in errors:
            if isinstance(classify(error.code, error.message), DailyLimitError):
                raise daily_limit_stop(error.message)
            kind = _transient_kind(error)
            if kind is None:
                kept.append(error)
                continue
            self.stats.count("symbol_retries", kind)
            more, again = self._time_series_call(((error.symbol,), lo, hi))
            frames.extend(more)
            kept.extend(again)
        return frames, kept

    def time_series(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily OHLCV for symbols over [start, end] (inclusive), batched and windowed.

        Rows repeated with identical values (overlapping windows, vendor repeats) are kept
        once; rows repeating a (symbol, date) with *different* values are all kept, in vendor
        order, so validation sees the conflict (counted in `stats.duplicate_conflicts`)."""
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
        prices = normalise_prices(frame, start, end)
        self._note_conflicts(prices)
        return FetchResult(prices, errors, self.requests - before)

    def _note_conflicts(self, frame: pd.DataFrame) -> None:
        conflicts = frame[frame.duplicated(KEY, keep=False)]
        if conflicts.empty:
            return
        self.stats.add_conflicts(len(conflicts))
        first = conflicts.iloc[0]
        log.warning(
            "%d rows repeat a (symbol, date) with different values, kept for validation "
            "(first: %s on %s)",
            len(conflicts),
            first["symbol"],
            pd.Timestamp(first["date"]).date(),
        )

    # ---- market caps and statistics ---------------------------------------------------------
    def _market_cap_symbol(
        self, job: tuple[str, date, date]
    ) -> tuple[list[dict] | None, SymbolError | None]:
        """One symbol's raw `market_cap` rows over every page (parsed later, all at once)."""
        symbol, start, end = job
        pages: list[dict] = []
        page = 1
        while True:
            refusal = self._plan_refusals.get("/market_cap")
            if refusal is not None:
                # The plan refused /market_cap earlier in the run: straight to the fallback.
                self.stats.count("plan_skips", "/market_cap")
                return None, SymbolError(symbol, refusal.code, refusal.message)
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
                self._remember_plan_refusal("/market_cap", symbol, exc)
                if is_no_data(exc.code, exc.message):
                    break
                return None, SymbolError(symbol, exc.code, exc.message)
            rows = body.get("market_cap") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                return None, SymbolError(symbol, 0, "response has no market_cap list")
            pages.extend(rows)
            if len(rows) < MAX_OUTPUTSIZE:
                break
            page += 1
        return (pages or None), None

    def market_caps(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily market caps in USD from /market_cap, one symbol per request, paginated."""
        unique = list(dict.fromkeys(symbols))
        before = self.requests
        if not unique or end < start:
            return FetchResult(normalise_market_caps(pd.DataFrame(), start, end), [], 0)
        results = self._map(self._market_cap_symbol, [(s, start, end) for s in unique])
        found = [(s, rows) for s, (rows, _) in zip(unique, results, strict=True) if rows]
        errors = [e for _, e in results if e is not None]
        frame = market_cap_frame(found, MARKET_CAP_SOURCE) if found else pd.DataFrame()
        return FetchResult(normalise_market_caps(frame, start, end), errors, self.requests - before)

    # ---- dividends --------------------------------------------------------------------------
    def _dividend_symbol(
        self, job: tuple[str, date, date]
    ) -> tuple[list[dict], SymbolError | None]:
        """One symbol's raw `dividends` rows over [start, end] (one request, no pages)."""
        symbol, start, end = job
        refusal = self._plan_refusals.get("/dividends")
        if refusal is not None:
            self.stats.count("plan_skips", "/dividends")
            return [], SymbolError(symbol, refusal.code, refusal.message)
        params = {
            "symbol": symbol,
            "start_date": start.isoformat(),
            "end_date": (end + timedelta(days=1)).isoformat(),
        }
        try:
            body = self._get("/dividends", params, COST_DIVIDENDS)
        except TwelveDataError as exc:
            if is_fatal(exc):
                raise
            self._remember_plan_refusal("/dividends", symbol, exc)
            if is_no_data(exc.code, exc.message):
                return [], None
            return [], SymbolError(symbol, exc.code, exc.message)
        rows = body.get("dividends") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return [], SymbolError(symbol, 0, "response has no dividends list")
        return rows, None

    def dividends(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Cash dividends (`date` = ex-date, `amount` per share) from /dividends, one symbol
        per request; amounts on the split-adjusted basis of /time_series closes."""
        unique = list(dict.fromkeys(symbols))
        before = self.requests
        if not unique or end < start:
            return FetchResult(normalise_dividends(pd.DataFrame(), start, end), [], 0)
        results = self._map(self._dividend_symbol, [(s, start, end) for s in unique])
        found = [(s, rows) for s, (rows, _) in zip(unique, results, strict=True) if rows]
        errors = [e for _, e in results if e is not None]
        frame = dividend_frame(found) if found else pd.DataFrame()
        return FetchResult(normalise_dividends(frame, start, end), errors, self.requests - before)

    def statistics(self, symbol: str) -> dict:
        """The /statistics body (`statistics.stock_statistics.shares_outstanding`, ...), asked
        once per symbol for this client's life; a refusal (plan, bad symbol) is kept too."""
        with self._lock:
            cached = self._statistics.get(symbol)
        refusal = self._plan_refusals.get("/statistics")
        if cached is None and refusal is not None:
            self.stats.count("plan_skips", "/statistics")
            cached = PlanError(refusal.code, refusal.message, symbol)
        if cached is None and self.reference_cache is not None:
            cached = self.reference_cache.get("statistics", symbol)
        if cached is None:
            try:
                cached = self._get("/statistics", {"symbol": symbol}, COST_STATISTICS)
                if self.reference_cache is not None:
                    self.reference_cache.put("statistics", symbol, cached)
            except TwelveDataError as exc:
                self._remember_plan_refusal("/statistics", symbol, exc)
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

    def profile(self, symbol: str) -> dict:
        """The /profile body (name, sector, exchange, ...); from the reference cache when a
        fresh copy is there, else fetched (10 credits) and cached."""
        cache = self.reference_cache
        body = cache.get("profile", symbol) if cache is not None else None
        if body is None:
            body = self._get("/profile", {"symbol": symbol}, COST_PROFILE)
            if cache is not None:
                cache.put("profile", symbol, body)
        return body

    def _remember_plan_refusal(self, endpoint: str, symbol: str, exc: TwelveDataError) -> None:
        """A plan error that does not name the symbol refuses the endpoint itself: remember it
        for the rest of the run (a symbol-specific refusal names the symbol)."""
        if isinstance(exc, PlanError) and symbol.lower() not in exc.message.lower():
            with self._lock:
                if endpoint not in self._plan_refusals:
                    log.warning("the plan refuses %s: using the fallback for this run", endpoint)
                self._plan_refusals.setdefault(endpoint, exc)

    @property
    def plan_refusals(self) -> dict[str, str]:
        """Endpoints the plan refused for the whole run, with the vendor's message."""
        return {k: v.message for k, v in self._plan_refusals.items()}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TwelveDataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _all_missing(errors: list[tuple[str, int, str]]) -> bool:
    return bool(errors) and all(e[1] == 0 and e[2] == MISSING for e in errors)


def _transient_kind(error: SymbolError) -> str | None:
    """The retry kind of a per-symbol error worth retrying alone, else None."""
    if error.code == 0 and error.message == MISSING:
        return "missing"
    exc = classify(error.code, error.message)
    return retry_kind(exc) if is_retryable(exc) else None


def _first_error_per_symbol(errors: Iterable[SymbolError]) -> list[SymbolError]:
    """One error per symbol (windows repeat them), in first-seen order."""
    seen: dict[str, SymbolError] = {}
    for e in errors:
        seen.setdefault(e.symbol, e)
    return list(seen.values())


class TwelveDataSource:
    """The `Source` over a Twelve Data compatible server (`name` says which one)."""

    # The sandbox's fault injector when the source serves the sandbox (its counts by kind).
    sandbox_faults: object | None = None

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

    @property
    def stats(self) -> ClientStats:
        """Retries by kind and other resilience counters of this source's client."""
        return self.client.stats

    def fetch_prices(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily split-adjusted OHLCV from /time_series."""
        return self.client.time_series(symbols, start, end)

    def fetch_market_caps(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily market caps from /market_cap, else close x shares from /statistics, else close
        x the configured share count (`source` = market_cap | statistics | configured)."""
        return market_caps_with_fallback(self.client, symbols, start, end, self.shares_outstanding)

    def fetch_dividends(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Cash dividends by ex-date from /dividends, split-adjusted like the closes."""
        return self.client.dividends(symbols, start, end)

    def close(self) -> None:
        self.client.close()
