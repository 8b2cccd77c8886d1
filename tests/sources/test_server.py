from __future__ import annotations

import re
import time
from datetime import date

import httpx
import pytest

from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import NO_DATA, create_sandbox_app, serve_sandbox

AUTH = {"Authorization": "apikey k"}


def get(url: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(url + path, params=params, headers=AUTH)


def test_values_are_strings_with_five_decimals(base_url: str, market: SandboxMarket) -> None:
    sym = market.symbols[0]
    r = get(base_url, "/time_series", symbol=sym, interval="1day", outputsize=5)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["meta"]["symbol"] == sym and body["meta"]["interval"] == "1day"
    values = body["values"]
    assert len(values) == 5 and values[0]["datetime"] == "2025-06-30"  # desc by default
    for row in values:
        assert all(isinstance(v, str) for v in row.values())
        assert re.fullmatch(r"\d+\.\d{5}", row["close"]) and row["volume"].isdigit()


def test_outputsize_counts_from_the_end(base_url: str, market: SandboxMarket) -> None:
    sym = market.symbols[1]
    body = get(
        base_url, "/time_series", symbol=sym, interval="1day", start_date="2024-01-01",
        end_date="2024-02-01", outputsize=3, order="asc",
    ).json()  # fmt: skip
    assert [v["datetime"] for v in body["values"]] == ["2024-01-29", "2024-01-30", "2024-01-31"]


def test_batch_is_keyed_by_symbol_and_errors_stay_per_symbol(
    base_url: str, market: SandboxMarket
) -> None:
    a, b = market.symbols[:2]
    r = get(base_url, "/time_series", symbol=f"{a},NOPE,{b}", interval="1day", outputsize=2)
    body = r.json()
    assert r.status_code == 200 and list(body) == [a, "NOPE", b]
    assert body[a]["status"] == "ok" and body[b]["status"] == "ok"
    assert body["NOPE"]["status"] == "error" and body["NOPE"]["code"] == 400


def test_whole_call_errors_come_with_http_200(base_url: str, market: SandboxMarket) -> None:
    single = get(base_url, "/time_series", symbol="NOPE", interval="1day").json()
    assert single["code"] == 400 and single["status"] == "error"
    r = get(base_url, "/time_series", symbol=market.symbols[0], interval="1h")
    assert r.status_code == 200 and r.json()["code"] == 400
    empty = get(
        base_url, "/time_series", symbol=market.symbols[0], interval="1day",
        start_date="2024-12-25", end_date="2024-12-26",
    ).json()  # fmt: skip
    assert empty == {"code": 400, "message": NO_DATA, "status": "error"}
    unauth = httpx.get(base_url + "/time_series", params={"symbol": "SPX"}).json()
    assert unauth["code"] == 401
    assert httpx.get(base_url + "/time_series", params={"symbol": "SPX", "apikey": "q",
                     "interval": "1day"}).json()["status"] == "ok"  # fmt: skip


def test_market_cap_pages_and_integers(base_url: str, market: SandboxMarket) -> None:
    sym = market.symbols[2]
    p1 = get(base_url, "/market_cap", symbol=sym, start_date="2024-01-01",
             end_date="2024-02-01", outputsize=10).json()  # fmt: skip
    p3 = get(base_url, "/market_cap", symbol=sym, start_date="2024-01-01",
             end_date="2024-02-01", outputsize=10, page=3).json()  # fmt: skip
    assert "status" not in p1 and len(p1["market_cap"]) == 10 and len(p3["market_cap"]) == 1
    assert all(isinstance(row["value"], int) for row in p1["market_cap"])
    assert p3["market_cap"][0]["date"] == "2024-01-02"
    caps = market.market_caps([sym], date(2024, 1, 2), date(2024, 1, 2))
    assert p3["market_cap"][0]["value"] == caps["market_cap"].iloc[0]
    none = get(base_url, "/market_cap", symbol=sym, start_date="2024-12-25",
               end_date="2024-12-26").json()  # fmt: skip
    assert none["market_cap"] == []


def test_statistics_shares(base_url: str, market: SandboxMarket) -> None:
    sym = market.symbols[3]
    body = get(base_url, "/statistics", symbol=sym).json()
    shares = body["statistics"]["stock_statistics"]["shares_outstanding"]
    assert shares == market.shares_outstanding(sym, market.as_of)


def test_minute_credit_limit_answers_429_in_body(market: SandboxMarket) -> None:
    with serve_sandbox(market, credits_per_minute=3, minute_seconds=0.5) as url:
        syms = ",".join(market.symbols[:2])
        ok = get(url, "/time_series", symbol=syms, interval="1day", outputsize=1)
        assert ok.headers["api-credits-used"] == "2" and ok.headers["api-credits-left"] == "1"
        over = get(url, "/time_series", symbol=syms, interval="1day", outputsize=1)
        assert over.status_code == 200 and over.json()["code"] == 429
        assert "current minute" in over.json()["message"]
        time.sleep(0.55)  # the next minute window
        again = get(url, "/time_series", symbol=syms, interval="1day").json()
        assert again[market.symbols[0]]["status"] == "ok"


def test_matching_http_status_when_asked(market: SandboxMarket) -> None:
    app = create_sandbox_app(market, http_error_status=True, api_key="right")
    with serve_sandbox(market, http_error_status=True, api_key="right") as url:
        r = httpx.get(url + "/statistics", params={"symbol": "X"}, headers=AUTH)
        assert r.status_code == 401 and r.json()["code"] == 401
    assert app is not None


@pytest.mark.parametrize("path", ["/time_series", "/market_cap"])
def test_unknown_paths_and_missing_symbol(base_url: str, path: str) -> None:
    assert get(base_url, path).json()["code"] == 400
    assert get(base_url, "/nothing").json()["code"] == 404


def test_serve_sandbox_leaves_the_process_logging_alone() -> None:
    """uvicorn's default dictConfig flushes and closes every handler of the process (e.g.
    Prefect's API log handler, which deadlocked a flow run); the sandbox must not do that."""
    import logging

    from indexlake.sources.sandbox.market import SandboxMarket
    from indexlake.sources.sandbox.server import serve_sandbox

    class Recording(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.calls.append("emit")

        def flush(self) -> None:
            self.calls.append("flush")

        def close(self) -> None:
            self.calls.append("close")
            super().close()

    handler = Recording()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with serve_sandbox(SandboxMarket(seed=1, n_symbols=2)):
            pass
        assert handler in root.handlers
        assert "flush" not in handler.calls and "close" not in handler.calls
    finally:
        root.removeHandler(handler)
