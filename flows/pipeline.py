"""The pipeline both flows run: ingest -> land -> validate -> publish -> compute -> report."""

from __future__ import annotations

from datetime import date

from prefect.runtime import flow_run

from indexlake.config import Settings
from indexlake.lake.lock import writer_lock
from indexlake.methodology.strategy import Strategy, load_strategies
from indexlake.pipeline.incremental import FetchJob
from indexlake.pipeline.ingest import Mode
from indexlake.pipeline.summary import RunSummary, ValidationLine
from indexlake.pipeline.validate import OutputGate
from indexlake.quality.gx_context import warm_up as warm_up_validation
from indexlake.quality.runner import ValidationFailed
from indexlake.sources.errors import DailyLimitError
from indexlake.sources.factory import benchmark_candidates, open_source, universe
from indexlake.sources.sectors import sector_labels
from tasks.compute import compute_strategies
from tasks.ingest import ingest_chunk, plan_backfill
from tasks.publish import clear_staging, publish_batch, publish_catalog, report_run
from tasks.risk import check_risk_alerts
from tasks.secrets import with_api_key
from tasks.validate import (
    build_data_docs,
    check_freshness,
    publishable_batch,
    resolve_quarantine,
    validate_batch,
)


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
    jobs: list[FetchJob] | None = None,
    incremental: bool = False,
) -> RunSummary:
    """Land [start, end] chunk by chunk (or exactly ``jobs``: the daily refresh's per-symbol
    ranges), then recompute and publish every strategy (``incremental``: append the new
    sessions to strategies whose definition and earlier inputs are unchanged)."""
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
        return _land_and_compute(
            settings, run, strategies, members, requested, mode, jobs, incremental=incremental
        )


def _land_and_compute(
    settings: Settings,
    run: RunSummary,
    strategies: list[Strategy],
    members: list[str],
    requested: list[str],
    mode: Mode,
    jobs: list[FetchJob] | None = None,
    *,
    incremental: bool = False,
) -> RunSummary:
    run_id, start, end = run.run_id, run.start, run.end
    candidates = list(benchmark_candidates(settings))
    failures = []
    checked = []  # every validation report of the run, for the Data Docs
    warm_up_validation()  # GX takes seconds to import: overlap that with the first fetch
    if jobs is None:  # "missing" drops the years already landed and validated
        jobs = plan_backfill(settings.lake_root, requested, start, end, settings.chunk_years, mode)
    if jobs:
        try:
            _land(settings, run, jobs, candidates, failures, checked)
        except DailyLimitError as exc:
            # The vendor's daily credits are spent: keep what was published, stop cleanly.
            run.stopped = str(exc)
            build_data_docs(checked, run_id, settings.data_dir)
            publish_catalog(settings.lake_root, settings.catalog_path)
            return report_run(run)
    if failures:
        build_data_docs(checked, run_id, settings.data_dir)
        raise ValidationFailed(failures)
    clear_staging(settings.data_dir, run_id)
    freshness = check_freshness(settings.expectations_dir, settings.lake_root, run_id)
    run.validations.append(ValidationLine.of(freshness))
    checked.append(freshness)
    gate = OutputGate(settings.expectations_dir, settings.lake_root, run_id)
    written, run.computation = compute_strategies(
        settings.lake_root,
        strategies,
        members,
        list(benchmark_candidates(settings)),
        risk_settings=settings.risk,
        sectors=sector_labels(settings, members),
        gate=gate,
        incremental=incremental,
    )
    run.validations.extend(ValidationLine.of(r) for r in gate.reports)
    run.dq_docs = build_data_docs([*checked, *gate.reports], run_id, settings.data_dir)
    blocked = {r.partition for r in gate.failures}
    run.not_computed = sorted(
        sid for sid, rows in written.items() if not rows and sid not in blocked
    )
    computed = [s for s in strategies if written.get(s.id)]
    run.alerts = check_risk_alerts(settings.lake_root, computed, settings.risk.alerts, run_id)
    publish_catalog(settings.lake_root, settings.catalog_path)
    run = report_run(run)
    if gate.failures:  # those strategies kept their earlier outputs: fail the run loudly
        raise ValidationFailed(gate.failures)
    return run


def _land(
    settings: Settings,
    run: RunSummary,
    jobs: list[FetchJob],
    candidates: list[str],
    failures: list,
    checked: list,
) -> None:
    """Fetch, validate and publish each job's batches; failing batches stay in staging."""
    run_id = run.run_id
    with open_source(settings) as source:
        for job in jobs:
            batches = ingest_chunk(
                source,
                settings.data_dir,
                run_id,
                job.symbols,
                candidates,
                job.start,
                job.end,
                dividends=settings.fetch_dividends,
            )
            # Keep the symbol that served for the rest of the run: never mix SPX and ETF.
            run.benchmark = batches[0].benchmark or run.benchmark
            candidates = [run.benchmark]
            reports = [
                validate_batch(b, settings.expectations_dir, settings.lake_root, run_id)
                for b in batches
            ]
            checked.extend(reports)
            for r in reports:
                run.validations.append(ValidationLine.of(r))
            # Clean rows of a batch failing only on identifiable rows publish when its
            # suite allows it (meta.partial_publish); the failing rows are quarantined.
            clean = [publishable_batch(b, r) for b, r in zip(batches, reports, strict=True)]
            if any(c is None for c in clean):
                failures.extend(r for r, c in zip(reports, clean, strict=True) if c is None)
                continue  # this chunk stays in staging, unpublished
            for b in clean:
                rows = publish_batch(settings.lake_root, b)
                resolve_quarantine(settings.lake_root, b, run_id)
                run.rows_landed[b.dataset] = run.rows_landed.get(b.dataset, 0) + rows
