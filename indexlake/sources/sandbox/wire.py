"""Wire format of the sandbox: vendor error bodies, credit accounting, and fast JSON rows."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from indexlake.sources.sandbox.factors import Bars

_PRICING = "consider switching to a higher tier plan at https://twelvedata.com/pricing"


class ApiError(Exception):
    """A vendor error: answered as `{"code", "message", "status": "error"}`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def plan_error(code: int, message: str) -> ApiError:
    """The vendor's answer when the plan lacks an endpoint or symbol (code 403, or 400)."""
    return ApiError(code, f"{message} Please {_PRICING}")


class Credits:
    """Credits spent in the current minute window (and day), shared across threads."""

    def __init__(self, per_minute: int, per_day: int, minute_seconds: float) -> None:
        self.per_minute, self.per_day, self.minute_seconds = per_minute, per_day, minute_seconds
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._window = 0
        self.used_minute = 0
        self.used_day = 0
        # Per-minute ledger: credits spent and 429-minute answers, by window number.
        self.ledger: dict[int, int] = {}
        self.rejected: dict[int, int] = {}

    def spend(self, cost: int) -> None:
        with self._lock:
            window = int((time.monotonic() - self._start) // self.minute_seconds)
            if window != self._window:
                self._window, self.used_minute = window, 0
            if self.per_day and self.used_day + cost > self.per_day:
                raise ApiError(
                    429,
                    f"You have run out of API credits for the day. {self.used_day} API credits "
                    f"were used, with the current limit being {self.per_day}. Wait for the next "
                    f"day or {_PRICING}",
                )
            if self.per_minute and self.used_minute + cost > self.per_minute:
                self.rejected[window] = self.rejected.get(window, 0) + 1
                raise ApiError(
                    429,
                    f"You have run out of API credits for the current minute. {self.used_minute} "
                    f"API credits were used, with the current limit being {self.per_minute}. "
                    f"Wait for the next minute or {_PRICING}",
                )
            self.used_minute += cost
            self.used_day += cost
            self.ledger[window] = self.ledger.get(window, 0) + cost

    def report(self) -> dict[str, object]:
        """Limits and the per-minute ledger (for GET /__credits)."""
        with self._lock:
            return {
                "per_minute": self.per_minute,
                "per_day": self.per_day,
                "minute_seconds": self.minute_seconds,
                "used_day": self.used_day,
                "ledger": sorted(self.ledger.items()),
                "rejected": sorted(self.rejected.items()),
            }

    def headers(self) -> dict[str, str]:
        out = {"api-credits-used": str(self.used_minute)}
        if self.per_minute:
            out["api-credits-left"] = str(max(0, self.per_minute - self.used_minute))
        return out


def decimals5(values: np.ndarray) -> pa.Array:
    """Non-negative floats as strings with exactly five decimals, formatted in Arrow (no loop)."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * 1e5).astype(np.int64)
    whole = pc.cast(pa.array(scaled // 100_000), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(scaled % 100_000), pa.string()), 5, "0")
    return pc.binary_join_element_wise(whole, frac, ".")


def concat_rows(rows: pa.Array) -> bytes:
    """Row strings that each end in ',' joined into one JSON array body (last comma dropped)."""
    if len(rows) == 0:
        return b""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    lo, hi = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    return rows.buffers()[2].to_pybytes()[lo : hi - 1]


def bars_json(bars: Bars, descending: bool) -> bytes:
    """The vendor's `values` rows: every OHLCV value a string, prices with five decimals."""
    step = -1 if descending else 1
    dates = pc.cast(pa.array(bars.date[::step]), pa.string())
    volume = pc.cast(pa.array(bars.volume[::step]), pa.string())
    fields = [decimals5(getattr(bars, f)[::step]) for f in ("open", "high", "low", "close")]
    rows = pc.binary_join_element_wise(
        '{"datetime":"', dates, '","open":"', fields[0], '","high":"', fields[1],
        '","low":"', fields[2], '","close":"', fields[3], '","volume":"', volume, '"},',
        "",
    )  # fmt: skip
    return concat_rows(rows)


def caps_json(bars: Bars) -> bytes:
    """The vendor's `market_cap` rows, newest first, `value` an integer."""
    dates = pc.cast(pa.array(bars.date[::-1]), pa.string())
    values = pc.cast(pa.array(bars.market_cap[::-1].astype(np.int64)), pa.string())
    rows = pc.binary_join_element_wise('{"date":"', dates, '","value":', values, "},", "")
    return concat_rows(rows)


def parse_day(raw: str | None, name: str) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        return datetime.fromisoformat(raw.strip()).date()
    except ValueError:
        raise ApiError(400, f"**{name}** parameter is invalid: {raw!r}") from None


def parse_int(raw: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"**{name}** must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, f"**{name}** must be between {lo} and {hi}")
    return value
