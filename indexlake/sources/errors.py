"""Twelve Data's error taxonomy: which vendor answers are which failure, and which to retry."""

from __future__ import annotations

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
    """429 for the day: stop and resume tomorrow."""


class ServerError(TwelveDataError):
    """5xx or a non-JSON gateway page."""


class BadRequestError(TwelveDataError):
    """400 / 404 / 414: a parameter, symbol or URL the vendor refuses."""


class PayloadError(ValueError):
    """A vendor value that cannot be parsed (names the symbol, date and field)."""


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
