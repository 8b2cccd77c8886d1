"""Benchmark the pipeline stages on a large sandbox universe (default 500 symbols x 25 years).

Runs each stage as the flows do, without Prefect's orchestration overhead, over real HTTP to
the sandbox and real Parquet/DuckDB files in a scratch directory, and prints wall seconds,
rows/s and the peak resident memory reached during each stage.

    make bench                                  # 500 symbols x 25 years
    make bench BENCH_ARGS="--symbols 100 --years 5"
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from strategy_parts import bench_strategy, print_parts  # bench/, the script's directory

from indexlake.calendar import latest_completed_trading_day
from indexlake.config import SandboxSettings, Settings, TwelveDataSettings
from indexlake.lake.catalog import build_catalog
from indexlake.methodology.strategy import load_strategies
from indexlake.pipeline import compute, ingest, validate
from indexlake.pipeline.ranges import history_range, year_chunks
from indexlake.quality.gx_context import batch_definition
from indexlake.sources.factory import open_source, universe

RISK_STRATEGIES = 10

REPO = Path(__file__).resolve().parents[1]
PAGE = 4096


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


class PeakRss:
    """Samples resident memory every few milliseconds; reports the peak seen."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def __enter__(self) -> PeakRss:
        self.peak = _rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


@dataclass
class StageResult:
    name: str
    seconds: float
    rows: int
    peak_mib: float


RESULTS: list[StageResult] = []


@contextmanager
def stage(name: str) -> Iterator[dict[str, int]]:
    counter = {"rows": 0}
    with PeakRss() as mem:
        t0 = time.perf_counter()
        yield counter
        seconds = time.perf_counter() - t0
    RESULTS.append(StageResult(name, seconds, counter["rows"], mem.peak / 2**20))
    rate = f"{counter['rows'] / seconds:>12,.0f} rows/s" if counter["rows"] else " " * 19
    print(
        f"  {name:<28} {seconds:8.2f} s {rate}  peak RSS {mem.peak / 2**20:8.0f} MiB",
        flush=True,
    )


def bench_risk(n_strategies: int = RISK_STRATEGIES, years: int = 25) -> float:
    """Seconds for every risk output of ``n_strategies`` synthetic level series over ``years``.

    Per strategy: risk_metrics (metric table over every window), rolling_series and
    stress_tests (worst periods, named windows, beta and sector shocks on 50 weights); plus one
    metric_table over all strategies at once. Synthetic data: no lake, no HTTP.
    """
    import numpy as np
    import pandas as pd

    from indexlake.lake.schemas import REBALANCE_ORDERS
    from indexlake.pipeline.risk_outputs import strategy_risk_outputs
    from indexlake.risk.report import risk_metrics
    from indexlake.risk.settings import RiskSettings
    from indexlake.risk.table import metric_table

    rng = np.random.default_rng(0)
    days = pd.bdate_range("2000-01-03", periods=years * 252)
    bench_ret = rng.normal(0.0003, 0.012, len(days))
    strat_ret = 0.9 * bench_ret[:, None] + rng.normal(0.0001, 0.005, (len(days), n_strategies))
    bench = pd.Series(1000 * np.cumprod(1 + bench_ret), index=days)
    levels = pd.DataFrame(100 * np.cumprod(1 + strat_ret, axis=0), index=days)
    names = [f"N{i:02d}" for i in range(50)]
    allocations = pd.DataFrame({"date": days[-1], "symbol": names, "weight": 1 / 50})
    sectors = {s: f"sector_{i % 11}" for i, s in enumerate(names)}
    settings = RiskSettings()
    no_orders = REBALANCE_ORDERS.schema.empty_table().to_pandas()
    t0, cpu0 = time.perf_counter(), time.process_time()
    metric_table(levels.pct_change().iloc[1:], bench.pct_change().iloc[1:])
    for column in levels.columns:
        risk = risk_metrics(levels[column], bench, benchmark_symbol="SPX")
        strategy_risk_outputs(  # what the pipeline runs after the metrics
            f"s{column}",
            levels[column],
            bench,
            benchmark_symbol="SPX",
            risk=risk,
            allocations=allocations,
            orders=no_orders,
            settings=settings,
            sectors=sectors,
        )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    # CPU seconds too: on a shared machine the wall time mostly measures the neighbours.
    label = f"risk ({n_strategies} strategies x {years} y)"
    print(
        f"  {label:<28} {seconds:8.2f} s   CPU {cpu:.2f} s "
        "(metric table + windows + rolling + stress + comparison; target <= 1 s)",
        flush=True,
    )
    return seconds


def print_validation_overhead(total: float, gx_import: float) -> None:
    """Validation seconds as a share of the run without them (the target is <= 20%): the
    validate stage (suites on the ingested batches, GX import included), then also counting
    the output gates."""
    seconds = sum(r.seconds for r in RESULTS if r.name.startswith("validate"))
    gates = sum(r.seconds for r in RESULTS if r.name.startswith("output gate"))
    if total - seconds - gates <= 0:
        return
    print(
        f"validate overhead: {100 * seconds / (total - seconds):.1f}% of the run without "
        f"validation (target <= 20%; {seconds:.1f} s of {total - seconds:.1f} s, of which "
        f"the GX import {gx_import:.1f} s); with the output gates ({gates:.1f} s) too: "
        f"{100 * (seconds + gates) / (total - seconds - gates):.1f}%",
        flush=True,
    )


def run(
    symbols: int,
    years: int,
    workdir: Path,
    keep: bool,
    *,
    in_process: bool = False,
    workers: int = 8,
) -> None:
    latest = latest_completed_trading_day()
    start, end = history_range(latest, years)
    settings = Settings(
        data_dir=workdir / "data",
        strategies_dir=REPO / "strategies",
        expectations_dir=REPO / "expectations",
        # The sandbox serves from its own process (as the vendor's servers are elsewhere), so
        # its JSON building does not share the client's GIL; --in-process measures it inside.
        sandbox=SandboxSettings(n_symbols=symbols, own_process=not in_process),
        twelvedata=TwelveDataSettings(max_workers=workers),
    )
    strategies = load_strategies(settings.strategies_dir)
    print(
        f"bench: {symbols} symbols x {years} years ({start}..{end}), "
        f"{len(strategies)} strategies, work dir {workdir}"
    )
    run_id = "bench"
    members = universe(settings)
    batches: list[ingest.StagedBatch] = []
    with stage("ingest (HTTP + staging)") as c, open_source(settings) as source:
        for lo, hi in year_chunks(start, end, settings.chunk_years):
            staged = ingest.ingest_chunk(
                source, settings.data_dir, run_id, members, [settings.benchmark], lo, hi
            )
            batches.extend(staged)
            c["rows"] += sum(b.rows for b in staged)
    reports = []
    with stage("validate (GX)") as c:
        # The flow imports GX in a thread during the first fetch; on 2 busy cores that slowed
        # ingest about as much, so the bench counts the import here, where it is visible.
        t0 = time.perf_counter()
        batch_definition()
        gx_import = time.perf_counter() - t0
        for b in batches:
            report = validate.validate_batch(
                b, settings.expectations_dir, settings.lake_root, run_id
            )
            if not report.success:
                raise SystemExit(report.failure_message())
            reports.append(report)
            c["rows"] += b.rows
    with stage("publish (Parquet partitions)") as c:
        # As the flow: the gate says what publishes, then the quarantine is resolved.
        for b, report in zip(batches, reports, strict=True):
            clean = validate.publishable_batch(b, report)
            c["rows"] += ingest.publish_batch(settings.lake_root, clean)
            validate.resolve_quarantine(settings.lake_root, clean, run_id)
    with stage("load panel (DuckDB)") as c:
        panel = compute.load_panel(settings.lake_root, members, [settings.benchmark])
        c["rows"] = int(panel.closes.notna().sum().sum())
    # Per strategy: engine, risk outputs, output gate and publish, each its own stage.
    gate = validate.OutputGate(settings.expectations_dir, settings.lake_root, run_id)
    parts = [bench_strategy(s, panel, settings.lake_root, gate, stage) for s in strategies]
    with stage("catalog"):
        build_catalog(settings.lake_root, settings.catalog_path)
    print_parts(parts)
    bench_risk(RISK_STRATEGIES, years)
    total = sum(r.seconds for r in RESULTS)
    print_validation_overhead(total, gx_import)
    peak = max(r.peak_mib for r in RESULTS)
    print(f"bench: total {total:.1f} s, peak RSS {peak:.0f} MiB")
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    parser.add_argument(
        "--in-process", action="store_true", help="serve the sandbox from a thread, not a process"
    )
    parser.add_argument("--workers", type=int, default=8, help="requests in flight at once")
    parser.add_argument(
        "--risk-only", action="store_true", help="time only the risk outputs (synthetic levels)"
    )
    args = parser.parse_args(argv)
    if args.risk_only:
        bench_risk(RISK_STRATEGIES, args.years)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="indexlake-bench-"))
    run(
        args.symbols,
        args.years,
        workdir,
        args.keep,
        in_process=args.in_process,
        workers=args.workers,
    )


if __name__ == "__main__":
    main()
