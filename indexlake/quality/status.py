"""``indexlake dq status``: the latest validation of each dataset partition and its quarantine.

Reads the ``dq_results`` and ``quarantine`` datasets with ``sql/dq_status.sql``; never imports
Great Expectations.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from indexlake.lake.query import query_frame


def status_table(lake_root: Path) -> pd.DataFrame:
    """One row per validated (or quarantined) dataset partition, failing ones first."""
    return query_frame(lake_root, "dq_status")


def render_status(table: pd.DataFrame) -> str:
    """The status as aligned text; the last line is the one-line total."""
    header = ("dataset", "partition", "outcome", "failed", "warnings", "quarantined", "validated")
    rows = [header]
    for r in table.itertuples(index=False):
        validated = pd.Timestamp(r.validated_at) if pd.notna(r.validated_at) else None
        outcome = "FAILING" if r.failed else "passed"
        if validated is None:
            outcome = "not validated"
        rows.append(
            (
                r.dataset,
                r.partition,
                outcome,
                str(int(r.failed)),
                str(int(r.warnings)),
                str(int(r.quarantined)),
                validated.strftime("%Y-%m-%d %H:%M:%S UTC") if validated is not None else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    validated = int(table["validated_at"].notna().sum()) if len(table) else 0
    failing = int((table["failed"] > 0).sum()) if len(table) else 0
    held = int(table["quarantined"].sum()) if len(table) else 0
    if len(rows) == 1:
        lines = ["no validation results yet"]
    lines.append(
        f"dq: {validated} partitions validated, {failing} failing, {held} rows quarantined"
    )
    return "\n".join(lines)
