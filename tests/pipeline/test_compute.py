"""The compute stage reads a contiguous panel from the lake: gaps are found, not bridged."""

from datetime import date
from pathlib import Path

import pandas as pd

from indexlake.calendar import trading_days
from indexlake.lake.partitions import write_partition
from indexlake.lake.schemas import MARKET_CAPS, PRICES
from indexlake.pipeline.compute import load_panel, session_gaps


def test_session_gaps_finds_each_run_of_missing_sessions() -> None:
    days = trading_days(date(2024, 1, 2), date(2024, 1, 31))
    landed = days.delete([3, 4, 10])  # 2024-01-05, 01-08 and 01-17 missing
    assert session_gaps(landed) == [
        (date(2024, 1, 5), date(2024, 1, 8)),
        (date(2024, 1, 17), date(2024, 1, 17)),
    ]
    assert session_gaps(days) == []
    assert session_gaps(days[:1]) == []


def _land(root: Path, days: pd.DatetimeIndex) -> None:
    rows = [(d, s, 10.0 + i) for i, d in enumerate(days) for s in ("AAA", "BBB", "SPX")]
    prices = pd.DataFrame(rows, columns=["date", "symbol", "close"]).assign(
        open=lambda f: f["close"],
        high=lambda f: f["close"],
        low=lambda f: f["close"],
        volume=pd.array([1] * len(rows), dtype="Int64"),
    )
    caps = prices[prices["symbol"] != "SPX"][["date", "symbol"]].assign(
        market_cap=1e9, source="market_cap"
    )
    for year in sorted({d.year for d in days}):
        write_partition(root, PRICES, year, prices[prices["date"].dt.year == year])
        write_partition(root, MARKET_CAPS, year, caps[caps["date"].dt.year == year])


def test_load_panel_uses_only_the_history_after_the_last_gap(tmp_path: Path) -> None:
    days = trading_days(date(2023, 12, 1), date(2024, 2, 29))
    landed = days[(days < "2024-01-08") | (days > "2024-01-19")]
    _land(tmp_path, landed)
    panel = load_panel(tmp_path, ["AAA", "BBB"], ["SPX"])
    assert panel.gaps == [(date(2024, 1, 8), date(2024, 1, 19))]
    assert panel.closes.index[0] == pd.Timestamp("2024-01-22")
    assert panel.closes.index[-1] == pd.Timestamp("2024-02-29")
    assert list(panel.closes.columns) == ["AAA", "BBB"]
    assert panel.benchmarks.index.equals(panel.closes.index)
    assert panel.market_caps.notna().all().all()
