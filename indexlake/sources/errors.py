"""Twelve Data's error taxonomy: which vendor answers are which failure, and which to retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

# The vendor's empty-range answer: a 400 that means "no rows", not a failure.
NO_DATA_PREFIX = "no data is available on the specified dates"


class TwelveDataError(Exception):
    """A vendor error: its code (body `code`, else HTTP status), message and symbol if known."""

    def __init__(self, code: int, message: str, symbol: str | None = None) -> None:
        super().__init__(f"[{code}] {message}" + (f" (symbol {symbol})" if symbol else ""))
        self.code = code
        self.message = message
        self.symbol = symbol


class AuthError(TwelveDataError):
    """401: the API key is missing or wrong."""


class PlanError(TwelveDataError):
    """403, or 400 "not available with your plan": the plan lacks this data."""


class MinuteLimitError(TwelveDataError):
    """429 for the current minute: wait for the next minute."""


class DailyLimitError(TwelveDataError):
    """429 for the day: stop and resume tomorrow (the daily credits reset at 00:00 UTC)."""

    resume_at: datetime | None = None  # set by the client: the next 00:00 UTC


class ServerError(TwelveDataError):
    """5xx or a non-JSON gateway page."""


class GatewayPageError(ServerError):
    """A non-JSON page (HTML from a gateway) instead of the vendor's JSON."""


class MalformedBodyError(ServerError):
    """A JSON answer that does not parse (malformed or cut short in transit)."""


class BadRequestError(TwelveDataError):
    """400 / 404 / 414: a parameter, symbol or URL the vendor refuses."""


class PayloadError(ValueError):
    """A vendor value that cannot be parsed (names the symbol, date and field)."""

    def __init__(self, message: str, symbol: str | None = None) -> None:
        super().__init__(message)
        self.symbol = symbol


def classify(code: int, message: str, symbol: str | None = None) -> TwelveDataError:
    """The error class for a vendor code and message."""
    text = message.lower()
    if code == 401:
        return AuthError(code, message, symbol)
    if code == 403 or (code == 400 and "with your plan" in text):
        return PlanError(code, message, symbol)
    if code == 429:
        if "for the day" in text or "daily" in text:
            return DailyLimitError(code, message, symbol)
        return MinuteLimitError(code, message, symbol)
    if code >= 500:
        return ServerError(code, message, symbol)
    if code in (400, 404, 414):
        return BadRequestError(code, message, symbol)
    return TwelveDataError(code, message, symbol)


def is_no_data(code: int, message: str) -> bool:
    """Whether an error body is the vendor's "no data for these dates" (an empty result)."""
    return code == 400 and message.strip().lower().startswith(NO_DATA_PREFIX)


def is_retryable(exc: BaseException) -> bool:
    """Timeouts, connection errors, 5xx / gateway pages, minute limits and spurious 404s."""
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return True
    if isinstance(exc, ServerError | MinuteLimitError):
        return True
    # Spurious "Data not found" 404s on valid ranges have been reported: try again.
    return isinstance(exc, BadRequestError) and exc.code == 404


def is_fatal(exc: BaseException) -> bool:
    """Errors that would fail every other symbol too, so they stop the whole fetch."""
    return isinstance(exc, AuthError | DailyLimitError | MinuteLimitError)


def next_utc_midnight(now: datetime | None = None) -> datetime:
    """When the vendor's daily credits reset: the next 00:00 UTC after `now`."""
    now = now or datetime.now(UTC)
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def daily_limit_stop(message: str, now: datetime | None = None) -> DailyLimitError:
    """A DailyLimitError whose message says when the run can resume."""
    resume = next_utc_midnight(now)
    exc = DailyLimitError(
        429,
        f"{message.rstrip('. ')}. Daily API credits are exhausted: stopping; resume after "
        f"{resume:%Y-%m-%d %H:%M} UTC, when they reset.",
    )
    exc.resume_at = resume
    return exc


def retry_kind(exc: BaseException) -> str:
    """The name a retried failure is counted under in the client's stats."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.TransportError):
        return "connection"
    if isinstance(exc, GatewayPageError):
        return "gateway_page"
    if isinstance(exc, MalformedBodyError):
        return "malformed_json"
    if isinstance(exc, ServerError):
        return "server_error"
    if isinstance(exc, MinuteLimitError):
        return "minute_limit"
    if isinstance(exc, BadRequestError) and exc.code == 404:
        return "not_found"
    return "other"
