from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from indexlake.calendar import trading_days
from indexlake.sources.base import PRICE_COLUMNS
from indexlake.sources.sandbox.factors import SECTORS
from indexlake.sources.sandbox.market import SandboxMarket

START, END = date(2018, 1, 1), date(2020, 12, 31)


def test_same_seed_gives_identical_frames(market: SandboxMarket) -> None:
    other = SandboxMarket(seed=7, n_symbols=40, as_of=market.as_of)
    pd.testing.assert_frame_equal(market.prices(None, START, END), other.prices(None, START, END))
    pd.testing.assert_frame_equal(
        market.market_caps(None, START, END), other.market_caps(None, START, END)
    )
    assert SandboxMarket(seed=8, n_symbols=3).symbols != market.symbols[:3]


def test_symbol_series_do_not_depend_on_universe_size(market: SandboxMarket) -> None:
    small = SandboxMarket(seed=7, n_symbols=5, as_of=market.as_of)
    assert small.symbols == market.symbols[:5]
    pd.testing.assert_frame_equal(
        small.prices(None, START, END), market.prices(small.symbols, START, END)
    )


def test_as_of_only_cuts_the_series(market: SandboxMarket) -> None:
    early = SandboxMarket(seed=7, n_symbols=40, as_of=date(2019, 6, 28))
    a = early.prices(market.symbols[:10], START, END)
    b = market.prices(market.symbols[:10], START, date(2019, 6, 28))
    pd.testing.assert_frame_equal(a, b)
    assert a["date"].max() == pd.Timestamp("2019-06-28")


def test_prices_follow_the_contract(market: SandboxMarket) -> None:
    frame = market.prices(None, START, END)
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert str(frame["volume"].dtype) == "Int64" and frame["date"].dtype == "datetime64[ns]"
    assert frame.equals(frame.sort_values(["symbol", "date"]).reset_index(drop=True))
    assert not frame.duplicated(["symbol", "date"]).any()
    assert set(frame["date"]) <= set(trading_days(START, END))
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame[["open", "close"]].max(axis=1) <= frame["high"]).all()
    assert (frame["low"] > 0).all() and (frame["volume"] >= 0).all()
    vols = frame.groupby("symbol")["close"].apply(lambda c: np.log(c).diff().std())
    assert 0.008 < vols.median() < 0.035  # daily volatility of single stocks


def test_market_factor_has_fat_tails_and_clustering(market: SandboxMarket) -> None:
    r = pd.Series(market._market[0])
    assert r.kurt() > 1.0
    assert r.abs().autocorr(lag=1) > 0.05


def test_split_adjusts_prices_and_multiplies_shares() -> None:
    m = SandboxMarket(seed=7, n_symbols=200, as_of=date(2026, 6, 30))
    symbol, (day, ratio) = next(
        (s, m.splits(s)[0]) for s in m.symbols if m.splits(s) and m.splits(s)[0][0] < m.as_of
    )
    assert ratio in (2.0, 3.0)
    before = m.bars(symbol, day - timedelta(days=10), day - timedelta(days=1))
    after = m.bars(symbol, day, day)
    assert m.shares_outstanding(symbol, day) == pytest.approx(
        ratio * m.shares_outstanding(symbol, day - timedelta(days=1)), rel=0.02
    )
    raw_before = before.close[-1] * before.factor[-1]
    raw_after = after.close[0] * after.factor[0]
    assert raw_after / raw_before == pytest.approx(1 / ratio, rel=0.25)  # unadjusted drop
    assert after.close[0] / before.close[-1] == pytest.approx(1.0, rel=0.25)  # adjusted: none
    caps = m.market_caps([symbol], day - timedelta(days=10), day)
    assert caps["market_cap"].iloc[-1] / caps["market_cap"].iloc[-2] == pytest.approx(1, rel=0.25)


def test_listings_and_delistings() -> None:
    m = SandboxMarket(seed=7, n_symbols=200, as_of=SandboxMarket.HORIZON_END)
    profiles = [m.profile(s) for s in m.symbols]
    late = [p for p in profiles if p["listed"] > m.ORIGIN]
    gone = [p for p in profiles if p["delisted"]]
    assert late and gone and len(gone) < 0.15 * len(profiles)
    assert {p["sector"] for p in profiles} <= set(SECTORS)
    p = late[0]
    served = m.prices([p["symbol"]], m.ORIGIN, m.HORIZON_END)
    assert served["date"].min() == pd.Timestamp(p["listed"]) == pd.Timestamp(m.listed(p["symbol"]))
    d = gone[0]
    served = m.prices([d["symbol"]], m.ORIGIN, m.HORIZON_END)
    assert served["date"].max() == pd.Timestamp(d["delisted"])


def test_benchmarks_are_served_but_not_in_the_universe(market: SandboxMarket) -> None:
    assert "SPX" not in market.symbols and "SPY" not in market.symbols
    spx = market.prices(["SPX"], date(2000, 1, 1), date(2000, 12, 31))
    assert 1000 < spx["close"].iloc[0] < 2000
    spy = market.prices(["SPY"], date(2000, 1, 1), date(2000, 1, 31))
    assert spy["close"].iloc[0] == pytest.approx(spx["close"].iloc[0] / 10, rel=0.01)
    assert market.market_caps(["SPX"], START, END).empty
    with pytest.raises(KeyError):
        market.prices(["NOPE"], START, END)
