"""Switchable faults for the sandbox server: the failures a real vendor and its gateways produce,
injected on purpose so the client's resilience and the pipeline's validation can be exercised.

Each kind fires with a probability (`rates`, 0..1) and/or on a schedule (`schedule`: the
1-based ordinals of the requests, or for per-symbol kinds of the symbol answers, on which it
fires). Decisions are a hash of (seed, kind, request, how many times that same request was
seen), not a shared random stream: the same run makes the same decisions whatever the thread
interleaving, and a retried request gets a fresh draw (so retries eventually succeed).

Kinds (see `FAULT_KINDS`):

- whole answers: ``timeout`` (no answer for `hang_seconds`), ``slow`` (answer after
  `slow_seconds`), ``minute_limit`` / ``day_limit`` (the vendor's 429 bodies with HTTP 200),
  ``minute_limit_http`` / ``day_limit_http`` (the same bodies with HTTP 429),
  ``server_error_page`` / ``bad_gateway_page`` (HTML 500 / 502 pages), ``malformed_json``,
  ``truncated_json`` (a good answer broken in transit);
- one symbol inside a batch: ``symbol_error`` (a transient 500 or spurious 404 under its key);
- one symbol's rows (time series): ``duplicate_conflict`` (a date repeated with different
  values), ``null_fields``, ``nonpositive_price`` (a close of 0 or below), ``unadjusted_split``
  (rows before a date not adjusted for a 2:1 split), ``missing_days`` (sessions left out),
  ``stale`` (the newest bar not published yet).

``all`` sets every kind except the day limits, which stop a run by design (switch those on
alone). Counts of faults injected, by kind, are kept and served at ``GET /__faults``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from indexlake.sources.sandbox.wire import ApiError

WHOLE_ANSWER_KINDS: tuple[str, ...] = (
    "timeout",
    "slow",
    "minute_limit",
    "minute_limit_http",
    "day_limit",
    "day_limit_http",
    "server_error_page",
    "bad_gateway_page",
    "malformed_json",
    "truncated_json",
)
SYMBOL_KINDS: tuple[str, ...] = ("symbol_error",)
DATA_KINDS: tuple[str, ...] = (
    "duplicate_conflict",
    "null_fields",
    "nonpositive_price",
    "unadjusted_split",
    "missing_days",
    "stale",
)
FAULT_KINDS: tuple[str, ...] = WHOLE_ANSWER_KINDS + SYMBOL_KINDS + DATA_KINDS
# Faults that end a run on purpose (the vendor's daily credits): not part of "all".
STOPPING_KINDS: frozenset[str] = frozenset({"day_limit", "day_limit_http"})
ALL = "all"

_PRICING = "consider switching to a higher tier plan at https://twelvedata.com/pricing"
MINUTE_LIMIT = (
    "You have run out of API credits for the current minute. {used} API credits were used, with "
    "the current limit being {limit}. Wait for the next minute or " + _PRICING
)
DAY_LIMIT = (
    "You have run out of API credits for the day. {used} API credits were used, with the "
    "current limit being {limit}. Wait for the next day or " + _PRICING
)
_PAGES = {
    "server_error_page": (500, "500 Internal Server Error"),
    "bad_gateway_page": (502, "502 Bad Gateway"),
}


def expand_rates(rates: Mapping[str, float]) -> dict[str, float]:
    """Rates by kind with ``all`` spread over every non-stopping kind (an explicit kind wins);
    raises ValueError naming an unknown kind or a probability outside [0, 1]."""
    out: dict[str, float] = {}
    for kind, p in rates.items():
        name = kind.strip().lower()
        if name != ALL and name not in FAULT_KINDS:
            raise ValueError(
                f"unknown sandbox fault {kind!r}: choose from {ALL}, {', '.join(FAULT_KINDS)}"
            )
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"sandbox fault {kind!r}: probability {p} is not within [0, 1]")
    if ALL in {k.strip().lower() for k in rates}:
        p = float(next(v for k, v in rates.items() if k.strip().lower() == ALL))
        out.update({k: p for k in FAULT_KINDS if k not in STOPPING_KINDS})
    out.update({k.strip().lower(): float(v) for k, v in rates.items() if k.strip().lower() != ALL})
    return {k: v for k, v in out.items() if v > 0}


@dataclass(frozen=True)
class WholeFault:
    """The fault chosen for one whole answer (None: answer normally after `delay`)."""

    kind: str | None
    delay: float = 0.0


class FaultInjector:
    """Decides, applies and counts faults; thread-safe (the server answers from a pool)."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        seed: int = 0,
        schedule: Mapping[str, Sequence[int]] | None = None,
        slow_seconds: float = 0.5,
        hang_seconds: float = 2.0,
    ) -> None:
        self.rates = expand_rates(rates or {})
        self.schedule = {k: frozenset(v) for k, v in (schedule or {}).items() if v}
        for kind in self.schedule:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown sandbox fault {kind!r} in the fault schedule")
        self.seed = seed
        self.slow_seconds, self.hang_seconds = slow_seconds, hang_seconds
        self.counts: Counter[str] = Counter()
        self._seen: Counter[str] = Counter()
        self._ordinal = {"request": 0, "symbol": 0}
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self.rates or self.schedule)

    def __repr__(self) -> str:
        return f"FaultInjector(rates={self.rates!r}, seed={self.seed})"

    # ---- decisions ---------------------------------------------------------------------------
    def _draw(self, kind: str, key: str) -> float:
        digest = hashlib.blake2b(f"{self.seed}|{kind}|{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    def _next(self, key: str, counter: str) -> tuple[str, int]:
        """`key` with its occurrence number appended, and the running ordinal of `counter`."""
        with self._lock:
            self._seen[key] += 1
            self._ordinal[counter] += 1
            return f"{key}#{self._seen[key]}", self._ordinal[counter]

    def _fires(self, kind: str, key: str, ordinal: int) -> bool:
        if ordinal in self.schedule.get(kind, ()):
            return True
        p = self.rates.get(kind, 0.0)
        return p > 0 and self._draw(kind, key) < p

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    @staticmethod
    def request_key(path: str, params: Mapping[str, str], drop: Sequence[str] = ()) -> str:
        skip = {"apikey", *drop}
        return path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip)

    # ---- whole answers -----------------------------------------------------------------------
    def whole(self, path: str, params: Mapping[str, str]) -> WholeFault:
        """The fault (if any) for one request; sleeps for `timeout` and `slow` itself."""
        if not self.active:
            return WholeFault(None)
        key, ordinal = self._next(self.request_key(path, params), "request")
        delay = 0.0
        chosen: str | None = None
        # A kind scheduled on this request goes first: a rate draw never pre-empts it.
        kinds = sorted(WHOLE_ANSWER_KINDS, key=lambda k: ordinal not in self.schedule.get(k, ()))
        for kind in kinds:
            if not self._fires(kind, key, ordinal):
                continue
            if kind == "slow":
                delay = max(delay, self.slow_seconds)
                self._count(kind)
                continue
            if kind == "timeout":
                delay = max(delay, self.hang_seconds)
            chosen = kind
            self._count(kind)
            break
        if delay:
            time.sleep(delay)
        return WholeFault(chosen, delay)

    def answer(self, fault: WholeFault, credits: tuple[int, int]) -> tuple[bytes, int, str] | None:
        """An answer replacing the real one (body, HTTP status, media type), or None when the
        real answer goes out (possibly garbled by `garble`)."""
        kind = fault.kind
        used, limit = credits
        if kind in ("minute_limit", "minute_limit_http", "day_limit", "day_limit_http"):
            template = MINUTE_LIMIT if kind.startswith("minute") else DAY_LIMIT
            message = template.format(used=used, limit=limit or used)
            body = orjson.dumps({"code": 429, "message": message, "status": "error"})
            return body, (429 if kind.endswith("_http") else 200), "application/json"
        if kind in _PAGES:
            status, title = _PAGES[kind]
            page = (
                f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1>"
                "</center><hr><center>gateway</center></body></html>"
            )
            return page.encode(), status, "text/html"
        return None

    @staticmethod
    def garble(fault: WholeFault, body: bytes) -> bytes:
        """A good JSON answer broken in transit: malformed (still braced) or cut short."""
        if fault.kind == "malformed_json" and len(body) > 2:
            return body[:-1] + b',"values":[,]}'
        if fault.kind == "truncated_json" and len(body) > 2:
            return body[: max(1, len(body) // 2)]
        return body

    # ---- one symbol's answer -----------------------------------------------------------------
    def series(
        self, path: str, params: Mapping[str, str], sent: str, body: bytes, in_batch: bool
    ) -> bytes:
        """One symbol's time series answer with per-symbol faults applied: raises ApiError for a
        `symbol_error` (inside a batch), else returns the rows, possibly corrupted."""
        if not self.active:
            return body
        base = self.request_key(path, params, drop=("symbol",)) + f"|{sent}"
        key, ordinal = self._next(base, "symbol")
        if in_batch and self._fires("symbol_error", key, ordinal):
            self._count("symbol_error")
            if self._draw("symbol_error_code", key) < 0.5:
                raise ApiError(500, f"Internal error while processing {sent}, try again later.")
            raise ApiError(404, "Data not found")
        kinds = [k for k in DATA_KINDS if self._fires(k, key, ordinal)]
        if not kinds:
            return body
        item = orjson.loads(body)
        values = item.get("values")
        if not isinstance(values, list) or len(values) < 3:
            return body
        for kind in kinds:
            if corrupt(kind, values, self._draw(kind + "_row", key)):
                self._count(kind)
        return orjson.dumps(item)

    def report(self) -> dict[str, Any]:
        """Faults injected so far by kind, and the configuration (for GET /__faults)."""
        with self._lock:
            counts = dict(sorted(self.counts.items()))
        return {
            "injected": counts,
            "total": sum(counts.values()),
            "rates": self.rates,
            "schedule": {k: sorted(v) for k, v in self.schedule.items()},
            "seed": self.seed,
        }


def _fmt(x: float) -> str:
    return f"{x:.5f}"


def corrupt(kind: str, values: list[dict], u: float) -> bool:
    """Corrupt one symbol's `values` rows in place (either order); `u` in [0, 1) picks the
    row. Returns whether anything changed."""
    n = len(values)
    i = 1 + int(u * (n - 2))  # an inner row
    by_date = sorted(range(n), key=lambda j: str(values[j].get("datetime")))
    if kind == "duplicate_conflict":
        row = dict(values[i])
        for f in ("open", "high", "low", "close"):
            if row.get(f) is not None:
                row[f] = _fmt(float(row[f]) * 1.01)
        values.insert(i + 1, row)
        return True
    if kind == "null_fields":
        values[i]["close"] = None
        values[i]["volume"] = None
        return True
    if kind == "nonpositive_price":
        close = values[i].get("close")
        values[i]["close"] = "0.00000" if u < 0.5 or close is None else _fmt(-float(close))
        return True
    if kind == "unadjusted_split":
        cut = str(values[by_date[1 + int(u * (n - 2))]].get("datetime"))
        for row in values:
            if str(row.get("datetime")) < cut:
                for f in ("open", "high", "low", "close"):
                    if row.get(f) is not None:
                        row[f] = _fmt(float(row[f]) * 2)
                if row.get("volume") is not None:
                    row["volume"] = str(int(row["volume"]) // 2)
        return True
    if kind == "missing_days":
        gone = {by_date[j] for j in range(i, min(i + 3, n - 1))}
        values[:] = [r for j, r in enumerate(values) if j not in gone]
        return bool(gone)
    if kind == "stale":
        newest = by_date[-1]
        del values[newest]
        return True
    raise ValueError(f"not a data fault: {kind!r}")
