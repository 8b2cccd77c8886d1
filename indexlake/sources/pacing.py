"""Credit pacing for Twelve Data: spend the plan's credits per minute (and per day) so that a run
whose limits are configured right never receives a 429.

Why a hand-written pacer and not a maintained limiter library (`aiolimiter`, `limits`,
`pyrate-limiter`, all on PyPI):

- `aiolimiter` is asyncio-only; this client is a synchronous `httpx.Client` used from threads.
- `limits` counts hits but has no blocking acquire, no injectable clock and no way to correct
  its state from what the server reports.
- `pyrate-limiter` has weights and pluggable clocks, but its buckets cannot be told "the server
  says only N credits are left" (the `api-credits-left` header) or "a 429-minute arrived, stop
  everyone until the minute rolls over" without reaching into its internals.
- None of them charges a request at the moment the *server* counted it. The vendor's minute is a
  fixed window on its own clock and a request is counted somewhere between send and receive, so
  a limiter that stamps requests when they are sent can put two budgets in one vendor minute
  when latency varies. This pacer stamps each spend when its answer arrives (an in-flight spend
  never expires) and lets a new spend go only a full minute after that: every span of one
  minute on the server's clock holds at most one budget, whatever the window alignment.

The whole thing is a sliding log of (settled time, cost) entries guarded by one condition
variable; the clock and sleep are injectable so tests can run a two-second (or simulated)
minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from indexlake.sources.errors import daily_limit_stop


@dataclass
class Spend:
    """Credits taken from the budget; `settled` is when the server's answer arrived (None while
    the request is in flight: it then counts against every minute until it settles)."""

    cost: int
    settled: float | None = None


@dataclass
class PacerStats:
    """What the pacer did: credits granted, time spent waiting, header corrections."""

    credits: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    corrections: int = 0
    minute_resets: int = 0
    by_day: dict[str, int] = field(default_factory=dict)


class CreditPacer:
    """A per-minute credit budget (sliding log, settled on response) plus a per-day budget.

    `per_minute` None or 0 disables minute pacing; `per_day` None or 0 disables the day budget.
    A request dearer than the whole minute budget goes alone once the minute is empty.
    """

    def __init__(
        self,
        per_minute: int | None,
        per_day: int | None = None,
        *,
        minute_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if minute_seconds < 0:
            raise ValueError("minute_seconds must not be negative")
        self.per_minute = per_minute or None
        self.per_day = per_day or None
        self.minute_seconds = minute_seconds
        self._clock = clock
        self._sleep = sleep
        self._utcnow = utcnow
        self._log: list[Spend] = []
        self._day: date | None = None
        self._day_spent = 0
        self._cond = threading.Condition()
        self.stats = PacerStats()

    # ---- budget ------------------------------------------------------------------------------
    def _used(self, now: float) -> int:
        """Credits counting against the minute ending `now` (drops expired entries)."""
        self._log = [
            s for s in self._log if s.settled is None or now - s.settled < self.minute_seconds
        ]
        return sum(s.cost for s in self._log)

    def _wait_for(self, now: float) -> float | None:
        """Seconds until the oldest settled entry expires; None if only in-flight ones block."""
        settled = [s.settled for s in self._log if s.settled is not None]
        if not settled:
            return None
        return max(self.minute_seconds - (now - min(settled)), 0.0)

    def _charge_day(self, cost: int) -> None:
        if not self.per_day:
            return
        today = self._utcnow().astimezone(UTC).date()
        if today != self._day:
            self._day, self._day_spent = today, 0
        if self._day_spent + cost > self.per_day:
            raise daily_limit_stop(
                f"the configured daily budget of {self.per_day} credits is spent "
                f"({self._day_spent} used today by this run, {cost} more needed)",
                self._utcnow(),
            )
        self._day_spent += cost
        self.stats.by_day[today.isoformat()] = self._day_spent

    def acquire(self, cost: int) -> Spend:
        """Block until `cost` credits fit in the minute budget; the caller must `settle` the
        returned spend when the answer arrives (or fails)."""
        spend = Spend(cost)
        with self._cond:
            self._charge_day(cost)
            self.stats.credits += cost
            if not self.per_minute:
                spend.settled = self._clock()
                return spend
            waited = False
            started = self._clock()
            while True:
                now = self._clock()
                used = self._used(now)
                if not self._log or used + cost <= self.per_minute:
                    self._log.append(spend)
                    break
                waited = True
                delay = self._wait_for(now)
                # Only in-flight spends block: wait for one to settle (or a short poll).
                timeout = self.minute_seconds / 20 if delay is None else max(delay, 1e-3)
                self._pause(timeout)
            if waited:
                self.stats.waits += 1
                self.stats.waited_seconds += self._clock() - started
        return spend

    def _pause(self, seconds: float) -> None:
        """Wait (lock released); an injected sleep is called without the lock."""
        if self._sleep is None:
            self._cond.wait(seconds)
            return
        self._cond.release()
        try:
            self._sleep(seconds)
        finally:
            self._cond.acquire()

    def settle(self, spend: Spend) -> None:
        """Stamp a spend with now: its credits come back one minute after its answer."""
        with self._cond:
            if spend.settled is None:
                spend.settled = self._clock()
            self._cond.notify_all()

    # ---- corrections from the server ---------------------------------------------------------
    def observe(self, used: str | None, left: str | None) -> None:
        """Correct the budget from `api-credits-used` / `api-credits-left` headers: when the
        server has fewer credits left than this pacer thinks (another process shares the key),
        the difference is booked now. More credits left than expected is ignored (conservative:
        the server's window may simply have rolled over earlier)."""
        if not self.per_minute:
            return
        server_left: int | None = None
        if left is not None and left.strip().isdigit():
            server_left = int(left)
        elif used is not None and used.strip().isdigit():
            server_left = max(self.per_minute - int(used), 0)
        if server_left is None:
            return
        with self._cond:
            now = self._clock()
            ours = self.per_minute - self._used(now)
            if server_left < ours:
                self._log.append(Spend(ours - server_left, now))
                self.stats.corrections += 1

    def exhaust(self) -> None:
        """A 429-minute arrived: book the whole budget now, so every thread waits for the next
        minute instead of hammering the vendor."""
        if not self.per_minute:
            return
        with self._cond:
            now = self._clock()
            self._log.append(Spend(self.per_minute, now))
            self.stats.minute_resets += 1

    def seconds_to_next_minute(self) -> float:
        """How long a 429-minute should wait when minute pacing is off: a whole minute."""
        return self.minute_seconds if not self.per_minute else 0.0

    @property
    def day_spent(self) -> int:
        return self._day_spent
