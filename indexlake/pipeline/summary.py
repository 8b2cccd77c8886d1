"""The short human summary printed at the end of a run and attached to it as an artifact."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

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
    # Rows held back in the quarantine dataset (their clean neighbours published).
    quarantined: int = 0

    @classmethod
    def of(cls, report: Any) -> ValidationLine:
        """The line of a ``quality.runner.ValidationReport``."""
        return cls(
            report.dataset,
            report.partition,
            report.success,
            len(report.outcomes),
            sum(1 for o in report.outcomes if not o.success),
            report.quarantined,
        )


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
    # Full-period strategy_comparison rows and this run's risk alerts (risk_alerts rows).
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    api_url: str = "http://127.0.0.1:8000/docs"
    ui_url: str = "http://127.0.0.1:4200"
    # index.html of the Great Expectations Data Docs built for the run, if any.
    dq_docs: Path | None = None
    # Why the run stopped before computing (the vendor's daily credits ran out), if it did.
    stopped: str | None = None
    # How each published strategy was computed: "appended 1 day" (new sessions continued from
    # its published state) or "recomputed 251 days (reason)" (whole history).
    computation: dict[str, str] = field(default_factory=dict)

    @property
    def validation_passed(self) -> bool:
        return all(v.success for v in self.validations)


def strategy_table(lake_root: Path, benchmark: str) -> pd.DataFrame:
    """Latest level and 1-year return of each published strategy against the benchmark."""
    return query_frame(lake_root, "mart_strategy_summary", {"benchmark": benchmark})


def comparison_table(lake_root: Path) -> pd.DataFrame:
    """Full-period return, risk, turnover and benchmark-relative figures of each strategy."""
    return query_frame(lake_root, "mart_strategy_comparison", {})


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


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.2f}"


COMPARISON_HEADER = (
    "strategy",
    "ann. return",
    "volatility",
    "Sharpe",
    "max DD",
    "turnover/yr",
    "excess",
    "TE",
    "IR",
)


def _comparison_rows(table: pd.DataFrame) -> list[tuple[str, ...]]:
    return [
        (
            r.strategy_id,
            _pct(r.annualised_return),
            _pct(r.annualised_volatility).lstrip("+"),
            _num(r.sharpe),
            _pct(r.max_drawdown),
            _pct(r.average_annual_turnover).lstrip("+"),
            _pct(r.excess_return),
            _pct(r.tracking_error).lstrip("+"),
            _num(r.information_ratio),
        )
        for r in table.itertuples(index=False)
    ]


def _alert_lines(alerts: pd.DataFrame) -> list[str]:
    """One line per breach, e.g. 'top50_cap: drawdown (current) -34.22% below -15.00%'."""
    return [
        f"{a.strategy_id}: {a.metric} ({a.window}) {_pct(a.value)} {a.comparison} "
        f"{_pct(a.threshold)} on {pd.Timestamp(a.date).date()}"
        for a in alerts.itertuples(index=False)
    ]


def _text_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  "
        + "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def _comparison_text(s: RunSummary) -> list[str]:
    if s.comparison.empty:
        return []
    symbols = ", ".join(sorted(set(s.comparison["benchmark_symbol"].dropna())))
    return [
        f"full period vs {symbols or s.benchmark} (excess = annualised return difference):",
        _text_table([COMPARISON_HEADER, *_comparison_rows(s.comparison)]),
    ]


def _alerts_text(s: RunSummary) -> list[str]:
    if s.alerts.empty:
        return ["risk alerts: none"]
    return [f"risk alerts ({len(s.alerts)}):", *(f"  {line}" for line in _alert_lines(s.alerts))]


def _validation_text(s: RunSummary) -> str:
    if not s.validations:
        return "nothing new to validate"
    n = len(s.validations)
    checks = sum(v.expectations for v in s.validations)
    verdict = "passed" if s.validation_passed else "FAILED"
    held = sum(v.quarantined for v in s.validations)
    quarantined = f", {held} rows quarantined" if held else ""
    return f"{verdict} ({n} batches, {checks} expectation results{quarantined})"


def _computation_text(s: RunSummary) -> list[str]:
    return [f"  {sid}: {how}" for sid, how in sorted(s.computation.items())]


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
            *([f"stopped early, strategies not recomputed: {s.stopped}"] if s.stopped else []),
            f"validation: {_validation_text(s)}",
            *([f"data docs: {s.dq_docs.resolve()}"] if s.dq_docs is not None else []),
            f"strategies as of {pd.Timestamp(last).date() if last is not None else 'n/a'}:",
            table,
            *(
                [f"not computed (history shorter than needed): {', '.join(s.not_computed)}"]
                if s.not_computed
                else []
            ),
            *(["computed:", *_computation_text(s)] if s.computation else []),
            *_comparison_text(s),
            *_alerts_text(s),
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
    failures = "".join(
        f"\n- {v.dataset} {v.partition}: {v.failed} failed"
        + (f", {v.quarantined} rows quarantined" if v.quarantined else "")
        for v in failed
    )
    if s.dq_docs is not None:
        failures += f"\n\nData quality: [Data Docs]({s.dq_docs.resolve().as_uri()})"
    skipped = (
        f"Not computed (history shorter than needed): {', '.join(s.not_computed)}"
        if s.not_computed
        else ""
    )
    comparison = "\n".join(f"| {' | '.join(r)} |" for r in _comparison_rows(s.comparison))
    alerts = "\n".join(f"- {line}" for line in _alert_lines(s.alerts)) or "none"
    computed = "\n".join(f"- {line.strip()}" for line in _computation_text(s))
    if computed:
        skipped = f"{skipped}\n\nComputed:\n\n{computed}".lstrip()
    stopped = f"\n\n**Stopped early, strategies not recomputed:** {s.stopped}" if s.stopped else ""
    return f"""# indexlake run {s.run_id}

Range **{s.start} .. {s.end}**; validation: **{_validation_text(s)}**{failures}{stopped}

| dataset | rows landed |
|---|---|
{landed or "| (none) | 0 |"}

| strategy | level | 1y return | {s.benchmark} 1y | excess |
|---|---|---|---|---|
{strategies}

{skipped}

Full period (excess = annualised return minus the benchmark's):

| {" | ".join(COMPARISON_HEADER)} |
|{"---|" * len(COMPARISON_HEADER)}
{comparison or "| (none) |" + " |" * (len(COMPARISON_HEADER) - 1)}

**Risk alerts:** {len(s.alerts)}

{alerts}

Lake: `{s.lake_root.resolve()}` · catalog: `{s.catalog_path.resolve()}` (open read-only)
"""
