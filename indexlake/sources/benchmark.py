"""The benchmark's daily prices from the first of several candidate symbols that has them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from indexlake.calendar import trading_days
from indexlake.sources.base import FetchResult, Source, SymbolError

# The S&P 500 index, then ETFs tracking it: plans differ in index access, and the ETFs' closes
# are about a tenth of the index's, so rows keep the ticker that served them.
BENCHMARK_CANDIDATES: tuple[str, ...] = ("SPX", "SPY", "IVV", "VOO")

log = logging.getLogger(__name__)


class BenchmarkUnavailableError(LookupError):
    """Every benchmark candidate failed (each one's error is in `errors`)."""

    def __init__(self, errors: list[SymbolError]) -> None:
        detail = "; ".join(f"{e.symbol}: [{e.code}] {e.message}" for e in errors)
        super().__init__(f"no benchmark candidate served prices: {detail}")
        self.errors = errors


def fetch_benchmark(
    source: Source,
    start: date,
    end: date,
    candidates: Sequence[str] = BENCHMARK_CANDIDATES,
) -> tuple[FetchResult, str]:
    """Prices of the first candidate with rows in [start, end], and the symbol that served them.

    A candidate that fails (plan refusal, unknown symbol), or answers with no rows although the
    window has sessions, passes to the next. When none has rows but one answered cleanly, the
    window simply has no data: its empty result is returned with that symbol. `requests`
    counts every candidate tried; refused candidates are logged, not returned as errors.
    Raises BenchmarkUnavailableError when every candidate fails.
    """
    chosen = list(dict.fromkeys(candidates))
    if not chosen:
        raise ValueError("no benchmark candidates given")
    has_sessions = len(trading_days(start, end)) > 0
    refusals: list[SymbolError] = []
    empty: tuple[FetchResult, str] | None = None
    requests = 0
    for symbol in chosen:
        result = source.fetch_prices([symbol], start, end)
        requests += result.requests
        mine = [e for e in result.errors if e.symbol == symbol]
        if not result.frame.empty:
            result.requests = requests
            return result, symbol
        if mine:
            refusals.extend(mine)
            log.warning("benchmark %s unavailable ([%s] %s)", symbol, mine[0].code, mine[0].message)
            continue
        empty = empty or (result, symbol)
        # No sessions in the window: every candidate would be empty too, so stop asking.
        if not has_sessions:
            break
    if empty is None:
        raise BenchmarkUnavailableError(refusals)
    result, symbol = empty
    result.requests = requests
    return result, symbol
