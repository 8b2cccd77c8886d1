"""The client's decision for every error class, against the sandbox's faults over loopback HTTP
(httpx's MockTransport only for what the sandbox cannot produce)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest

from indexlake.config import Settings
from indexlake.sources.errors import (
    AuthError,
    BadRequestError,
    DailyLimitError,
    next_utc_midnight,
)
from indexlake.sources.factory import open_source
from indexlake.sources.sandbox.faults import DATA_KINDS, FaultInjector
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient

START, END = date(2024, 1, 1), date(2024, 3, 31)


@contextmanager
def faulty(
    market: SandboxMarket, injector: FaultInjector, **client_options: object
) -> Iterator[TwelveDataClient]:
    options = {"backoff_base": 0.01, "backoff_max": 0.05, "minute_seconds": 0.2, "timeout": 2.0,
               "max_attempts": 4, **client_options}  # fmt: skip
    with (
        serve_sandbox(market, faults=injector, minute_seconds=0.2) as url,
        TwelveDataClient(url, "k", **options) as client,  # type: ignore[arg-type]
    ):
        yield client


RETRIED = [
    ("timeout", "timeout"),
    ("minute_limit", "minute_limit"),
    ("minute_limit_http", "minute_limit"),
    ("server_error_page", "gateway_page"),
    ("bad_gateway_page", "gateway_page"),
    ("malformed_json", "malformed_json"),
    ("truncated_json", "malformed_json"),
]


@pytest.mark.parametrize("columnar_bytes", [0, 10**12])  # the raw (Arrow) and JSON paths
@pytest.mark.parametrize(("fault", "counted_as"), RETRIED)
def test_transient_faults_are_retried_and_change_nothing(
    market: SandboxMarket, fault: str, counted_as: str, columnar_bytes: int
) -> None:
    symbols = market.symbols[:3]
    injector = FaultInjector(schedule={fault: [1]}, hang_seconds=3.0)
    with faulty(market, injector) as client:
        client.columnar_bytes = columnar_bytes
        result = client.time_series(symbols, START, END)
    assert dict(client.stats.retries) == {counted_as: 1} and injector.counts == {fault: 1}
    assert result.errors == [] and result.requests == 2
    pd.testing.assert_frame_equal(result.frame, market.prices(symbols, START, END))


@pytest.mark.parametrize("fault", ["minute_limit", "truncated_json", "day_limit"])
def test_a_single_symbols_whole_call_error_on_the_raw_path(
    market: SandboxMarket, fault: str
) -> None:
    symbol = market.symbols[4]
    with faulty(market, FaultInjector(schedule={fault: [1]})) as client:
        client.columnar_bytes = 0
        if fault.startswith("day"):
            with pytest.raises(DailyLimitError):
                client.time_series([symbol], START, END)
            assert client.requests == 1
            return
        result = client.time_series([symbol], START, END)
    assert result.errors == [] and result.requests == 2 and sum(client.stats.retries.values())
    pd.testing.assert_frame_equal(result.frame, market.prices([symbol], START, END))


def test_a_minute_limit_waits_for_the_next_minute(market: SandboxMarket) -> None:
    injector = FaultInjector(schedule={"minute_limit": [1]})
    with faulty(market, injector, credits_per_minute=100, minute_seconds=0.5) as client:
        began = datetime.now(UTC)
        result = client.time_series(market.symbols[:2], START, END)
        waited = (datetime.now(UTC) - began).total_seconds()
    assert result.errors == [] and client.pacer.stats.minute_resets == 1
    assert waited >= 0.5  # the pacer booked the whole minute before trying again


def test_minute_limits_and_failures_have_separate_attempt_budgets(market: SandboxMarket) -> None:
    schedule = {"minute_limit": [1, 2], "bad_gateway_page": [3, 4]}
    with faulty(market, FaultInjector(schedule=schedule), max_attempts=3) as client:
        result = client.time_series(market.symbols[:2], START, END)
    assert result.errors == [] and result.requests == 5
    assert client.stats.retries == {"minute_limit": 2, "gateway_page": 2}
    schedule = {"bad_gateway_page": [1, 2, 3]}
    with faulty(market, FaultInjector(schedule=schedule), max_attempts=3) as client:
        result = client.time_series(market.symbols[:2], START, END)
    assert [e.code for e in result.errors] == [502, 502] and result.requests == 3


@pytest.mark.parametrize("fault", ["day_limit", "day_limit_http"])
def test_a_daily_limit_stops_at_once_and_says_when_to_resume(
    market: SandboxMarket, fault: str
) -> None:
    injector = FaultInjector(schedule={fault: [1]})
    with faulty(market, injector) as client, pytest.raises(DailyLimitError) as info:
        client.time_series(market.symbols[:3], START, END)
    assert client.requests == 1 and not client.stats.retries  # never retried
    resume = info.value.resume_at
    assert resume == next_utc_midnight() and resume.hour == 0 and resume.tzinfo == UTC
    assert f"resume after {resume:%Y-%m-%d} 00:00 UTC" in str(info.value)
    assert timedelta(0) < resume - datetime.now(UTC) <= timedelta(days=1)


def test_a_real_daily_credit_limit_stops_the_same_way(market: SandboxMarket) -> None:
    with (
        serve_sandbox(market, credits_per_day=4, http_error_status=True) as url,
        TwelveDataClient(url, "k", batch_size=3, max_attempts=3) as client,
    ):
        with pytest.raises(DailyLimitError, match="resume after"):
            client.time_series(market.symbols[:6], START, END)
        assert client.requests == 2  # 3 credits, then refused: not retried


def test_refusals_are_not_retried(market: SandboxMarket) -> None:
    with (
        serve_sandbox(market, api_key="right", index_access=False) as url,
        TwelveDataClient(url, "right", max_attempts=4) as client,
        TwelveDataClient(url, "wrong", max_attempts=4) as stranger,
    ):
        with pytest.raises(AuthError):  # 401: stops the fetch, one request
            stranger.time_series(market.symbols[:2], START, END)
        assert stranger.requests == 1
        result = client.time_series(["SPX", "NOPE", market.symbols[0]], START, END)
    # 403 (plan) and 400 (unknown symbol) stay with their symbol, asked once, never retried.
    assert sorted((e.symbol, e.code) for e in result.errors) == [("NOPE", 400), ("SPX", 403)]
    assert result.requests == 1 and not client.stats.retries and not client.stats.symbol_retries
    assert set(result.frame["symbol"]) == {market.symbols[0]}


@pytest.mark.parametrize("page", [True, False])
def test_uri_too_long_is_not_retried(page: bool) -> None:
    """A 414 comes from a proxy in front of the vendor: the sandbox cannot produce it."""
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if page:
            return httpx.Response(414, text="<html>414 Request-URI Too Large</html>")
        return httpx.Response(200, json={"code": 414, "message": "too long", "status": "error"})

    client = TwelveDataClient("https://api.example", "k", transport=httpx.MockTransport(answer),
                              max_attempts=4, backoff_base=0.001)  # fmt: skip
    result = client.time_series(["A", "B"], START, END)
    assert len(calls) == 1 and [e.code for e in result.errors] == [414, 414]
    with pytest.raises(BadRequestError):
        client._get("/time_series", {"symbol": "A"}, 1)
    assert len(calls) == 2 and not client.stats.retries


def test_one_symbols_error_in_a_batch_is_retried_alone(market: SandboxMarket) -> None:
    symbols = market.symbols[:4]
    injector = FaultInjector(schedule={"symbol_error": [2, 3]})
    with faulty(market, injector) as client:
        result = client.time_series(symbols, START, END)
    assert result.errors == [] and injector.counts == {"symbol_error": 2}
    assert result.requests == 3  # the batch, then each failed symbol alone
    assert sum(client.stats.symbol_retries.values()) == 2 and not client.stats.retries
    pd.testing.assert_frame_equal(result.frame, market.prices(symbols, START, END))


def test_a_symbol_failing_alone_too_is_reported_and_neighbours_kept(
    market: SandboxMarket,
) -> None:
    symbols = market.symbols[:3]
    # Symbol answer 2 fails in the batch; alone it is a whole answer: 4 attempts, all 502.
    injector = FaultInjector(schedule={"symbol_error": [2], "bad_gateway_page": [2, 3, 4, 5]})
    with faulty(market, injector) as client:
        result = client.time_series(symbols, START, END)
    [error] = result.errors
    assert error.symbol == symbols[1] and error.code == 502
    assert client.stats.retries == {"gateway_page": 3}
    others = [symbols[0], symbols[2]]
    pd.testing.assert_frame_equal(result.frame, market.prices(others, START, END))


def test_transport_faults_together_never_change_the_data(market: SandboxMarket) -> None:
    symbols = market.symbols[:30]
    kinds = ["timeout", "slow", "minute_limit", "minute_limit_http", "server_error_page",
             "bad_gateway_page", "malformed_json", "truncated_json", "symbol_error"]  # fmt: skip
    injector = FaultInjector(dict.fromkeys(kinds, 0.05), seed=5, slow_seconds=0.05,
                             hang_seconds=2.0)  # fmt: skip
    with faulty(market, injector, batch_size=8, window_bars=30, max_attempts=8,
                timeout=1.0) as client:  # fmt: skip
        result = client.time_series(symbols, START, END)
    assert result.errors == [] and sum(injector.counts.values()) >= 5
    retried = sum(client.stats.retries.values()) + sum(client.stats.symbol_retries.values())
    assert retried >= sum(v for k, v in injector.counts.items() if k != "slow") - 1
    pd.testing.assert_frame_equal(result.frame, market.prices(symbols, START, END))


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_data_faults_parse_and_reach_the_frame(market: SandboxMarket, kind: str) -> None:
    symbol = market.symbols[0]
    expected = market.prices([symbol], START, END)
    with faulty(market, FaultInjector(schedule={kind: [1]})) as client:
        result = client.time_series([symbol], START, END)
    got = result.frame
    assert result.errors == [] and result.requests == 1
    if kind == "duplicate_conflict":
        assert got.duplicated(["symbol", "date"], keep=False).sum() == 2
        assert client.stats.duplicate_conflicts == 2
        assert len(got) == len(expected) + 1
    elif kind == "null_fields":
        assert got["close"].isna().sum() == 1 and got["volume"].isna().sum() == 1
    elif kind == "nonpositive_price":
        assert (got["close"] <= 0).sum() == 1
    elif kind == "unadjusted_split":
        ratio = got["close"].to_numpy() / expected["close"].to_numpy()
        assert set(np.round(ratio, 4)) == {1.0, 2.0}
        assert (np.diff(ratio) <= 0).all()  # doubled up to a date, adjusted after it
    elif kind == "missing_days":
        assert set(got["date"]) < set(expected["date"]) and len(got) >= len(expected) - 3
    elif kind == "stale":
        assert got["date"].max() < expected["date"].max() and len(got) == len(expected) - 1


def test_settings_switch_faults_on_for_the_pipelines_source(tmp_path: Path) -> None:
    report = tmp_path / "chaos" / "faults.jsonl"
    settings = Settings(
        provider="sandbox",
        sandbox={"n_symbols": 5, "faults": {"stale": 1.0, "bad_gateway_page": 0.3},
                 "fault_seed": 3, "minute_seconds": 0.5, "fault_report": report},
        twelvedata={"max_attempts": 10},
    )  # fmt: skip
    as_of = date(2025, 6, 30)
    with open_source(settings, as_of=as_of) as source:
        market = SandboxMarket(settings.sandbox.seed, 5, as_of)
        symbols = [s for s in market.symbols if market.listed(s) < START]
        result = source.fetch_prices(symbols, START, END)
        served = httpx.get(source.client.base_url + "/__faults").json()["injected"]
        assert source.sandbox_faults.counts == served
        assert source.client.pacer.minute_seconds == 0.5
    assert result.errors == [] and served["stale"] >= len(symbols)
    assert source.stats.retries.get("gateway_page", 0) == served.get("bad_gateway_page", 0)
    last = result.frame.groupby("symbol")["date"].max()
    assert (last < pd.Timestamp(END)).all()  # every symbol's newest bar withheld
    [line] = report.read_text().splitlines()
    record = orjson.loads(line)
    assert record["faults"]["injected"] == served
    assert record["client"]["retries"] == dict(source.stats.retries)
    assert record["requests"] == result.requests
    # The pacer charged every attempt; the sandbox only those it answered for real.
    assert 0 < sum(used for _, used in record["credits"]["ledger"]) <= record["pacer"]["credits"]
