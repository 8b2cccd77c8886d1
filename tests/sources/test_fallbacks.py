"""The market cap fallback chain and the benchmark fallback, over loopback HTTP to the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import numpy as np
import pandas as pd
import pytest

from indexlake.config import Settings, TwelveDataSettings
from indexlake.sources.base import MARKET_CAP_COLUMNS
from indexlake.sources.benchmark import (
    BENCHMARK_CANDIDATES,
    BenchmarkUnavailableError,
    fetch_benchmark,
)
from indexlake.sources.factory import benchmark_candidates, open_source
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient, TwelveDataSource

START, END = date(2024, 1, 1), date(2024, 3, 31)
AUTH = {"Authorization": "apikey k"}


@pytest.fixture(scope="module")
def no_caps_url(market: SandboxMarket) -> Iterator[str]:
    """A plan without /market_cap."""
    with serve_sandbox(market, market_cap_plan=False) as url:
        yield url


@pytest.fixture(scope="module")
def no_stats_url(market: SandboxMarket) -> Iterator[str]:
    """A plan with neither /market_cap nor /statistics."""
    with serve_sandbox(market, market_cap_plan=False, statistics_plan=False) as url:
        yield url


@pytest.fixture(scope="module")
def no_index_url(market: SandboxMarket) -> Iterator[str]:
    """A plan without index symbols (SPX) in /time_series."""
    with serve_sandbox(market, index_access=False) as url:
        yield url


@pytest.fixture
def stocks(market: SandboxMarket) -> list[str]:
    """Three symbols listed before START and still listed at the market's as_of."""
    listed = [
        s
        for s in market.symbols
        if market.listed(s) < START and market.profile(s)["delisted"] is None
    ]
    return listed[:3]


def _source(url: str, shares: dict[str, float] | None = None) -> TwelveDataSource:
    client = TwelveDataClient(url, "k", backoff_base=0.01, backoff_max=0.05)
    return TwelveDataSource(client, name="sandbox", shares_outstanding=shares)


def _paths(source: TwelveDataSource) -> list[str]:
    """Paths of every request the source's client sends from now on."""
    paths: list[str] = []
    source.client._http.event_hooks = {"request": [lambda r: paths.append(r.url.path)]}
    return paths


def _statistics_shares(url: str, symbol: str) -> float:
    """What the sandbox's /statistics reports as shares outstanding."""
    body = httpx.get(f"{url}/statistics", params={"symbol": symbol}, headers=AUTH).json()
    return float(body["statistics"]["stock_statistics"]["shares_outstanding"])


def _close_times(market: SandboxMarket, symbol: str, shares: float) -> pd.Series:
    return market.prices([symbol], START, END)["close"].reset_index(drop=True) * shares


def test_caps_from_market_cap_endpoint(
    base_url: str, market: SandboxMarket, stocks: list[str]
) -> None:
    source = _source(base_url)
    paths = _paths(source)
    result = source.fetch_market_caps([*stocks, "NOPE"], START, END)
    source.close()
    assert list(result.frame.columns) == list(MARKET_CAP_COLUMNS)
    pd.testing.assert_frame_equal(
        result.frame.drop(columns="source"), market.market_caps(stocks, START, END)
    )
    assert set(result.frame["source"]) == {"market_cap"}
    # A symbol the vendor does not know is reported as is, without spending on fallbacks.
    assert [(e.symbol, e.code) for e in result.errors] == [("NOPE", 400)]
    assert paths == ["/market_cap"] * 4 and result.requests == 4


def test_caps_from_statistics_when_the_plan_lacks_market_cap(
    no_caps_url: str, market: SandboxMarket, stocks: list[str]
) -> None:
    source = _source(no_caps_url)
    result = source.fetch_market_caps(stocks, START, END)
    source.close()
    assert result.errors == []
    assert set(result.frame["source"]) == {"statistics"}
    for symbol in stocks:
        got = result.frame[result.frame["symbol"] == symbol]["market_cap"].reset_index(drop=True)
        shares = _statistics_shares(no_caps_url, symbol)
        pd.testing.assert_series_equal(got, _close_times(market, symbol, shares), check_names=False)
        # Split-adjusted close x today's shares tracks the true caps (shares drift monthly).
        true = market.market_caps([symbol], START, END)["market_cap"].to_numpy()
        assert np.allclose(got.to_numpy(), true, rtol=0.1)


def test_caps_from_configured_shares_when_both_endpoints_fail(
    no_stats_url: str, market: SandboxMarket, stocks: list[str]
) -> None:
    configured, missing = stocks[0], stocks[1]
    source = _source(no_stats_url, shares={configured: 2.5e9})
    result = source.fetch_market_caps([configured, missing], START, END)
    source.close()
    assert set(result.frame["symbol"]) == {configured}
    assert set(result.frame["source"]) == {"configured"}
    pd.testing.assert_series_equal(
        result.frame["market_cap"], _close_times(market, configured, 2.5e9), check_names=False
    )
    [error] = result.errors
    assert error.symbol == missing and error.code == 400  # the /market_cap plan refusal
    assert "/market_cap refused" in error.message and "with your plan" in error.message
    assert "/statistics failed: [403]" in error.message
    assert "no configured share count" in error.message


def test_a_symbol_with_no_way_to_a_cap_names_every_attempt(no_caps_url: str) -> None:
    # The sandbox has no statistics for an ETF, and no share count is configured.
    source = _source(no_caps_url)
    result = source.fetch_market_caps(["SPY"], START, END)
    source.close()
    assert result.frame.empty and list(result.frame.columns) == list(MARKET_CAP_COLUMNS)
    [error] = result.errors
    assert error.symbol == "SPY" and error.code == 400
    for attempt in ("/market_cap refused", "/statistics failed: [400]", "configured share"):
        assert attempt in error.message


def test_statistics_are_asked_once_per_symbol(
    no_caps_url: str, no_stats_url: str, stocks: list[str]
) -> None:
    source = _source(no_caps_url)
    paths = _paths(source)
    first = source.fetch_market_caps(stocks, START, date(2024, 1, 31))
    refused_asks = paths.count("/market_cap")
    second = source.fetch_market_caps(stocks, date(2024, 2, 1), END)
    source.close()
    assert first.errors == second.errors == []
    assert paths.count("/statistics") == len(stocks)
    # The plan refuses /market_cap as a whole: once seen (symbols asked concurrently may each
    # see it), the rest of the run goes straight to the fallback. First window: /market_cap
    # until refused, one batched /time_series, /statistics per symbol; then /time_series only.
    assert 1 <= refused_asks <= len(stocks) and paths.count("/market_cap") == refused_asks
    assert first.requests == refused_asks + 1 + len(stocks) and second.requests == 1
    assert source.stats.plan_skips["/market_cap"] == 2 * len(stocks) - refused_asks
    # A refusal is kept too: the plan will not change within the run.
    refusing = _source(no_stats_url, shares={s: 1e9 for s in stocks})
    paths = _paths(refusing)
    for _ in range(2):
        assert refusing.fetch_market_caps(stocks, START, END).errors == []
    refusing.close()
    # /statistics refused for the plan: asked once, remembered for every other symbol.
    assert paths.count("/statistics") == 1


def test_a_symbol_not_listed_in_the_window_gets_no_rows(
    no_caps_url: str, market: SandboxMarket
) -> None:
    late = next(s for s in market.symbols if market.listed(s) > date(2001, 1, 31))
    source = _source(no_caps_url)
    paths = _paths(source)
    result = source.fetch_market_caps([late], date(2001, 1, 1), date(2001, 1, 31))
    source.close()
    assert result.frame.empty and result.errors == []
    assert "/statistics" not in paths  # no closes, so nothing to spend 50 credits on


def test_benchmark_served_by_spx(base_url: str, market: SandboxMarket) -> None:
    source = _source(base_url)
    result, served = fetch_benchmark(source, START, END)
    source.close()
    assert served == "SPX" and result.errors == [] and result.requests == 1
    pd.testing.assert_frame_equal(result.frame, market.prices(["SPX"], START, END))


def test_benchmark_falls_back_to_spy_when_spx_is_refused(
    no_index_url: str, market: SandboxMarket
) -> None:
    source = _source(no_index_url)
    result, served = fetch_benchmark(source, START, END)
    assert served == "SPY" and result.errors == [] and result.requests == 2
    # Rows keep the serving ETF's own ticker (its closes are a tenth of the index's).
    pd.testing.assert_frame_equal(result.frame, market.prices(["SPY"], START, END))
    result, served = fetch_benchmark(source, START, END, ("SPX", "NOPE", "VOO"))
    assert served == "VOO" and set(result.frame["symbol"]) == {"VOO"}
    with pytest.raises(BenchmarkUnavailableError, match=r"SPX: \[403\].*NOPE: \[400\]") as info:
        fetch_benchmark(source, START, END, ("SPX", "NOPE"))
    assert [e.symbol for e in info.value.errors] == ["SPX", "NOPE"]
    source.close()


def test_benchmark_over_a_window_without_sessions(base_url: str, no_index_url: str) -> None:
    christmas = date(2024, 12, 25)
    for url, expected, requests in ((base_url, "SPX", 1), (no_index_url, "SPY", 2)):
        source = _source(url)
        result, served = fetch_benchmark(source, christmas, christmas)
        source.close()
        assert result.frame.empty and result.errors == []
        assert (served, result.requests) == (expected, requests)


def test_benchmark_candidates_come_from_settings() -> None:
    assert ("SPX", *TwelveDataSettings().benchmark_fallbacks) == BENCHMARK_CANDIDATES
    assert benchmark_candidates(Settings()) == BENCHMARK_CANDIDATES
    custom = Settings(benchmark="SPY", twelvedata={"benchmark_fallbacks": ["ivv", "spy"]})
    assert benchmark_candidates(custom) == ("SPY", "IVV")


def test_open_source_threads_plan_switches_and_configured_shares() -> None:
    as_of = date(2024, 6, 28)
    market = SandboxMarket(3, 5, as_of)
    symbol = next(s for s in market.symbols if market.listed(s) < START)
    settings = Settings(
        sandbox={"seed": 3, "n_symbols": 5, "market_cap_plan": False, "statistics_plan": False,
                 "index_access": False},
        twelvedata={"shares_outstanding": {symbol.lower(): 1e9}},
    )  # fmt: skip
    with open_source(settings, as_of=as_of) as source:
        caps = source.fetch_market_caps([symbol], START, END)
        prices, served = fetch_benchmark(source, START, END, benchmark_candidates(settings))
    assert caps.errors == [] and set(caps.frame["source"]) == {"configured"}
    assert served == "SPY" and not prices.frame.empty


def test_sandbox_plan_errors_come_in_vendor_bodies(
    no_caps_url: str, no_index_url: str, market: SandboxMarket
) -> None:
    r = httpx.get(f"{no_caps_url}/market_cap", params={"symbol": market.symbols[0]}, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["code"] == 400 and "not available with your plan" in r.json()["message"]
    params = {"symbol": "SPX,SPY,IVV,VOO", "interval": "1day", "outputsize": 2}
    body = httpx.get(f"{no_index_url}/time_series", params=params, headers=AUTH).json()
    assert body["SPX"]["status"] == "error" and body["SPX"]["code"] == 403
    assert [body[s]["meta"]["type"] for s in ("SPY", "IVV", "VOO")] == ["ETF"] * 3
    assert not {"IVV", "VOO"} & set(market.symbols)
