"""The panel carries daily volumes on the closes' grid, for the universe liquidity filter."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from indexlake.calendar import trading_days
from indexlake.lake.partitions import write_partition
from indexlake.lake.schemas import MARKET_CAPS, PRICES
from indexlake.methodology.engine import compute_index
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline.compute import load_panel


def test_volumes_are_loaded_on_the_closes_grid(tmp_path: Path) -> None:
    days = trading_days(date(2024, 1, 2), date(2024, 3, 28))
    rows = []
    for i, d in enumerate(days):
        rows.append((d, "AAA", 10.0, 1_000 + i))
        rows.append((d, "BBB", 20.0, None if i == 5 else 10))  # one day without a volume
        rows.append((d, "SPX", 4000.0, 1))
    prices = pd.DataFrame(rows, columns=["date", "symbol", "close", "volume"]).assign(
        open=lambda f: f["close"], high=lambda f: f["close"], low=lambda f: f["close"]
    )
    prices["volume"] = pd.array(prices["volume"], dtype="Int64")
    caps = prices[prices["symbol"] != "SPX"][["date", "symbol"]].assign(
        market_cap=1e9, source="market_cap"
    )
    write_partition(tmp_path, PRICES, 2024, prices)
    write_partition(tmp_path, MARKET_CAPS, 2024, caps)
    panel = load_panel(tmp_path, ["AAA", "BBB"], ["SPX"])
    assert panel.volumes is not None
    assert panel.volumes.index.equals(panel.closes.index)
    assert list(panel.volumes.columns) == ["AAA", "BBB"]
    np.testing.assert_array_equal(panel.volumes["AAA"], 1_000 + np.arange(len(days)))
    assert np.isnan(panel.volumes["BBB"].iloc[5]) and panel.volumes["BBB"].iloc[6] == 10
    # AAA trades ~10,000 USD a day and BBB 200: a 5,000 USD floor keeps AAA only.
    strategy = Strategy.model_validate(
        {
            "id": "liquid",
            "name": "Liquid",
            "universe": {"type": "landed", "min_median_dollar_volume": 5_000.0},
            "selection": {"type": "all"},
            "weighting": {"type": "equal"},
            "rebalance": "monthly",
        }
    )
    result = compute_index(strategy, panel.closes, panel.market_caps, volumes=panel.volumes)
    assert set(result.allocations["symbol"]) == {"AAA"}
