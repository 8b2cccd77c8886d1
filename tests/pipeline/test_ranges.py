"""Backfill ranges: clear refusals and year chunks that cover the range exactly."""

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexlake.pipeline.ranges import RangeError, check_range, history_range, year_chunks

LATEST = date(2026, 11, 25)


def test_end_before_start_is_refused_naming_both() -> None:
    with pytest.raises(RangeError, match=r"end \(2024-01-01\) is before start \(2024-02-01\)"):
        check_range(date(2024, 2, 1), date(2024, 1, 1), LATEST)


def test_future_end_is_refused_naming_latest_session() -> None:
    with pytest.raises(RangeError, match=r"end \(2027-01-04\) is in the future.*2026-11-25"):
        check_range(date(2026, 1, 2), date(2027, 1, 4), LATEST)


def test_future_start_is_refused() -> None:
    with pytest.raises(RangeError, match=r"start \(2026-12-01\) is in the future"):
        check_range(date(2026, 12, 1), date(2026, 12, 2), LATEST)


def test_valid_range_passes() -> None:
    check_range(date(2020, 1, 1), LATEST, LATEST)


def test_history_range_spans_the_years() -> None:
    assert history_range(LATEST, 5) == (date(2021, 11, 26), LATEST)


@given(
    st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 1, 1)),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=1, max_value=6),
)
def test_year_chunks_partition_the_range(start: date, length: int, years: int) -> None:
    end = start + timedelta(days=length)
    chunks = year_chunks(start, end, years)
    assert chunks[0][0] == start and chunks[-1][1] == end
    for (_, hi), (nxt, _) in itertools.pairwise(chunks):
        assert hi + timedelta(days=1) == nxt
    assert all(lo <= hi and hi.year - lo.year < years for lo, hi in chunks)
    assert all(hi == date(hi.year, 12, 31) for _, hi in chunks[:-1])


def test_year_chunks_of_five_years() -> None:
    assert year_chunks(date(2001, 11, 26), date(2012, 3, 1), 5) == [
        (date(2001, 11, 26), date(2005, 12, 31)),
        (date(2006, 1, 1), date(2010, 12, 31)),
        (date(2011, 1, 1), date(2012, 3, 1)),
    ]
