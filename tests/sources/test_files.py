from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from indexlake.sources.files import FileSource
from indexlake.sources.sandbox.market import SandboxMarket

START, END = date(2024, 1, 1), date(2024, 3, 31)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path: Path, market: SandboxMarket, suffix: str) -> None:
    prices = market.prices(market.symbols[:3], START, END)
    caps = market.market_caps(market.symbols[:3], START, END).assign(source="configured")
    p, c = tmp_path / f"p{suffix}", tmp_path / f"c{suffix}"
    if suffix == ".csv":
        prices.to_csv(p, index=False)
        caps.to_csv(c, index=False)
    else:
        prices.to_parquet(p)
        caps.to_parquet(c)
    source = FileSource(p, c)
    got = source.fetch_prices([*market.symbols[:2], "NOPE"], START, date(2024, 1, 31))
    pd.testing.assert_frame_equal(
        got.frame, market.prices(market.symbols[:2], START, date(2024, 1, 31))
    )
    assert [e.symbol for e in got.errors] == ["NOPE"]
    caps_got = source.fetch_market_caps(market.symbols[:3], START, END).frame
    pd.testing.assert_frame_equal(caps_got, caps.reset_index(drop=True), check_dtype=False)
    assert FileSource(p).fetch_market_caps(["X"], START, END).frame.empty


def test_bad_columns_name_file_and_column(tmp_path: Path, market: SandboxMarket) -> None:
    prices = market.prices(market.symbols[:1], START, END)
    cases = {
        "missing": (prices.drop(columns="low"), "missing column 'low'"),
        "extra": (prices.assign(vwap=1.0), "unexpected column 'vwap'"),
        "typed": (prices.assign(close="abc"), "column 'close' must be numeric"),
        "volume": (prices.assign(volume=1.5), "column 'volume' must hold whole numbers"),
    }
    for name, (frame, message) in cases.items():
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        with pytest.raises(ValueError, match=f"{name}.csv: {message}"):
            FileSource(path).fetch_prices(["X"], START, END)
