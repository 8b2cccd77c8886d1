"""Dividends: the sandbox market's schedule, the `/dividends` endpoint and the client over HTTP."""

from __future__ import annotations

from datetime import date

import httpx
import numpy as np

from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.twelvedata import TwelveDataClient

START, END = date(2000, 1, 1), date(2025, 6, 30)


def _payers(market: SandboxMarket) -> list[str]:
    return [s for s in market.symbols if len(market.dividends(s, START, END)[0])]


def test_some_symbols_pay_quarterly_with_a_realistic_yield(market: SandboxMarket) -> None:
    payers = _payers(market)
    assert 0.3 * len(market.symbols) <= len(payers) <= 0.9 * len(market.symbols)
    for symbol in payers:
        dates, amounts = market.dividends(symbol, START, END)
        gaps = np.diff(dates).astype(int)
        assert np.all((gaps >= 80) & (gaps <= 100)), symbol  # about a quarter apart
        assert np.all(amounts > 0)
        bars = market.bars(symbol, START, END)
        closes = bars.close[np.searchsorted(bars.date, dates)]
        annual = 4 * amounts / closes
        assert 0.002 < np.median(annual) < 0.06, symbol


def test_amounts_are_on_the_split_adjusted_basis_of_the_closes(market: SandboxMarket) -> None:
    split_payers = [s for s in _payers(market) if market.splits(s)]
    assert split_payers, "the fixture market should have a payer with a split"
    for symbol in split_payers:
        dates, adjusted = market.dividends(symbol, START, END)
        _, actual = market.dividends(symbol, START, END, adjusted=False)
        adj = market.bars(symbol, START, END)
        raw = market.bars(symbol, START, END, adjusted=False)
        at = np.searchsorted(adj.date, dates)
        # The yield on each ex-date is the same on both bases (up to the 5-decimal rounding).
        np.testing.assert_allclose(
            adjusted / adj.close[at], actual / raw.close[at], rtol=1e-3, atol=1e-6
        )
        split_day = np.datetime64(market.splits(symbol)[0][0])
        before = dates < split_day
        if before.any():
            assert np.all(adjusted[before] < actual[before])  # earlier amounts divided


def test_endpoint_answers_like_the_vendor(market: SandboxMarket, base_url: str) -> None:
    symbol = _payers(market)[0]
    before = httpx.get(f"{base_url}/__credits").json()["used_day"]
    body = httpx.get(
        f"{base_url}/dividends",
        params={"symbol": symbol, "start_date": "2020-01-01", "end_date": "2022-01-01"},
        headers={"Authorization": "apikey k"},
    ).json()
    assert httpx.get(f"{base_url}/__credits").json()["used_day"] - before == 20
    assert body["meta"]["symbol"] == symbol
    rows = body["dividends"]
    dates, amounts = market.dividends(symbol, date(2020, 1, 1), date(2021, 12, 31))
    assert [r["ex_date"] for r in rows] == [str(d) for d in dates[::-1]]  # newest first
    assert [r["amount"] for r in rows] == list(amounts[::-1])
    spx = httpx.get(f"{base_url}/dividends", params={"symbol": "SPX", "apikey": "k"}).json()
    assert spx["dividends"] == []


def test_client_fetches_every_symbols_dividends(
    market: SandboxMarket, client: TwelveDataClient
) -> None:
    symbols = market.symbols[:12]
    start, end = date(2019, 1, 1), date(2023, 12, 31)
    result = client.dividends([*symbols, "NOPE"], start, end)
    assert result.requests == len(symbols) + 1
    assert [(e.symbol, e.code) for e in result.errors] == [("NOPE", 400)]
    frame = result.frame
    assert list(frame.columns) == ["date", "symbol", "amount"]
    for symbol in symbols:
        dates, amounts = market.dividends(symbol, start, end)
        mine = frame[frame["symbol"] == symbol]
        assert list(mine["date"].dt.date) == [d.item() for d in dates]
        np.testing.assert_array_equal(mine["amount"].to_numpy(), amounts)


def test_an_empty_range_asks_nothing(market: SandboxMarket, client: TwelveDataClient) -> None:
    result = client.dividends(market.symbols[:2], date(2024, 1, 1), date(2023, 1, 1))
    assert result.frame.empty and result.requests == 0  # an empty range asks nothing
