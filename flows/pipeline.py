"""The pipeline both flows run: ingest -> land -> validate -> publish -> compute -> report."""

from __future__ import annotations

from datetime import date

from prefect.runtime import flow_run

from indexlake.calendar import trading_days
from indexlake.config import Settings
from indexlake.lake.lock import writer_lock
from indexlake.methodology.strategy import Strategy, load_strategies
from indexlake.pipeline.ingest import Mode
from indexlake.pipeline.ranges import year_chunks
from indexlake.pipeline.summary import RunSummary, ValidationLine
from indexlake.quality.gx_context import warm_up as warm_up_validation
from indexlake.quality.runner import ValidationFailed
from indexlake.sources.factory import benchmark_candidates, open_source, universe
from tasks.compute import compute_strategies
from tasks.ingest import chunk_landed, ingest_chunk
from tasks.publish import clear_staging, publish_batch, publish_catalog, report_run
from tasks.secrets import with_api_key
from tasks.validate import validate_batch


def current_run_id() -> str:
    """The Prefect flow run id, or a local id when run outside a flow."""
    return str(flow_run.get_id() or f"local-{date.today():%Y%m%d}")


def run_pipeline(
    settings: Settings,
    start: date,
    end: date,
    *,
    strategy_ids: list[str] | None,
    symbols: list[str] | None,
    mode: Mode,
) -> RunSummary:
    """Land [start, end] chunk by chunk, then recompute and publish every strategy."""
    run_id = current_run_id()
    settings = with_api_key(settings)
    strategies = load_strategies(settings.strategies_dir, strategy_ids)
    members = universe(settings)
    requested = symbols or members
    benchmark = settings.benchmark
    run = RunSummary(
        run_id=run_id,
        start=start,
        end=end,
        benchmark=benchmark,
        lake_root=settings.lake_root,
        catalog_path=settings.catalog_path,
        api_url=f"http://{settings.api.host}:{settings.api.port}/docs",
    )
    with writer_lock(settings.data_dir):
        return _land_and_compute(settings, run, strategies, members, requested, mode)


def _land_and_compute(
    settings: Settings,
    run: RunSummary,
    strategies: list[Strategy],
    members: list[str],
    requested: list[str],
    mode: Mode,
) -> RunSummary:
    run_id, start, end = run.run_id, run.start, run.end
    candidates = list(benchmark_candidates(settings))
    failures = []
    warm_up_validation()  # GX takes seconds to import: overlap that with the first fetch
    chunks = [c for c in year_chunks(start, end, settings.chunk_years) if len(trading_days(*c))]
    if chunks:
        with open_source(settings) as source:
            for lo, hi in chunks:
                if mode == "missing" and chunk_landed(settings.lake_root, requested, lo, hi):
                    continue
                batches = ingest_chunk(
                    source, settings.data_dir, run_id, requested, candidates, lo, hi
                )
                # Keep the symbol that served for the rest of the run: never mix SPX and ETF.
                run.benchmark = batches[0].benchmark or run.benchmark
                candidates = [run.benchmark]
                reports = [
                    validate_batch(b, settings.expectations_dir, settings.lake_root, run_id)
                    for b in batches
                ]
                for b, r in zip(batches, reports, strict=True):
                    failed = sum(1 for o in r.outcomes if not o.success)
                    run.validations.append(
                        ValidationLine(b.dataset, b.label, r.success, len(r.outcomes), failed)
                    )
                if not all(r.success for r in reports):
                    failures.extend(r for r in reports if not r.success)
                    continue  # this chunk stays in staging, unpublished
                for b in batches:
                    rows = publish_batch(settings.lake_root, b)
                    run.rows_landed[b.dataset] = run.rows_landed.get(b.dataset, 0) + rows
    if failures:
        raise ValidationFailed(failures)
    clear_staging(settings.data_dir, run_id)
    written = compute_strategies(
        settings.lake_root, strategies, members, list(benchmark_candidates(settings))
    )
    run.not_computed = sorted(sid for sid, rows in written.items() if not rows)
    publish_catalog(settings.lake_root, settings.catalog_path)
    return report_run(run)
