"""Partition files: atomic replacement, typed round trips, slice merges that keep the rest."""

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from indexlake.lake import partitions as parts
from indexlake.lake.schemas import DATASETS, INDEX_LEVELS, PRICES


def _prices(symbols: list[str], days: list[str], close: float = 10.0) -> pd.DataFrame:
    rows = [
        {
            "date": pd.Timestamp(d),
            "symbol": s,
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": 100,
        }
        for s in symbols
        for d in days
    ]
    frame = pd.DataFrame(rows)
    frame["volume"] = frame["volume"].astype("Int64")
    return frame


def test_write_then_read_round_trips_types_and_sorts_by_key(tmp_path: Path) -> None:
    frame = _prices(["BBB", "AAA"], ["2024-01-03", "2024-01-02"])
    path = parts.write_partition(tmp_path, PRICES, 2024, frame)
    assert path == tmp_path / "prices" / "year=2024" / "part-0.parquet"
    assert pq.read_schema(path).names == PRICES.columns
    back = parts.read_partition(tmp_path, PRICES, 2024)
    assert list(back["symbol"]) == ["AAA", "AAA", "BBB", "BBB"]
    assert list(back["date"].dt.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03"] * 2
    assert str(back["volume"].dtype) == "Int64"


def test_missing_column_is_named(tmp_path: Path) -> None:
    frame = _prices(["AAA"], ["2024-01-02"]).drop(columns=["close"])
    with pytest.raises(ValueError, match="prices: frame lacks column\\(s\\) close"):
        parts.write_partition(tmp_path, PRICES, 2024, frame)


def test_rewrite_replaces_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    parts.write_partition(tmp_path, PRICES, 2024, _prices(["AAA"], ["2024-01-02"], 10.0))
    parts.write_partition(tmp_path, PRICES, 2024, _prices(["AAA"], ["2024-01-02"], 11.0))
    files = sorted(p.name for p in (tmp_path / "prices" / "year=2024").iterdir())
    assert files == ["part-0.parquet"]
    assert parts.read_partition(tmp_path, PRICES, 2024)["close"].tolist() == [11.0]


def test_failed_write_keeps_the_old_partition(tmp_path: Path) -> None:
    parts.write_partition(tmp_path, PRICES, 2024, _prices(["AAA"], ["2024-01-02"], 10.0))
    bad = _prices(["AAA"], ["2024-01-02"]).assign(close="not a number")
    with pytest.raises((ValueError, TypeError)):
        parts.write_partition(tmp_path, PRICES, 2024, bad)
    assert parts.read_partition(tmp_path, PRICES, 2024)["close"].tolist() == [10.0]
    assert [p.name for p in (tmp_path / "prices" / "year=2024").iterdir()] == ["part-0.parquet"]


def test_merge_range_replaces_only_the_slice() -> None:
    existing = _prices(["AAA", "BBB"], ["2024-01-02", "2024-01-03", "2024-01-04"], 10.0)
    new = _prices(["AAA"], ["2024-01-03"], 99.0)
    merged = parts.merge_range(existing, new, ["AAA"], date(2024, 1, 3), date(2024, 1, 4))
    got = merged.set_index(["symbol", merged["date"].dt.strftime("%Y-%m-%d")])["close"]
    # AAA on the 4th was inside the slice and absent from the new fetch: removed.
    assert got.to_dict() == {
        ("AAA", "2024-01-02"): 10.0,
        ("AAA", "2024-01-03"): 99.0,
        ("BBB", "2024-01-02"): 10.0,
        ("BBB", "2024-01-03"): 10.0,
        ("BBB", "2024-01-04"): 10.0,
    }


def test_merge_range_is_idempotent() -> None:
    existing = _prices(["AAA"], ["2024-01-02", "2024-01-03"], 10.0)
    new = _prices(["AAA"], ["2024-01-03"], 12.0)
    once = parts.merge_range(existing, new, ["AAA"], date(2024, 1, 3), date(2024, 1, 3))
    twice = parts.merge_range(once, new, ["AAA"], date(2024, 1, 3), date(2024, 1, 3))
    key = ["symbol", "date"]
    pd.testing.assert_frame_equal(
        once.sort_values(key).reset_index(drop=True), twice.sort_values(key).reset_index(drop=True)
    )


def test_partition_values_lists_only_partitions_with_files(tmp_path: Path) -> None:
    levels = pd.DataFrame(
        {
            "date": [pd.Timestamp("2024-01-02")],
            "level": [1000.0],
            "daily_return": [float("nan")],
            "divisor": [1.0],
            "constituents": [3],
            "is_rebalance": [True],
        }
    )
    parts.write_partition(tmp_path, INDEX_LEVELS, "b_strat", levels)
    parts.write_partition(tmp_path, INDEX_LEVELS, "a_strat", levels)
    (tmp_path / "index_levels" / "strategy_id=empty").mkdir()
    assert parts.partition_values(tmp_path, INDEX_LEVELS) == ["a_strat", "b_strat"]
    assert parts.partition_values(tmp_path, DATASETS["allocations"]) == []


@pytest.mark.parametrize(
    ("symbols", "days"),
    [
        (["AAA", "BBB"], ["2024-01-02", "2024-01-03"]),  # already in key order
        (["AAA", "BBB"], ["2024-01-03", "2024-01-02"]),  # second key out of order
        (["BBB", "AAA"], ["2024-01-02", "2024-01-03"]),  # first key out of order
        (["AAA", "AA", "B"], ["2024-01-02"]),  # a prefix sorts first
    ],
)
def test_written_rows_are_in_key_order_whether_or_not_given_so(
    tmp_path: Path, symbols: list[str], days: list[str]
) -> None:
    frame = _prices(symbols, days)
    frame["close"] = range(len(frame))  # tells the rows apart
    parts.write_partition(tmp_path, PRICES, 2024, frame)
    back = parts.read_partition(tmp_path, PRICES, 2024)
    # Reference: Python's ordering of (symbol, date) tuples.
    expected = sorted(zip(frame["symbol"], frame["date"], frame["close"], strict=True))
    got = list(zip(back["symbol"], back["date"], back["close"], strict=True))
    assert got == expected


def test_sorted_by_tells_key_order_from_other_orders() -> None:
    table = parts.to_table(_prices(["AAA", "BBB"], ["2024-01-02", "2024-01-03"]), PRICES)
    assert parts._sorted_by(table, ["symbol", "date"])
    assert not parts._sorted_by(table, ["date", "symbol"])
    assert parts._sorted_by(table.slice(0, 1), ["date", "symbol"])
    assert not parts._sorted_by(table.take([1, 0, 2, 3]), ["symbol", "date"])
