"""A Twelve-Data-compatible HTTP server over a `SandboxMarket` (string values, batch keying,
errors in HTTP-200 bodies, per-symbol credits and a per-minute credit limit).

Run standalone: ``python -m indexlake.sources.sandbox.server --port 8001 --seed 42 --symbols 100``.
Dates follow the vendor's shape; ``end_date`` is treated as exclusive (the client asks one day
past the end either way, since the vendor's behaviour is unconfirmed).
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from indexlake.sources.sandbox.factors import Bars
from indexlake.sources.sandbox.faults import FaultInjector
from indexlake.sources.sandbox.market import SandboxMarket
from indexlake.sources.sandbox.wire import (
    ApiError,
    Credits,
    bars_json,
    caps_json,
    parse_day,
    parse_int,
    plan_error,
)

MAX_OUTPUTSIZE = 5000
MAX_BATCH = 120
DEFAULT_OUTPUTSIZE = 30  # vendor default when no dates are given
# Credits per symbol and request, as the vendor charges them.
COSTS = {"time_series": 1, "market_cap": 5, "statistics": 50, "profile": 10, "dividends": 20}
NO_DATA = "No data is available on the specified dates. Try setting different start/end dates."
_AUTH = (
    "**apikey** parameter is incorrect or not specified. You can get your free API key "
    "instantly following this link: https://twelvedata.com/pricing. If you believe that "
    "everything is correct, you can contact us at https://twelvedata.com/contact/customer"
)


@dataclass(frozen=True)
class Plan:
    """What the simulated subscription includes (the vendor's plans differ in these)."""

    market_cap: bool = True  # the /market_cap endpoint
    statistics: bool = True  # the /statistics endpoint
    index_access: bool = True  # index symbols such as SPX in /time_series


class _Handlers:
    """Endpoint logic over one market; every answer is bytes of the vendor's JSON."""

    faults: FaultInjector | None = None  # switchable faults (indexlake.sources.sandbox.faults)

    def __init__(
        self, market: SandboxMarket, credits: Credits, api_key: str | None, plan: Plan
    ) -> None:
        self.market, self.credits, self.api_key, self.plan = market, credits, api_key, plan

    def _authorise(self, request: Request) -> None:
        key = request.query_params.get("apikey")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("apikey "):
            key = header[7:].strip()
        if not key or (self.api_key is not None and key != self.api_key):
            raise ApiError(401, _AUTH)

    def _company_meta(self, symbol: str, sent: str) -> dict[str, Any]:
        """The `meta` block of /market_cap and /statistics answers."""
        p = self.market.profile(symbol)
        return {
            "symbol": sent,
            "name": p["name"],
            "currency": "USD",
            "exchange": p["exchange"],
            "mic_code": p["mic_code"],
            "exchange_timezone": "America/New_York",
        }

    def _meta(self, symbol: str, sent: str) -> dict[str, Any]:
        p = self.market.profile(symbol)
        return {
            "symbol": sent,
            "interval": "1day",
            "currency": "USD",
            "exchange_timezone": "America/New_York",
            "exchange": p["exchange"],
            "mic_code": p["mic_code"],
            "type": p["type"],
        }

    def _symbols(self, request: Request) -> list[str]:
        raw = request.query_params.get("symbol", "")
        symbols = [s.strip() for s in raw.split(",") if s.strip()]
        if not symbols:
            raise ApiError(400, "**symbol** parameter is missing or invalid.")
        if len(symbols) > MAX_BATCH:
            raise ApiError(400, f"**symbol** accepts at most {MAX_BATCH} symbols per request.")
        return symbols

    def _range(self, request: Request) -> tuple[date, date, bool]:
        q = request.query_params
        start = parse_day(q.get("start_date"), "start_date")
        end = parse_day(q.get("end_date"), "end_date")
        lo = start or SandboxMarket.ORIGIN
        # end_date is exclusive here; without it the series runs to as_of.
        hi = end - timedelta(days=1) if end else self.market.as_of
        return lo, hi, start is not None or end is not None

    def time_series(self, request: Request) -> bytes:
        self._authorise(request)
        q = request.query_params
        symbols = self._symbols(request)
        if q.get("interval", "") != "1day":
            raise ApiError(400, "**interval** is invalid: the sandbox serves `1day` only.")
        lo, hi, dated = self._range(request)
        size = parse_int(
            q.get("outputsize"), "outputsize", MAX_OUTPUTSIZE if dated else DEFAULT_OUTPUTSIZE,
            1, MAX_OUTPUTSIZE,
        )  # fmt: skip
        order = q.get("order", "desc").lower()
        if order not in ("asc", "desc"):
            raise ApiError(400, "**order** must be `asc` or `desc`.")
        adjust = q.get("adjust", "splits").lower()
        if adjust not in ("all", "splits", "dividends", "none"):
            raise ApiError(400, "**adjust** must be one of all, splits, dividends, none.")
        self.credits.spend(COSTS["time_series"] * len(symbols))

        def one(sent: str) -> bytes:
            symbol = sent.upper()
            if not self.market.is_known(symbol):
                raise ApiError(
                    400,
                    f"**symbol** not found: {sent}. Please specify it correctly according to "
                    "API Documentation.",
                )
            if not self.plan.index_access and self.market.profile(symbol)["type"] == "Index":
                raise plan_error(403, f"**symbol** {sent} is not available with your plan.")
            bars = self.market.bars(symbol, lo, hi, adjusted=adjust in ("all", "splits"))
            if len(bars.date) == 0:
                raise ApiError(400, NO_DATA)
            # outputsize counts bars back from the end of the range, as the vendor does.
            bars = Bars(*(a[-size:] for a in bars))
            body = b"".join(
                [
                    b'{"meta":',
                    orjson.dumps(self._meta(symbol, sent)),
                    b',"values":[',
                    bars_json(bars, descending=order == "desc"),
                    b'],"status":"ok"}',
                ]
            )
            if self.faults is not None:
                body = self.faults.series(
                    request.url.path, q, sent, body, in_batch=len(symbols) > 1
                )
            return body

        def one_in_batch(sent: str) -> bytes:
            try:
                return one(sent)
            except ApiError as exc:
                meta = {"symbol": sent, "interval": "1day", "exchange": ""}
                error = {"code": exc.code, "message": exc.message, "status": "error", "meta": meta}
                return orjson.dumps(error)

        if len(symbols) == 1:
            return one(symbols[0])
        # Keyed by the symbol as sent; a repeated symbol appears once.
        parts = [orjson.dumps(s) + b":" + one_in_batch(s) for s in dict.fromkeys(symbols)]
        return b"{" + b",".join(parts) + b"}"

    def _single(self, request: Request, endpoint: str) -> tuple[str, str]:
        self._authorise(request)
        sent = request.query_params.get("symbol", "").strip()
        if not sent or "," in sent:
            raise ApiError(400, "**symbol** parameter is missing or invalid.")
        self.credits.spend(COSTS[endpoint])
        if not self.market.is_known(sent.upper()):
            raise ApiError(400, f"**symbol** not found: {sent}.")
        return sent.upper(), sent

    def market_cap(self, request: Request) -> bytes:
        if not self.plan.market_cap:
            self._authorise(request)
            # The 400 form of the vendor's plan error (403 is the other).
            raise plan_error(400, "/market_cap is not available with your plan.")
        symbol, sent = self._single(request, "market_cap")
        lo, hi, _ = self._range(request)
        q = request.query_params
        size = parse_int(q.get("outputsize"), "outputsize", 10, 1, MAX_OUTPUTSIZE)
        page = parse_int(q.get("page"), "page", 1, 1, 1_000_000)
        meta = self._company_meta(symbol, sent)
        rows = b""
        if symbol not in SandboxMarket.BENCHMARKS:
            bars = self.market.bars(symbol, lo, hi)
            # Pages run newest first.
            n = len(bars.date)
            stop, begin = n - (page - 1) * size, max(0, n - page * size)
            if stop > 0:
                rows = caps_json(Bars(*(a[begin:stop] for a in bars)))
        return b'{"meta":' + orjson.dumps(meta) + b',"market_cap":[' + rows + b"]}"

    def dividends(self, request: Request) -> bytes:
        """Cash dividends, newest first: `{"meta", "dividends": [{"ex_date", "amount"}]}`.

        Amounts are split-adjusted like the served closes unless `adjust=false`.
        """
        symbol, sent = self._single(request, "dividends")
        lo, hi, _ = self._range(request)
        adjust = request.query_params.get("adjust", "true").lower()
        if adjust not in ("true", "false"):
            raise ApiError(400, "**adjust** must be `true` or `false`.")
        dates, amounts = self.market.dividends(symbol, lo, hi, adjusted=adjust == "true")
        rows = [
            {"ex_date": str(d), "amount": float(a)}
            for d, a in zip(dates[::-1], amounts[::-1], strict=True)
        ]
        meta = self._company_meta(symbol, sent)
        return orjson.dumps({"meta": meta, "dividends": rows})

    def statistics(self, request: Request) -> bytes:
        if not self.plan.statistics:
            self._authorise(request)
            raise plan_error(403, "/statistics is not available with your plan.")
        symbol, sent = self._single(request, "statistics")
        if symbol in SandboxMarket.BENCHMARKS:
            raise ApiError(400, f"**symbol** {sent}: statistics are not available for it.")
        as_of = self.market.as_of
        bars = self.market.bars(symbol, as_of - timedelta(days=365), as_of)
        if len(bars.date) == 0:
            raise ApiError(404, "Data not found")
        # On the served prices' basis, as the vendor's current share count is on its adjusted
        # prices' basis: served prices are adjusted for splits past `as_of` too, so the count
        # includes those (the same as the actual count unless such a split exists).
        shares = int(bars.shares[-1] * bars.factor[-1])
        close = float(bars.close[-1] * bars.factor[-1])
        body = {
            "meta": self._company_meta(symbol, sent),
            "statistics": {
                "valuations_metrics": {"market_capitalization": float(bars.market_cap[-1])},
                "stock_statistics": {
                    "shares_outstanding": shares,
                    "float_shares": int(shares * 0.9),
                    "avg_10_volume": int(bars.volume[-10:].mean()),
                    "avg_90_volume": int(bars.volume[-90:].mean()),
                },
                "stock_price_summary": {
                    "fifty_two_week_low": float(bars.low.min()),
                    "fifty_two_week_high": float(bars.high.max()),
                    "fifty_day_moving_average": round(float(bars.close[-50:].mean()), 5),
                    "two_hundred_day_moving_average": round(float(bars.close[-200:].mean()), 5),
                    "last_close": close,
                },
            },
        }
        return orjson.dumps(body)

    def profile(self, request: Request) -> bytes:
        symbol, sent = self._single(request, "profile")
        p = self.market.profile(symbol)
        body = {**p, "symbol": sent, "listed": str(p["listed"]), "delisted": p["delisted"]}
        body["delisted"] = str(p["delisted"]) if p["delisted"] else None
        return orjson.dumps(body)


def create_sandbox_app(
    market: SandboxMarket,
    *,
    credits_per_minute: int = 0,
    minute_seconds: float = 60.0,
    credits_per_day: int = 0,
    api_key: str | None = None,
    http_error_status: bool = False,
    market_cap_plan: bool = True,
    statistics_plan: bool = True,
    index_access: bool = True,
    faults: FaultInjector | None = None,
) -> Starlette:
    """ASGI app answering like Twelve Data; limits of 0 mean unlimited; any key unless `api_key`.

    Errors come with HTTP 200 (as the vendor often does) unless `http_error_status` is set.
    A plan without `market_cap_plan` / `statistics_plan` refuses that endpoint, and one without
    `index_access` refuses index symbols (SPX) in /time_series, with the vendor's plan errors.
    """
    credits = Credits(credits_per_minute, credits_per_day, minute_seconds)
    plan = Plan(market_cap=market_cap_plan, statistics=statistics_plan, index_access=index_access)
    handlers = _Handlers(market, credits, api_key, plan)
    handlers.faults = faults

    # Requests answered, by endpoint path (GET /__requests), for tests counting calls.
    served: dict[str, int] = {}
    served_lock = threading.Lock()

    def endpoint(fn: Callable[[Request], bytes]) -> Callable[[Request], Response]:
        # Sync endpoints run in Starlette's thread pool, so batch building does not block I/O.
        def run(request: Request) -> Response:
            with served_lock:
                served[request.url.path] = served.get(request.url.path, 0) + 1
            fault = faults.whole(request.url.path, request.query_params) if faults else None
            if fault is not None and fault.kind is not None:
                limits = (credits.used_minute, credits.per_minute)
                replaced = faults.answer(fault, limits)  # type: ignore[union-attr]
                if replaced is not None:
                    content, code, media = replaced
                    return Response(content, code, credits.headers(), media_type=media)
            status = 200
            try:
                body = fn(request)
            except ApiError as exc:
                body = orjson.dumps({"code": exc.code, "message": exc.message, "status": "error"})
                status = exc.code if http_error_status else 200
            if fault is not None and fault.kind is not None:
                body = faults.garble(fault, body)  # type: ignore[union-attr]
            return Response(body, status, credits.headers(), media_type="application/json")

        return run

    def not_found(request: Request) -> bytes:
        raise ApiError(404, f"Endpoint {request.url.path} not found")

    def report(what: Callable[[], dict]) -> Callable[[Request], Response]:
        return lambda request: Response(orjson.dumps(what()), media_type="application/json")

    routes = [
        # Read-back for tests and chaos runs: faults injected by kind, the per-minute ledger.
        Route("/__faults", report(lambda: faults.report() if faults else {"injected": {}})),
        Route("/__credits", report(credits.report)),
        Route("/__requests", report(lambda: dict(served))),
        Route("/time_series", endpoint(handlers.time_series)),
        Route("/market_cap", endpoint(handlers.market_cap)),
        Route("/statistics", endpoint(handlers.statistics)),
        Route("/dividends", endpoint(handlers.dividends)),
        Route("/profile", endpoint(handlers.profile)),
        Route("/{path:path}", endpoint(not_found)),
    ]
    return Starlette(routes=routes)


@contextmanager
def serve_sandbox(
    market: SandboxMarket,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    credits_per_minute: int = 0,
    **app_options: Any,
) -> Iterator[str]:
    """Serve the sandbox from a daemon thread; yields its base URL, stops on exit."""
    app = create_sandbox_app(market, credits_per_minute=credits_per_minute, **app_options)
    # IPPROTO_TCP explicitly: asyncio turns on TCP_NODELAY only for sockets whose proto says
    # TCP, and without it every response stalls ~40 ms (Nagle against delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    # log_config=None: uvicorn must not reconfigure (and flush) the host process's logging.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"sandbox server failed to start on {host}:{bound_port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()


def main(argv: list[str] | None = None) -> None:
    """Command line: serve a sandbox market until interrupted."""
    parser = argparse.ArgumentParser(description="Twelve-Data-compatible sandbox server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--credits-per-minute", type=int, default=0)
    parser.add_argument("--minute-seconds", type=float, default=60.0)
    parser.add_argument(
        "--fault", action="append", default=[], metavar="KIND=P",
        help="switch a fault on with probability P (repeatable; KIND `all` for every one)",
    )  # fmt: skip
    parser.add_argument("--fault-seed", type=int, default=0)
    args = parser.parse_args(argv)
    market = SandboxMarket(args.seed, args.symbols, args.as_of)
    rates = {k: float(p) for k, _, p in (f.partition("=") for f in args.fault)}
    app = create_sandbox_app(
        market,
        credits_per_minute=args.credits_per_minute,
        minute_seconds=args.minute_seconds,
        faults=FaultInjector(rates, seed=args.fault_seed) if rates else None,
    )
    print(f"sandbox: {market!r} on http://{args.host}:{args.port}", flush=True)
    # A TCP socket of ours (not uvicorn's): see serve_sandbox on TCP_NODELAY.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
