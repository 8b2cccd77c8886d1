from __future__ import annotations

from datetime import date

import httpx
import orjson
import pandas as pd
import pytest

from indexlake.sources.base import PRICE_COLUMNS
from indexlake.sources.errors import (
    AuthError,
    BadRequestError,
    DailyLimitError,
    MinuteLimitError,
    PayloadError,
    PlanError,
    ServerError,
    classify,
    is_no_data,
    is_retryable,
)
from indexlake.sources.parsing import price_rows
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient, TwelveDataSource

START, END = date(2024, 1, 1), date(2024, 12, 31)


def test_prices_round_trip_to_typed_frames(client: TwelveDataClient, market: SandboxMarket) -> None:
    symbols = [*market.symbols[:25], "SPX"]
    result = TwelveDataSource(client, name="sandbox").fetch_prices(symbols, START, END)
    assert result.errors == [] and result.requests == 1
    assert list(result.frame.columns) == list(PRICE_COLUMNS)
    pd.testing.assert_frame_equal(result.frame, market.prices(symbols, START, END))


def test_batches_and_per_symbol_errors(base_url: str, market: SandboxMarket) -> None:
    with TwelveDataClient(base_url, "k", batch_size=3) as c:
        symbols = [market.symbols[0], "NOPE", market.symbols[1], market.symbols[2]]
        result = c.time_series(symbols, START, date(2024, 1, 31))
    assert result.requests == 2
    assert [(e.symbol, e.code) for e in result.errors] == [("NOPE", 400)]
    assert set(result.frame["symbol"]) == {market.symbols[0], market.symbols[1], market.symbols[2]}


def test_empty_range_is_an_empty_frame(client: TwelveDataClient, market: SandboxMarket) -> None:
    for symbols in ([market.symbols[0]], market.symbols[:3]):
        result = client.time_series(symbols, date(2024, 12, 25), date(2024, 12, 25))
        assert result.frame.empty and result.errors == []
        assert list(result.frame.columns) == list(PRICE_COLUMNS)
        assert str(result.frame["volume"].dtype) == "Int64"


def test_long_ranges_are_windowed(base_url: str, market: SandboxMarket) -> None:
    with TwelveDataClient(base_url, "k", window_bars=40) as c:
        result = c.time_series(market.symbols[:2], START, date(2024, 6, 30))
    assert result.requests == 4  # 124 sessions in windows of 40 overlapping by one
    pd.testing.assert_frame_equal(
        result.frame, market.prices(market.symbols[:2], START, date(2024, 6, 30))
    )


def test_more_than_5000_bars(client: TwelveDataClient, market: SandboxMarket) -> None:
    result = client.time_series(["SPX"], market.ORIGIN, market.as_of)
    assert len(result.frame) > 6000 and result.requests == 2
    pd.testing.assert_frame_equal(result.frame, market.prices(["SPX"], market.ORIGIN, market.as_of))


def test_market_caps_paginate(client: TwelveDataClient, market: SandboxMarket) -> None:
    full = next(s for s in market.symbols if market.listed(s) == market.ORIGIN)
    symbols = [full, "NOPE"]
    result = client.market_caps(symbols, date(2000, 1, 1), market.as_of)
    expected = market.market_caps(symbols[:1], date(2000, 1, 1), market.as_of)
    assert result.requests == 3 and [e.symbol for e in result.errors] == ["NOPE"]
    pd.testing.assert_frame_equal(result.frame.drop(columns="source"), expected)
    assert set(result.frame["source"]) == {"market_cap"}
    assert client.statistics(full)["statistics"]["stock_statistics"]["shares_outstanding"] > 0


def _mock(handler) -> tuple[TwelveDataClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request, len(seen))

    transport = httpx.MockTransport(record)
    client = TwelveDataClient("https://api.example", "secret-key", transport=transport,
                              max_attempts=3, backoff_base=0.001, backoff_max=0.01,
                              minute_seconds=0.0)  # fmt: skip
    return client, seen


def _series(symbol: str, values: list[dict]) -> dict:
    return {"meta": {"symbol": symbol}, "values": values, "status": "ok"}


ROW = {"datetime": "2024-03-07", "open": "1.00000", "high": "2.00000", "low": "0.50000",
       "close": "1.50000", "volume": "100"}  # fmt: skip


def test_key_only_in_header_and_gateway_pages_are_retried() -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(502, text="<html>Bad gateway</html>")
        return httpx.Response(200, content=orjson.dumps(_series("AAA", [ROW])))

    client, seen = _mock(handler)
    result = client.time_series(["AAA"], date(2024, 3, 1), date(2024, 3, 31))
    assert len(result.frame) == 1 and result.requests == 2
    assert all("secret-key" not in str(r.url) for r in seen)
    assert seen[0].headers["authorization"] == "apikey secret-key"
    assert "secret-key" not in repr(client)


def test_sandbox_requests_carry_no_key_in_url(base_url: str) -> None:
    urls: list[str] = []
    hooks = {"request": [lambda r: urls.append(str(r.url))]}
    with TwelveDataClient(base_url, "abc123") as c:
        c._http.event_hooks = hooks
        c.time_series(["SPX"], START, date(2024, 1, 10))
    assert urls and all("abc123" not in u for u in urls)


def test_duplicates_collapse_only_when_identical_and_bad_values_name_the_row() -> None:
    day2 = {**ROW, "datetime": "2024-03-08", "volume": None}
    rows = [ROW, {**ROW, "close": "1.75000"}, day2, day2]
    client, _ = _mock(lambda r, n: httpx.Response(200, content=orjson.dumps(_series("A", rows))))
    frame = client.time_series(["A"], date(2024, 3, 1), date(2024, 3, 31)).frame
    # 03-07 conflicts: both versions stay, in vendor order, for validation; 03-08 is identical
    # twice: kept once.
    assert frame["close"].tolist() == [1.5, 1.75, 1.5]
    assert frame["volume"].isna().tolist() == [False, False, True]
    assert client.stats.duplicate_conflicts == 2
    bad = {"A": _series("A", [{**ROW, "high": "n/a"}]), "B": _series("B", [ROW]),
           "C": _series("C", [{**ROW, "volume": "1.5"}])}  # fmt: skip
    client, seen = _mock(lambda r, n: httpx.Response(200, content=orjson.dumps(bad)))
    result = client.time_series(["A", "B", "C"], date(2024, 3, 1), date(2024, 3, 31))
    # Each unparseable value fails its own symbol, named with the row; neighbours are kept.
    assert [(e.symbol, e.code, e.message) for e in result.errors] == [
        ("A", 0, "unparseable high 'n/a' for symbol A on 2024-03-07"),
        ("C", 0, "non-integer volume '1.5' for symbol C on 2024-03-07"),
    ]
    assert result.frame["symbol"].tolist() == ["B"] and len(seen) == 1


@pytest.mark.parametrize(
    ("code", "message", "kind", "retry"),
    [
        (401, "**apikey** parameter is incorrect", AuthError, False),
        (403, "upgrade", PlanError, False),
        (400, "This symbol is not available with your plan", PlanError, False),
        (429, "You have run out of API credits for the current minute.", MinuteLimitError, True),
        (429, "You have run out of API credits for the day.", DailyLimitError, False),
        (500, "oops", ServerError, True),
        (414, "too long", BadRequestError, False),
        (404, "Data not found", BadRequestError, True),
        (400, "**symbol** not found", BadRequestError, False),
    ],
)
def test_error_taxonomy(code: int, message: str, kind: type, retry: bool) -> None:
    exc = classify(code, message)
    assert type(exc) is kind and is_retryable(exc) is retry and exc.code == code


def test_body_code_beats_http_status_and_fatal_errors_raise() -> None:
    day = {"code": 429, "message": "run out of API credits for the day", "status": "error"}
    client, seen = _mock(lambda r, n: httpx.Response(200, content=orjson.dumps(day)))
    with pytest.raises(DailyLimitError):
        client.time_series(["A", "B"], START, END)
    assert len(seen) == 1  # never retried
    minute = {**day, "message": "run out of API credits for the current minute"}
    client, seen = _mock(lambda r, n: httpx.Response(200, content=orjson.dumps(minute)))
    with pytest.raises(MinuteLimitError):
        client.market_caps(["A"], START, END)
    assert len(seen) == 3  # retried up to max_attempts
    bad = {"code": 400, "message": "**start_date** is invalid", "status": "error"}
    client, seen = _mock(lambda r, n: httpx.Response(200, content=orjson.dumps(bad)))
    assert [e.code for e in client.time_series(["A"], START, END).errors] == [400]
    assert len(seen) == 1
    assert is_no_data(400, "No data is available on the specified dates. Try setting ...")


def test_real_credit_limit_is_survived_by_pacing(market: SandboxMarket) -> None:
    with (
        serve_sandbox(market, credits_per_minute=2, minute_seconds=0.3) as url,
        TwelveDataClient(url, "k", credits_per_minute=2, minute_seconds=0.3) as c,
    ):
        result = c.time_series(market.symbols[:4], START, date(2024, 1, 10))
    assert result.errors == [] and result.frame["symbol"].nunique() == 4
    assert result.requests == 2  # batches capped to the per-minute budget, no 429 seen


@pytest.mark.parametrize("columnar_bytes", [0, 10**12])
def test_columnar_and_row_parsers_agree(
    client: TwelveDataClient, market: SandboxMarket, columnar_bytes: int
) -> None:
    client.columnar_bytes = columnar_bytes
    symbols = [market.symbols[5], "NOPE", "SPX"]
    for batch in (symbols, symbols[:1]):
        result = client.time_series(batch, START, END)
        pd.testing.assert_frame_equal(
            result.frame, market.prices([s for s in batch if s != "NOPE"], START, END)
        )
        assert [e.symbol for e in result.errors] == (["NOPE"] if "NOPE" in batch else [])
    empty = client.time_series(market.symbols[:2], date(2024, 12, 25), date(2024, 12, 25))
    assert empty.frame.empty and empty.errors == []


def test_columnar_parser_handles_missing_keys_and_nulls() -> None:
    rows = [ROW, {k: v for k, v in ROW.items() if k != "volume"} | {"datetime": "2024-03-08"},
            {**ROW, "datetime": "2024-03-11", "open": None}]  # fmt: skip
    body = orjson.dumps({"A": _series("A", rows), "B": {"code": 400, "message": "x",
                                                         "status": "error"}})  # fmt: skip
    client, _ = _mock(lambda r, n: httpx.Response(200, content=body))
    client.columnar_bytes = 0
    result = client.time_series(["A", "B"], date(2024, 3, 1), date(2024, 3, 31))
    assert result.frame["volume"].isna().tolist() == [False, True, False]
    assert result.frame["open"].isna().tolist() == [False, False, True]
    assert [(e.symbol, e.code) for e in result.errors] == [("B", 400)]
    bad = orjson.dumps(_series("A", [{**ROW, "low": "?"}]))
    client, _ = _mock(lambda r, n: httpx.Response(200, content=bad))
    client.columnar_bytes = 0
    [error] = client.time_series(["A"], date(2024, 3, 1), date(2024, 3, 31)).errors
    assert error.symbol == "A" and "low '?' for symbol A on 2024-03-07" in error.message
    with pytest.raises(PayloadError, match="low '\\?' for symbol A") as info:
        price_rows([("A", [{**ROW, "low": "?"}])])
    assert info.value.symbol == "A"
