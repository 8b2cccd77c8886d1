"""The daily refresh: the default history on an empty lake, then only what is new."""

from pathlib import Path

import pytest

from flows.daily_refresh import daily_refresh
from indexlake.calendar import latest_completed_trading_day
from indexlake.pipeline.ranges import history_range


def test_daily_refresh_lands_history_then_finds_nothing_new(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXLAKE_HISTORY_YEARS", "1")
    latest = latest_completed_trading_day()
    first = daily_refresh()
    assert (first.start, first.end) == history_range(latest, 1)
    assert first.rows_landed["prices"] > 0 and first.validation_passed
    assert set(first.strategies["last_date"].dt.date) == {latest}

    second = daily_refresh()
    assert (second.start, second.end) == (latest, latest)
    assert second.rows_landed == {}
    assert second.strategies.equals(first.strategies)
