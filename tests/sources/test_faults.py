"""The sandbox's switchable faults: decisions, corruptions, and what goes over the wire."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import httpx
import orjson
import pytest

from indexlake.config import Settings
from indexlake.sources.sandbox.faults import (
    DATA_KINDS,
    FAULT_KINDS,
    STOPPING_KINDS,
    FaultInjector,
    corrupt,
    expand_rates,
)
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox

AUTH = {"Authorization": "apikey k"}


def test_all_spreads_over_every_kind_but_the_day_limits() -> None:
    rates = expand_rates({"all": 0.1, "timeout": 0.3, "stale": 0})
    assert set(rates) == set(FAULT_KINDS) - STOPPING_KINDS - {"stale"}
    assert rates["timeout"] == 0.3 and rates["slow"] == 0.1
    with pytest.raises(ValueError, match="unknown sandbox fault 'timeouts'"):
        expand_rates({"timeouts": 0.1})
    with pytest.raises(ValueError, match=r"'slow': probability 1.5"):
        expand_rates({"slow": 1.5})
    with pytest.raises(ValueError, match="unknown sandbox fault"):
        FaultInjector(schedule={"nope": [1]})


def test_settings_take_faults_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEXLAKE_SANDBOX__FAULTS__TIMEOUT", "0.02")
    monkeypatch.setenv("INDEXLAKE_SANDBOX__FAULT_SEED", "9")
    sandbox = Settings().sandbox
    assert sandbox.faults == {"timeout": 0.02} and sandbox.fault_seed == 9
    monkeypatch.setenv("INDEXLAKE_SANDBOX__FAULTS__TIMEOTU", "0.02")
    with pytest.raises(ValueError, match="unknown sandbox fault 'timeotu'"):
        Settings()


def _decisions(injector: FaultInjector, keys: list[str]) -> list[str | None]:
    return [injector.whole("/time_series", {"symbol": k}).kind for k in keys]


def test_decisions_are_seeded_per_request_and_retries_draw_again() -> None:
    keys = [f"S{i}" for i in range(400)]
    rates = {"server_error_page": 0.1}
    first = _decisions(FaultInjector(rates, seed=1), keys)
    assert first == _decisions(FaultInjector(rates, seed=1), keys)
    assert first != _decisions(FaultInjector(rates, seed=2), keys)
    # Independent of order (threads interleave requests differently from run to run).
    shuffled = FaultInjector(rates, seed=1)
    by_key = dict(zip(keys[::-1], _decisions(shuffled, keys[::-1]), strict=True))
    assert [by_key[k] for k in keys] == first
    assert 20 <= first.count("server_error_page") <= 60  # about 10% of 400
    # The same request again is a fresh draw: a retry is not doomed to the same fault.
    again = FaultInjector({"server_error_page": 0.5}, seed=3)
    outcomes = {again.whole("/time_series", {"symbol": "A"}).kind for _ in range(30)}
    assert outcomes == {None, "server_error_page"}


def test_schedules_fire_on_the_named_requests_only() -> None:
    injector = FaultInjector(schedule={"bad_gateway_page": [2, 4]})
    kinds = _decisions(injector, ["A"] * 5)
    assert kinds == [None, "bad_gateway_page", None, "bad_gateway_page", None]
    assert injector.report()["injected"] == {"bad_gateway_page": 2}


def _rows(n: int) -> list[dict]:
    days = [date(2024, 3, d) for d in (4, 5, 6, 7, 8, 11, 12, 13)][:n]
    return [
        {"datetime": d.isoformat(), "open": "10.00000", "high": "11.00000", "low": "9.00000",
         "close": f"{10 + i}.00000", "volume": "1000"}
        for i, d in enumerate(days)
    ]  # fmt: skip


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("kind", DATA_KINDS)
def test_each_data_fault_corrupts_the_rows_detectably(kind: str, descending: bool) -> None:
    clean = _rows(8)[::-1] if descending else _rows(8)
    rows = [dict(r) for r in clean]
    assert corrupt(kind, rows, 0.4)
    dates = [r["datetime"] for r in rows]
    clean_dates = [r["datetime"] for r in clean]
    if kind == "duplicate_conflict":
        [twice] = {d for d in dates if dates.count(d) == 2}
        closes = {r["close"] for r in rows if r["datetime"] == twice}
        assert len(closes) == 2
    elif kind == "null_fields":
        assert sum(r["close"] is None for r in rows) == 1 and len(rows) == 8
    elif kind == "nonpositive_price":
        assert sum(float(r["close"]) <= 0 for r in rows) == 1
    elif kind == "unadjusted_split":
        ratios = {float(r["close"]) / float(c["close"]) for r, c in zip(rows, clean, strict=True)}
        assert ratios == {1.0, 2.0}
        doubled = sorted(r["datetime"] for r, c in zip(rows, clean, strict=True)
                         if r["close"] != c["close"])  # fmt: skip
        assert doubled == sorted(clean_dates)[: len(doubled)]  # every row before the split
        assert all(r["volume"] == "500" for r in rows if r["datetime"] in doubled)
    elif kind == "missing_days":
        assert set(dates) < set(clean_dates) and min(dates) == min(clean_dates)
        assert max(dates) == max(clean_dates) and 1 <= 8 - len(rows) <= 3
    elif kind == "stale":
        assert set(dates) == set(clean_dates) - {max(clean_dates)}


@pytest.fixture(scope="module")
def scheduled(market: SandboxMarket) -> Iterator[tuple[str, FaultInjector]]:
    """A sandbox whose whole-answer faults fire on requests 1..10, one kind each."""
    whole = [
        "minute_limit", "minute_limit_http", "day_limit", "day_limit_http",
        "server_error_page", "bad_gateway_page", "malformed_json", "truncated_json", "slow",
        "timeout",
    ]  # fmt: skip
    injector = FaultInjector(
        schedule={k: [i + 1] for i, k in enumerate(whole)}, slow_seconds=0.2, hang_seconds=0.6
    )
    with serve_sandbox(market, faults=injector) as url:
        yield url, injector


def test_whole_answer_faults_over_the_wire(
    scheduled: tuple[str, FaultInjector], market: SandboxMarket
) -> None:
    url, injector = scheduled
    params = {"symbol": market.symbols[0], "interval": "1day", "outputsize": 3}

    def get(timeout: float = 5.0) -> httpx.Response:
        return httpx.get(url + "/time_series", params=params, headers=AUTH, timeout=timeout)

    r = get()
    assert r.status_code == 200 and r.json()["code"] == 429 and "current minute" in r.text
    r = get()
    assert r.status_code == 429 and r.json()["code"] == 429 and "current minute" in r.text
    r = get()
    assert r.status_code == 200 and r.json()["code"] == 429 and "for the day" in r.text
    r = get()
    assert r.status_code == 429 and "for the day" in r.json()["message"]
    for status in (500, 502):
        r = get()
        assert r.status_code == status and r.headers["content-type"].startswith("text/html")
        assert r.text.startswith("<html>")
    for _ in ("malformed", "truncated"):
        r = get()
        assert r.status_code == 200 and r.content.startswith(b"{")
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(r.content)
    began = time.monotonic()
    assert get().json()["status"] == "ok" and time.monotonic() - began >= 0.2  # slow
    with pytest.raises(httpx.TimeoutException):
        get(timeout=0.2)  # hangs 0.6 s
    assert get().json()["status"] == "ok"  # request 11: no fault
    faults = httpx.get(url + "/__faults").json()
    assert faults["injected"] == dict.fromkeys(sorted(faults["schedule"]), 1) == injector.counts
    assert faults["total"] == 10


def test_symbol_errors_stay_under_their_key(market: SandboxMarket) -> None:
    injector = FaultInjector(schedule={"symbol_error": [2], "null_fields": [3]})
    a, b, c = market.symbols[:3]
    with serve_sandbox(market, faults=injector) as url:
        body = httpx.get(
            url + "/time_series", headers=AUTH,
            params={"symbol": f"{a},{b},{c}", "interval": "1day", "outputsize": 5},
        ).json()  # fmt: skip
    assert body[a]["status"] == "ok" and len(body[a]["values"]) == 5
    assert body[b]["status"] == "error" and body[b]["code"] in (500, 404)
    assert body[c]["status"] == "ok" and sum(v["close"] is None for v in body[c]["values"]) == 1
    assert injector.counts == {"symbol_error": 1, "null_fields": 1}
