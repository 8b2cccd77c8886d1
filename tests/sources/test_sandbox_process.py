"""The sandbox served from a child process answers exactly like the in-thread server."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from indexlake.sources.sandbox.faults import FaultInjector
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.process import serve_sandbox_process
from indexlake.sources.sandbox.server import serve_sandbox

AS_OF = date(2025, 6, 30)
PARAMS = {"start_date": "2024-01-01", "end_date": "2024-04-01", "apikey": "k"}


def _answers(url: str, symbols: str) -> list[bytes]:
    series = {**PARAMS, "symbol": symbols, "interval": "1day"}
    return [
        httpx.get(f"{url}/time_series", params=series).content,
        httpx.get(f"{url}/dividends", params={**PARAMS, "symbol": "SPX"}).content,
    ]


def test_child_process_serves_the_same_answers_and_stops(market: SandboxMarket) -> None:
    symbols = ",".join(market.symbols[:3])
    with serve_sandbox(SandboxMarket(seed=7, n_symbols=40, as_of=AS_OF)) as thread_url:
        expected = _answers(thread_url, symbols)
    with serve_sandbox_process(7, 40, AS_OF, credits_per_minute=0) as url:
        got = _answers(url, symbols)
        assert httpx.get(f"{url}/__requests").json() == {"/time_series": 1, "/dividends": 1}
    assert got == expected
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/__requests", timeout=2)


def test_faults_need_the_in_thread_server() -> None:
    faults = FaultInjector({"bad_gateway_page": 0.5}, seed=1)
    with pytest.raises(ValueError, match="in-process"), serve_sandbox_process(7, 5, faults=faults):
        pass
