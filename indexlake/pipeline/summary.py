"""The short human summary printed at the end of a run and attached to it as an artifact."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from indexlake.lake.query import query_frame


@dataclass
class ValidationLine:
    """Outcome of one suite on one staged batch."""

    dataset: str
    partition: str
    success: bool
    expectations: int
    failed: int


@dataclass
class RunSummary:
    """What a run did, where its outputs are, and how to look at them."""

    run_id: str
    start: date
    end: date
    benchmark: str
    lake_root: Path
    catalog_path: Path
    rows_landed: dict[str, int] = field(default_factory=dict)
    validations: list[ValidationLine] = field(default_factory=list)
    strategies: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Strategies skipped because the landed history is shorter than they need.
    not_computed: list[str] = field(default_factory=list)
    api_url: str = "http://127.0.0.1:8000/docs"
    ui_url: str = "http://127.0.0.1:4200"

    @property
    def validation_passed(self) -> bool:
        return all(v.success for v in self.validations)


def strategy_table(lake_root: Path, benchmark: str) -> pd.DataFrame:
    """Latest level and 1-year return of each published strategy against the benchmark."""
    return query_frame(lake_root, "mart_strategy_summary", {"benchmark": benchmark})


def _pct(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:+.2%}"


def _strategy_rows(table: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for r in table.itertuples(index=False):
        rows.append(
            (
                r.strategy_id,
                f"{r.last_level:,.2f}",
                _pct(r.return_1y),
                _pct(r.benchmark_return_1y),
                _pct(r.return_1y - r.benchmark_return_1y)
                if pd.notna(r.return_1y) and pd.notna(r.benchmark_return_1y)
                else "n/a",
            )
        )
    return rows


def _validation_text(s: RunSummary) -> str:
    if not s.validations:
        return "nothing new to validate"
    n = len(s.validations)
    checks = sum(v.expectations for v in s.validations)
    verdict = "passed" if s.validation_passed else "FAILED"
    return f"{verdict} ({n} batches, {checks} expectation results)"


def render_text(s: RunSummary) -> str:
    """Plain-text summary for a terminal."""
    landed = ", ".join(f"{k} {v:,}" for k, v in s.rows_landed.items()) or "nothing new"
    header = ("strategy", "level", "1y return", f"{s.benchmark} 1y", "excess")
    rows = [header, *_strategy_rows(s.strategies)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    table = "\n".join(
        "  "
        + "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )
    last = s.strategies["last_date"].max() if not s.strategies.empty else None
    return "\n".join(
        [
            f"indexlake run {s.run_id}: {s.start} .. {s.end}",
            f"rows landed: {landed}",
            f"validation: {_validation_text(s)}",
            f"strategies as of {pd.Timestamp(last).date() if last is not None else 'n/a'}:",
            table,
            *(
                [f"not computed (history shorter than needed): {', '.join(s.not_computed)}"]
                if s.not_computed
                else []
            ),
            f"outputs: Parquet lake {s.lake_root.resolve()}",
            f"         DuckDB catalog {s.catalog_path.resolve()} (open read-only)",
            f"look:    make up, then the UI at {s.ui_url} and the API at {s.api_url}",
        ]
    )


def render_markdown(s: RunSummary) -> str:
    """Markdown summary for the run's Prefect artifact."""
    landed = "\n".join(f"| {k} | {v:,} |" for k, v in s.rows_landed.items())
    strategies = "\n".join(f"| {' | '.join(r)} |" for r in _strategy_rows(s.strategies))
    failed = [v for v in s.validations if not v.success]
    failures = "".join(f"\n- {v.dataset} {v.partition}: {v.failed} failed" for v in failed)
    skipped = (
        f"Not computed (history shorter than needed): {', '.join(s.not_computed)}"
        if s.not_computed
        else ""
    )
    return f"""# indexlake run {s.run_id}

Range **{s.start} .. {s.end}**; validation: **{_validation_text(s)}**{failures}

| dataset | rows landed |
|---|---|
{landed or "| (none) | 0 |"}

| strategy | level | 1y return | {s.benchmark} 1y | excess |
|---|---|---|---|---|
{strategies}

{skipped}

Lake: `{s.lake_root.resolve()}` · catalog: `{s.catalog_path.resolve()}` (open read-only)
"""
