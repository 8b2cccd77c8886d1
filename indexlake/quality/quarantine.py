"""The ``quarantine`` dataset: rows of ingested batches held back by a critical expectation.

One row per held-back batch row: its key (JSON of the dataset key columns), the whole row as
JSON, why (every critical expectation it failed), the suite, the batch partition, the run and
when. Each dataset's quarantine is one partition file (``quarantine/dataset=prices/``),
replaced atomically. Nothing is deleted: when a later run publishes the key's slice clean
(the vendor fixed the data and a re-run fetched that symbol and date range without the key
failing again), its open rows get ``resolved_at`` and ``resolved_run_id``; open rows are those
with ``resolved_at`` null.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from indexlake.lake.partitions import partition_file, table_to_frame, to_table, write_file_atomic
from indexlake.lake.schemas import DATASETS, QUARANTINE
from indexlake.quality.report import ValidationReport, jsonable


def _utc(at: datetime | None) -> pd.Timestamp:
    stamp = pd.Timestamp(at or datetime.now(tz=UTC))
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _key_columns(dataset: str) -> list[str]:
    """The dataset key columns that are columns of its rows (not its partition)."""
    ds = DATASETS[dataset]
    return [k for k in ds.key if k in ds.columns]


def key_strings(frame: pd.DataFrame, dataset: str) -> list[str]:
    """Canonical JSON of each row's key (ISO dates), e.g. ``{"date": "...", "symbol": "X"}``."""
    columns = _key_columns(dataset)
    records = frame[columns].to_dict(orient="records")
    return [json.dumps({c: jsonable(r[c]) for c in columns}, sort_keys=True) for r in records]


def read_quarantine(lake_root: Path, dataset: str) -> pd.DataFrame:
    """Every quarantine row of ``dataset`` (empty frame if none)."""
    path = partition_file(lake_root, QUARANTINE, dataset)
    if not path.exists():
        return table_to_frame(QUARANTINE.schema.empty_table())
    return table_to_frame(pq.read_table(path, schema=QUARANTINE.schema))


def _write(lake_root: Path, dataset: str, frame: pd.DataFrame) -> None:
    table = to_table(frame.reset_index(drop=True), QUARANTINE)
    write_file_atomic(table, partition_file(lake_root, QUARANTINE, dataset))


def quarantine_rows(
    report: ValidationReport, run_id: str, lake_root: Path, at: datetime | None = None
) -> pd.DataFrame:
    """Append the report's critically failing rows to the quarantine; returns them.

    A key already open in the quarantine from an earlier run stays open beside the new row.
    """
    bad = report.bad_rows()
    if report.frame is None or not bad.any():
        return table_to_frame(QUARANTINE.schema.empty_table())
    rows = report.frame.loc[bad]
    positions = np.flatnonzero(bad)
    reasons: list[list[str]] = [[] for _ in positions]
    names: list[list[str]] = [[] for _ in positions]
    slot = {int(p): i for i, p in enumerate(positions)}
    for o in report.outcomes:
        if not o.fails_batch or o.rows is None:
            continue
        target = f"{o.expectation}({o.column})" if o.column else o.expectation
        for p in o.rows:
            i = slot.get(int(p))
            if i is not None:
                names[i].append(o.expectation)
                reasons[i].append(target)
    payload = [
        json.dumps({str(k): jsonable(v) for k, v in r.items()})
        for r in rows.to_dict(orient="records")
    ]
    stamp = _utc(at)
    n = len(rows)
    new = pd.DataFrame(
        {
            "key": key_strings(rows, report.dataset),
            "row": payload,
            "reason": ["failed " + "; ".join(r) for r in reasons],
            "suite": [report.suite] * n,
            "expectation": [",".join(dict.fromkeys(x)) for x in names],
            "partition": [report.partition] * n,
            "run_id": [run_id] * n,
            "quarantined_at": pd.Series([stamp] * n, dtype="datetime64[us, UTC]"),
            "resolved_at": pd.Series([pd.NaT] * n, dtype="datetime64[us, UTC]"),
            "resolved_run_id": pd.Series([None] * n, dtype="str"),
        }
    )
    existing = read_quarantine(lake_root, report.dataset)
    if not existing.empty:
        # A re-validation of the same batch in the same run replaces its earlier rows.
        same = (existing["run_id"] == run_id) & (existing["partition"] == report.partition)
        existing = existing.loc[~same]
    _write(lake_root, report.dataset, pd.concat([existing, new], ignore_index=True))
    return new


def resolve_slice(
    lake_root: Path,
    dataset: str,
    symbols: list[str],
    start: date,
    end: date,
    run_id: str,
    at: datetime | None = None,
) -> int:
    """Resolve the open quarantine rows of ``dataset`` that a clean publish by ``run_id`` of
    ``symbols`` x [start, end] superseded; returns how many.

    A key this run quarantined again stays open. Keys that should not exist at all (a row on a
    holiday) are resolved too: the clean publish replaced their whole slice.
    """
    existing = read_quarantine(lake_root, dataset)
    if existing.empty:
        return 0
    is_open = existing["resolved_at"].isna().to_numpy()
    again = set(existing.loc[is_open & (existing["run_id"] == run_id).to_numpy(), "key"])
    # Only open rows of earlier runs, not quarantined again now, can be resolved: parse
    # just their keys (usually none are open and nothing is parsed).
    candidate = (
        is_open
        & (existing["run_id"] != run_id).to_numpy()
        & ~existing["key"].isin(again).to_numpy()
    )
    if not candidate.any():
        return 0
    positions = np.flatnonzero(candidate)
    keys = pd.DataFrame([json.loads(k) for k in existing["key"].to_numpy()[positions]])
    if "symbol" not in keys.columns or "date" not in keys.columns:
        return 0
    dates = pd.to_datetime(keys["date"], errors="coerce")
    inside = (
        keys["symbol"].isin(list(symbols)).to_numpy()
        & (dates >= pd.Timestamp(start)).to_numpy()
        & (dates <= pd.Timestamp(end)).to_numpy()
    )
    hit = np.zeros(len(existing), dtype=bool)
    hit[positions[inside]] = True
    if not hit.any():
        return 0
    resolved_at = existing["resolved_at"].copy()
    resolved_at[hit] = _utc(at)
    resolved_by = existing["resolved_run_id"].astype("object")
    resolved_by[hit] = run_id
    _write(
        lake_root,
        dataset,
        existing.assign(resolved_at=resolved_at, resolved_run_id=resolved_by.astype("str")),
    )
    return int(hit.sum())
