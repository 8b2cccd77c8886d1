"""The ``indexlake`` command: run the pipeline, serve the sandbox and the read API, start it all.

The CLI is the edge: it resolves settings once and hands them on. Commands that run flows
import the ``flows`` package when they run, so ``indexlake --help`` stays fast and the
library itself never imports Prefect.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from indexlake.config import load_settings

app = typer.Typer(
    help="indexlake: custom equity indexes from daily prices and market caps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _prefect_home() -> Path:
    """Prefect state lives in ./.prefect unless PREFECT_HOME says otherwise."""
    home = Path(os.environ.setdefault("PREFECT_HOME", str(Path(".prefect").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    return home


# Exit code of a run that stopped cleanly before finishing (the vendor's daily credits ran out).
EXIT_STOPPED = 3


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _drain_prefect_queues() -> None:
    """Send the run's queued logs and events before a server started here is stopped."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


def _run_flow(name: str, **params: object) -> None:
    """Run a flow against a real local Prefect server and print the run summary."""
    from indexlake.lake.lock import LakeBusyError
    from indexlake.methodology.strategy import StrategyFileError
    from indexlake.pipeline.ranges import RangeError
    from indexlake.pipeline.summary import render_text
    from indexlake.quality.runner import ValidationFailed
    from indexlake.services import prefect_server
    from indexlake.sources.factory import SourceConfigError

    with prefect_server(_prefect_home()) as api_url:
        os.environ["PREFECT_API_URL"] = api_url
        if name == "backfill":
            from flows.backfill import backfill as flow
        else:
            from flows.daily_refresh import daily_refresh as flow
        t0 = time.perf_counter()
        try:
            run = flow(**params)
        except (
            RangeError,
            StrategyFileError,
            SourceConfigError,
            ValidationFailed,
            LakeBusyError,
        ) as exc:
            _fail(str(exc))
        finally:
            _drain_prefect_queues()
        typer.echo("")
        typer.echo(render_text(run))
        typer.echo(f"done in {time.perf_counter() - t0:.1f}s (Prefect API {api_url})")
        if run.stopped:  # not a failure, but the run is incomplete: say so to scripts
            raise typer.Exit(code=EXIT_STOPPED)


@app.command()
def demo(
    years: Annotated[int | None, typer.Option(help="Years of history (default: settings).")] = None,
) -> None:
    """Backfill the default history on the built-in sandbox market and compute everything."""
    from indexlake.calendar import latest_completed_trading_day
    from indexlake.pipeline.ranges import history_range

    settings = load_settings()
    if settings.provider != "sandbox":
        _fail("demo runs on the built-in sandbox: unset INDEXLAKE_PROVIDER / provider")
    start, end = history_range(latest_completed_trading_day(), years or settings.history_years)
    _run_flow("backfill", start=start, end=end, mode="all")


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last date, YYYY-MM-DD.")],
    strategy: Annotated[list[str] | None, typer.Option(help="Strategy id (repeatable).")] = None,
    symbol: Annotated[list[str] | None, typer.Option(help="Only fetch these symbols.")] = None,
    mode: Annotated[str, typer.Option(help="missing | all")] = "missing",
) -> None:
    """Land [start, end] and recompute outputs (the same flow as the backfill deployment)."""
    try:
        d0, d1 = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        _fail(f"--start/--end must be YYYY-MM-DD: {exc}")
    if mode not in ("missing", "all"):
        _fail(f"--mode must be 'missing' or 'all', not {mode!r}")
    from indexlake.calendar import latest_completed_trading_day
    from indexlake.pipeline.ranges import RangeError, check_range

    try:  # fail fast, before a Prefect server is started for nothing
        check_range(d0, d1, latest_completed_trading_day())
    except RangeError as exc:
        _fail(str(exc))
    _run_flow(
        "backfill",
        start=d0,
        end=d1,
        strategies=strategy or None,
        symbols=symbol or None,
        mode=mode,
    )


@app.command()
def refresh() -> None:
    """Land the sessions since the last landed one and recompute outputs."""
    _run_flow("daily_refresh")


@app.command()
def strategies() -> None:
    """Check every strategy file and list the strategies."""
    from indexlake.methodology.strategy import StrategyFileError, load_strategies

    settings = load_settings()
    try:
        found = load_strategies(settings.strategies_dir)
    except StrategyFileError as exc:
        _fail(str(exc))
    for s in found:
        typer.echo(f"{s.id:<20} {s.rebalance:<10} {s.name}")


@app.command()
def catalog() -> None:
    """(Re)build the DuckDB catalog of views over the lake."""
    from indexlake.lake.catalog import build_catalog

    settings = load_settings()
    rebuilt = build_catalog(settings.lake_root, settings.catalog_path)
    typer.echo(f"{settings.catalog_path}: {'rebuilt' if rebuilt else 'up to date'}")


@app.command()
def verify(
    strategy: Annotated[list[str] | None, typer.Option(help="Strategy id (repeatable).")] = None,
) -> None:
    """Recompute published strategies with bt, vectorbt, ffn and pandas; exit 1 on a mismatch."""
    from indexlake.methodology.strategy import StrategyFileError, load_strategies
    from indexlake.sources.factory import universe
    from indexlake.verify.published import NotPublishedError
    from indexlake.verify.run import (
        MissingEnginesError,
        NotVerifiableError,
        render_text,
        verify_lake,
    )

    settings = load_settings()
    try:
        found = load_strategies(settings.strategies_dir, strategy or None)
        report = verify_lake(
            settings.lake_root, found, universe(settings), require_published=bool(strategy)
        )
    except (StrategyFileError, NotPublishedError, MissingEnginesError, NotVerifiableError) as exc:
        _fail(str(exc))
    typer.echo(render_text(report))
    if not report.passed:
        raise typer.Exit(code=1)


@app.command()
def chaos(
    years: Annotated[int, typer.Option(help="Years of history to backfill.")] = 2,
    symbols: Annotated[int, typer.Option(help="Sandbox universe size.")] = 30,
    rate: Annotated[float, typer.Option(help="Probability of each fault kind.")] = 0.02,
    seed: Annotated[int, typer.Option(help="Fault seed.")] = 7,
    workdir: Annotated[Path, typer.Option(help="Where the two runs' data go.")] = Path(
        "data/chaos"
    ),
) -> None:
    """Backfill with every sandbox fault on, then with none, and compare what was published."""
    from indexlake.calendar import latest_completed_trading_day
    from indexlake.chaos import run_chaos
    from indexlake.pipeline.ranges import history_range

    if not 0 < rate <= 1:
        _fail(f"--rate must be in (0, 1], not {rate}")
    start, end = history_range(latest_completed_trading_day(), years)
    typer.echo(f"chaos: backfill {start}..{end}, {symbols} symbols, each fault kind at {rate}")
    result = run_chaos(workdir, start, end, rate=rate, seed=seed, n_symbols=symbols)
    for line in result.lines():
        typer.echo(line)
    if result.differences or result.clean_exit:
        raise typer.Exit(code=1)


@app.command()
def api() -> None:
    """Serve the read API (OpenAPI at /docs)."""
    from indexlake.api.app import serve

    serve(load_settings())


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8001,
) -> None:
    """Serve the sandbox market as a Twelve-Data-compatible API until Ctrl-C."""
    from indexlake.sources.sandbox.market import SandboxMarket
    from indexlake.sources.sandbox.server import serve_sandbox

    settings = load_settings()
    market = SandboxMarket(seed=settings.sandbox.seed, n_symbols=settings.sandbox.n_symbols)
    with serve_sandbox(
        market,
        host=settings.sandbox.host,
        port=port,
        credits_per_minute=settings.sandbox.credits_per_minute,
    ) as url:
        typer.echo(f"sandbox market at {url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@app.command()
def up(
    prefect_port: Annotated[int, typer.Option(help="Port of the Prefect server and UI.")] = 4200,
) -> None:
    """Start the Prefect server, serve the deployments of prefect.yaml and the read API."""
    from indexlake.services import run_stack

    settings = load_settings()
    sys.exit(run_stack(_prefect_home(), settings.api.host, settings.api.port, prefect_port))


dq_app = typer.Typer(help="Data quality: validation results and the quarantine.")
app.add_typer(dq_app, name="dq")


@dq_app.command("status")
def dq_status() -> None:
    """Latest validation outcome and quarantined rows of each dataset partition."""
    from indexlake.quality.status import render_status, status_table

    settings = load_settings()
    typer.echo(render_status(status_table(settings.lake_root)))


if __name__ == "__main__":
    app()
