"""Date ranges for backfills: checked once at the boundary, then split into coarse chunks."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta


class RangeError(ValueError):
    """A backfill range that cannot be run, with a message naming the parameter."""


def check_range(start: date, end: date, latest: date) -> None:
    """Refuse ranges that end before they start or reach past the latest completed session."""
    if end < start:
        raise RangeError(f"end ({end}) is before start ({start}): give end >= start")
    if start > latest:
        raise RangeError(
            f"start ({start}) is in the future: the latest completed trading day is {latest}"
        )
    if end > latest:
        raise RangeError(
            f"end ({end}) is in the future: the latest completed trading day is {latest}; "
            f"use end <= {latest}"
        )


def history_range(latest: date, years: int) -> tuple[date, date]:
    """The ``years`` of history ending at ``latest`` (start is the day after, years back)."""
    return latest - relativedelta(years=years) + relativedelta(days=1), latest


def year_chunks(start: date, end: date, years: int = 1) -> list[tuple[date, date]]:
    """Split [start, end] at calendar-year boundaries into chunks of up to ``years`` years.

    A chunk never splits a year, so each yearly Parquet partition is written by one chunk.
    """
    if years < 1:
        raise RangeError(f"chunk size must be at least 1 year, not {years}")
    chunks = []
    lo = start
    while lo <= end:
        hi = min(date(lo.year + years - 1, 12, 31), end)
        chunks.append((lo, hi))
        lo = date(hi.year + 1, 1, 1)
    return chunks
