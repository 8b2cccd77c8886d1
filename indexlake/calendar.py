"""NYSE trading days (exchange_calendars ``XNYS``), the one calendar the pipeline uses."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

EXCHANGE = "XNYS"
EXCHANGE_TZ = ZoneInfo("America/New_York")
# exchange_calendars only knows sessions inside [CALENDAR_START, its default end].
CALENDAR_START = "1990-01-02"


@lru_cache(maxsize=1)
def _calendar() -> xcals.ExchangeCalendar:
    return xcals.get_calendar(EXCHANGE, start=CALENDAR_START)


def trading_days(start: date, end: date) -> pd.DatetimeIndex:
    """NYSE sessions in [start, end], inclusive, as naive midnight timestamps."""
    if end < start:
        return pd.DatetimeIndex([], name="date")
    cal = _calendar()
    lo = max(pd.Timestamp(start), cal.first_session)
    hi = min(pd.Timestamp(end), cal.last_session)
    if hi < lo:
        return pd.DatetimeIndex([], name="date")
    days = cal.sessions_in_range(lo, hi)
    return pd.DatetimeIndex(days.tz_localize(None) if days.tz else days, name="date")


def is_trading_day(day: date) -> bool:
    return _calendar().is_session(pd.Timestamp(day))


def latest_completed_trading_day(now: datetime | None = None) -> date:
    """The last session whose close has passed in New York (16:00 local)."""
    now_ny = (now or datetime.now(tz=EXCHANGE_TZ)).astimezone(EXCHANGE_TZ)
    today = now_ny.date()
    cal = _calendar()
    if cal.is_session(pd.Timestamp(today)):
        close = cal.session_close(pd.Timestamp(today)).tz_convert(EXCHANGE_TZ).time()
        if now_ny.time() >= (close or time(16, 0)):
            return today
    session = pd.Timestamp(today)
    if cal.is_session(session):
        return cal.previous_session(session).date()
    return cal.date_to_session(session, direction="previous").date()
