"""The one place that turns settings into a live `Source` and a symbol universe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta

from indexlake.calendar import latest_completed_trading_day
from indexlake.config import Settings
from indexlake.sources.base import Source
from indexlake.sources.fault_report import append_report, source_report
from indexlake.sources.reference_cache import ReferenceCache
from indexlake.sources.sandbox.faults import FaultInjector
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.process import serve_sandbox_process
from indexlake.sources.sandbox.server import serve_sandbox
from indexlake.sources.twelvedata import TwelveDataClient, TwelveDataSource
from indexlake.sources.universes import SP100

SANDBOX_API_KEY = "sandbox"


class SourceConfigError(ValueError):
    """Settings that cannot produce a source (missing key, missing universe)."""


@contextmanager
def open_source(settings: Settings, *, as_of: date | None = None) -> Iterator[Source]:
    """A ready source for `settings.provider`; the sandbox is served over loopback HTTP.

    Both providers run the same Twelve Data client: only the server, key and credit limit
    differ.
    """
    td = settings.twelvedata
    faults: FaultInjector | None = None
    timeout, minute_seconds = td.timeout_seconds, 60.0
    with ExitStack() as stack:
        if settings.provider == "sandbox":
            sb = settings.sandbox
            faults = FaultInjector(
                sb.faults,
                seed=sb.fault_seed,
                schedule=sb.fault_schedule,
                slow_seconds=sb.slow_seconds,
                hang_seconds=sb.hang_seconds,
            )
            if faults.rates.get("timeout") or faults.schedule.get("timeout"):
                # A hung answer must time out well before the sandbox gives up hanging.
                timeout = min(timeout, sb.hang_seconds / 2)
            minute_seconds = sb.minute_seconds
            options = dict(
                host=sb.host,
                port=sb.port,
                credits_per_minute=sb.credits_per_minute,
                market_cap_plan=sb.market_cap_plan,
                statistics_plan=sb.statistics_plan,
                index_access=sb.index_access,
                minute_seconds=sb.minute_seconds,
                credits_per_day=sb.credits_per_day,
                faults=faults if faults.active else None,
            )
            if sb.own_process:
                served = serve_sandbox_process(sb.seed, sb.n_symbols, as_of, **options)
            else:
                served = serve_sandbox(SandboxMarket(sb.seed, sb.n_symbols, as_of), **options)
            base_url = stack.enter_context(served)
            key, credits = SANDBOX_API_KEY, sb.credits_per_minute or None
            per_day = sb.credits_per_day or None
        elif settings.provider == "twelvedata":
            key = settings.twelvedata_api_key()
            if not key:
                raise SourceConfigError(
                    "provider 'twelvedata' needs an API key: set TWELVEDATA_API_KEY, or save it "
                    f"in the Prefect Secret block {td.secret_block!r}"
                )
            base_url, credits = td.base_url, td.credits_per_minute
            per_day = td.credits_per_day
        else:
            raise SourceConfigError(f"unknown provider {settings.provider!r}")
        client = TwelveDataClient(
            base_url,
            key,
            batch_size=td.batch_size,
            max_workers=td.max_workers,
            timeout=timeout,
            max_attempts=td.max_attempts,
            credits_per_minute=credits,
            credits_per_day=per_day,
            minute_seconds=minute_seconds,
        )
        if settings.reference_ttl_hours > 0:
            # One cache per provider: sandbox answers must never stand in for the vendor's.
            client.reference_cache = ReferenceCache(
                settings.data_dir / "reference" / settings.provider,
                timedelta(hours=settings.reference_ttl_hours),
            )
        source = TwelveDataSource(
            client, name=settings.provider, shares_outstanding=td.shares_outstanding
        )
        # In-process read-back of the faults injected (also served at GET /__faults).
        source.sandbox_faults = faults
        stack.callback(source.close)
        if settings.provider == "sandbox" and settings.sandbox.fault_report is not None:
            # Runs before the client and the sandbox close (the ledger is read over HTTP).
            path = settings.sandbox.fault_report
            stack.callback(lambda: append_report(path, source_report(source, faults)))
        yield source


def benchmark_candidates(settings: Settings) -> tuple[str, ...]:
    """`settings.benchmark`, then `twelvedata.benchmark_fallbacks`, without repeats: the
    symbols `fetch_benchmark` tries in order."""
    return tuple(dict.fromkeys([settings.benchmark, *settings.twelvedata.benchmark_fallbacks]))


def universe(settings: Settings, *, as_of: date | None = None) -> list[str]:
    """The symbols to track: `settings.symbols`, else the sandbox's symbols listed by `as_of`
    (sandbox) or the S&P 100 (twelvedata)."""
    if settings.symbols:
        return list(settings.symbols)
    if settings.provider == "sandbox":
        sb = settings.sandbox
        market = SandboxMarket(sb.seed, sb.n_symbols, as_of)
        day = as_of or latest_completed_trading_day()
        # Symbols not yet listed on `as_of` have no data; delisted ones stay (no survivorship).
        return [s for s in market.symbols if market.listed(s) <= day]
    if settings.provider == "twelvedata":
        return list(SP100)
    raise SourceConfigError(
        f"provider {settings.provider!r} needs an explicit universe: set the `symbols` setting "
        "(INDEXLAKE_SYMBOLS or `symbols = [...]` in indexlake.toml)"
    )
