"""Credit pacing: unit tests on a simulated clock, and a real paced fetch against the sandbox's
per-minute ledger over loopback HTTP."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime

import httpx
import pandas as pd
import pytest

from indexlake.sources.errors import DailyLimitError
from indexlake.sources.pacing import CreditPacer
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient


class FakeClock:
    """A clock that only moves when the pacer sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.on_sleep: list = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        for hook in self.on_sleep:
            hook()


def _pacer(per_minute: int | None, per_day: int | None = None, **kw: object) -> tuple:
    clock = FakeClock()
    pacer = CreditPacer(per_minute, per_day, clock=clock, sleep=clock.sleep, **kw)
    return pacer, clock


def _spend(pacer: CreditPacer, clock: FakeClock, cost: int) -> float:
    """Acquire and settle at once; returns when the credits were granted."""
    spend = pacer.acquire(cost)
    granted = clock.t
    pacer.settle(spend)
    return granted


def test_budget_per_minute_blocks_until_the_oldest_spend_is_a_minute_old() -> None:
    pacer, clock = _pacer(10)
    assert [_spend(pacer, clock, 4), _spend(pacer, clock, 4)] == [0.0, 0.0]
    clock.t = 20.0
    # 8 used, 4 more do not fit: wait until the spends settled at 0 are a minute old.
    assert _spend(pacer, clock, 4) == pytest.approx(60.0)
    # Now 4 (settled at 60) are in use: 6 more fit at once.
    assert _spend(pacer, clock, 6) == pytest.approx(60.0)
    assert pacer.stats.waits == 1 and pacer.stats.credits == 18


def test_credits_come_back_a_minute_after_the_answer_not_the_request() -> None:
    pacer, clock = _pacer(10)
    inflight = pacer.acquire(10)
    # The answer arrives at t=100: only then does its minute start.
    clock.on_sleep.append(lambda: clock.t >= 100 and pacer.settle(inflight))
    granted = pacer.acquire(1)
    assert granted is not None and clock.t >= 160.0
    assert clock.t == pytest.approx(160.0, abs=3.0 + 1e-9)  # polls every minute / 20 s


def test_headers_book_credits_spent_elsewhere() -> None:
    pacer, clock = _pacer(10)
    _spend(pacer, clock, 2)
    pacer.observe(used=None, left="3")  # another process spent 5 more this minute
    assert pacer.stats.corrections == 1
    assert _spend(pacer, clock, 4) == pytest.approx(60.0)
    pacer, clock = _pacer(10)
    _spend(pacer, clock, 2)
    pacer.observe(used="1", left=None)  # the server counts fewer: ignored (conservative)
    pacer.observe(used=None, left="garbage")
    assert pacer.stats.corrections == 0 and _spend(pacer, clock, 8) == 0.0
    pacer.observe(used="10", left=None)  # `used` alone: 0 left
    assert _spend(pacer, clock, 1) == pytest.approx(60.0)


def test_a_minute_limit_makes_everyone_wait_for_the_next_minute() -> None:
    pacer, clock = _pacer(10)
    _spend(pacer, clock, 1)
    clock.t = 5.0
    pacer.exhaust()
    assert _spend(pacer, clock, 1) == pytest.approx(65.0)
    unpaced = CreditPacer(None, minute_seconds=2.0)
    unpaced.exhaust()
    assert unpaced.seconds_to_next_minute() == 2.0 and pacer.seconds_to_next_minute() == 0.0


def test_a_request_dearer_than_the_budget_goes_alone() -> None:
    pacer, clock = _pacer(8)
    assert _spend(pacer, clock, 3) == 0.0
    assert _spend(pacer, clock, 50) == pytest.approx(60.0)  # /statistics on a free plan
    assert _spend(pacer, clock, 1) == pytest.approx(120.0)


def test_daily_budget_stops_before_the_vendor_says_so_and_names_the_resume_time() -> None:
    now = [datetime(2026, 11, 27, 15, 30, tzinfo=UTC)]
    pacer, clock = _pacer(None, 10, utcnow=lambda: now[0])
    _spend(pacer, clock, 6)
    with pytest.raises(DailyLimitError, match=r"resume after 2026-11-28 00:00 UTC") as info:
        pacer.acquire(6)
    assert info.value.resume_at == datetime(2026, 11, 28, tzinfo=UTC)
    assert pacer.day_spent == 6  # the refused request was not charged
    now[0] = datetime(2026, 11, 28, 0, 0, 1, tzinfo=UTC)
    _spend(pacer, clock, 6)
    assert pacer.day_spent == 6 and pacer.stats.by_day == {"2026-11-27": 6, "2026-11-28": 6}


@pytest.mark.parametrize("seed", range(5))
def test_no_fixed_server_minute_ever_holds_more_than_the_budget(seed: int) -> None:
    """Reference model: a server counting each request at a random moment between send and
    answer, in fixed minutes of a random offset, never sees more than the budget."""
    rng = random.Random(seed)
    budget, minute = 13, 1.0
    pacer, clock = _pacer(budget, minute_seconds=minute)
    offset = rng.random()
    charged: dict[int, int] = {}
    for _ in range(300):
        cost = rng.randint(1, budget)
        spend = pacer.acquire(cost)
        sent = clock.t
        clock.t += rng.expovariate(1 / 0.05)  # latency
        at = rng.uniform(sent, clock.t)  # when the server counts it
        pacer.settle(spend)
        window = math.floor((at - offset) / minute)
        charged[window] = charged.get(window, 0) + cost
        clock.t += rng.choice([0.0, 0.0, rng.random() * 0.3])  # think time
    assert max(charged.values()) <= budget


def test_paced_fetch_gets_no_429_and_uses_the_minute(market: SandboxMarket) -> None:
    """Sandbox limited to 20 credits per 1.5 s minute; the fetch needs 80 credits (2 batches of
    10 symbols x 4 windows): four minutes, each (but the last) at least 90% used, no 429."""
    per_minute, minute = 20, 1.5
    symbols = market.symbols[:20]
    start, end = date(2024, 1, 1), date(2024, 6, 30)
    # Generated up front: the sandbox's first answer for a symbol would otherwise include
    # generating its history, a latency a real vendor does not have.
    expected = market.prices(symbols, start, end)
    with (
        serve_sandbox(market, credits_per_minute=per_minute, minute_seconds=minute) as url,
        TwelveDataClient(
            url, "k", credits_per_minute=per_minute, minute_seconds=minute, batch_size=10,
            window_bars=40, max_attempts=1,
        ) as client,
    ):  # fmt: skip
        result = client.time_series(symbols, start, end)
        ledger = httpx.get(url + "/__credits").json()
    assert result.errors == [] and not client.stats.retries
    assert ledger["rejected"] == []  # the sandbox never answered 429
    spent = dict(ledger["ledger"])
    assert sum(spent.values()) == 80 == client.pacer.stats.credits
    assert len(spent) == math.ceil(80 / per_minute)  # no more minutes than the credits need
    windows = sorted(spent)
    assert all(spent[w] >= 0.9 * per_minute for w in windows[:-1])
    pd.testing.assert_frame_equal(result.frame, expected)
