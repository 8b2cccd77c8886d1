"""What a source went through, as one JSON-able record: faults the sandbox injected by kind, the
client's retries by kind, pacing, and the sandbox's per-minute credit ledger. `open_source`
appends one line per source to `sandbox.fault_report` when that is set (for chaos runs)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import orjson

from indexlake.sources.sandbox.faults import FaultInjector
from indexlake.sources.twelvedata import TwelveDataSource


def source_report(source: TwelveDataSource, faults: FaultInjector | None) -> dict[str, Any]:
    """Faults injected, retries and pacing of one source (the ledger read from the sandbox)."""
    client = source.client
    record: dict[str, Any] = {
        "source": source.name,
        "requests": client.requests,
        "faults": faults.report() if faults is not None else {"injected": {}, "total": 0},
        "client": source.stats.as_dict(),
        "pacer": asdict(client.pacer.stats),
        "plan_refusals": client.plan_refusals,
    }
    try:
        record["credits"] = httpx.get(f"{client.base_url}/__credits", timeout=5.0).json()
    except (httpx.HTTPError, ValueError):
        record["credits"] = None  # not a sandbox, or it is gone
    return record


def append_report(path: Path, record: dict[str, Any]) -> None:
    """One JSON line appended to `path` (parent directories created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        fh.write(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS) + b"\n")
