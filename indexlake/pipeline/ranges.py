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


def year_chunks(start: date, end: date) -> list[tuple[date, date]]:
    """Split [start, end] at calendar-year boundaries (one chunk per Parquet partition)."""
    chunks = []
    lo = start
    while lo <= end:
        hi = min(date(lo.year, 12, 31), end)
        chunks.append((lo, hi))
        lo = date(lo.year + 1, 1, 1)
    return chunks
