"""Chaos check: the same backfill with every sandbox fault switched on and with none, compared.

`run_chaos` runs ``indexlake backfill`` twice, in two fresh data directories, against the
sandbox market: first with every fault kind of `indexlake.sources.sandbox.faults` firing at a
rate, then with no faults. It then compares what each run published. Faults that break the
transport must be absorbed by retries; faults that corrupt data must be caught by validation and
quarantined, never published. So every landed row the faulty run published must equal the
clean run's row with the same key (a *difference* otherwise), and rows the faulty run lacks
are counted as held back (quarantined, or not served by the sandbox: missing days, stale bars).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow.dataset as pads

from indexlake.lake.partitions import dataset_dir
from indexlake.lake.schemas import DATASETS, DIVIDENDS, MARKET_CAPS, PRICES, QUARANTINE, Dataset
from indexlake.sources.sandbox.faults import (
    DATA_KINDS,
    STOPPING_KINDS,
    SYMBOL_KINDS,
    WHOLE_ANSWER_KINDS,
)

LANDED: tuple[Dataset, ...] = (PRICES, MARKET_CAPS, DIVIDENDS)
# Published values are reproduced exactly by the seeded sandbox; allow only float noise.
RTOL = 1e-12


@dataclass
class DatasetDiff:
    """How one dataset of the faulty run compares with the clean run's."""

    dataset: str
    clean_rows: int
    faulty_rows: int
    common_rows: int
    differences: int
    only_faulty: int
    only_clean: int
    sample: list[str] = field(default_factory=list)


def read_dataset(lake_root: Path, ds: Dataset) -> pd.DataFrame:
    """Every row of ``ds`` under ``lake_root`` with its partition column (empty if absent)."""
    root = dataset_dir(lake_root, ds)
    files = sorted(root.glob("*=*/*.parquet")) if root.exists() else []
    if not files:
        return pd.DataFrame(columns=[*ds.columns, ds.partition])
    table = pads.dataset(
        [str(f) for f in files], format="parquet", partitioning="hive", schema=None
    ).to_table()
    return table.to_pandas()


def _canonical(frame: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    key = [k for k in ds.key if k in frame.columns]
    frame = frame.drop(columns=[ds.partition], errors="ignore")
    if "date" in frame.columns:
        frame = frame.assign(date=pd.to_datetime(frame["date"]))
    return frame.set_index(key).sort_index()


def _values_differ(a: pd.Series, b: pd.Series) -> np.ndarray:
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        x = a.to_numpy(dtype=float)
        y = b.to_numpy(dtype=float)
        both_nan = np.isnan(x) & np.isnan(y)
        close = np.isclose(x, y, rtol=RTOL, atol=0.0)
        return ~(close | both_nan)
    return ~((a.to_numpy() == b.to_numpy()) | (pd.isna(a).to_numpy() & pd.isna(b).to_numpy()))


def compare_dataset(clean_root: Path, faulty_root: Path, ds: Dataset) -> DatasetDiff:
    """Rows of ``ds`` published by the faulty run checked against the clean run, key by key.

    A duplicated key in the faulty run counts as a difference (the clean run has one row).
    """
    clean = _canonical(read_dataset(clean_root, ds), ds)
    faulty = _canonical(read_dataset(faulty_root, ds), ds)
    duplicated = faulty.index.duplicated(keep="first")
    dup_count = int(duplicated.sum())
    faulty = faulty[~duplicated]
    common = clean.index.intersection(faulty.index)
    a = clean.loc[common]
    b = faulty.loc[common, a.columns]
    differs = np.zeros(len(common), dtype=bool)
    for column in a.columns:
        differs |= _values_differ(a[column], b[column])
    sample = [
        f"{ds.name} {k}: clean {dict(a.loc[k])} published {dict(b.loc[k])}"
        for k in list(common[differs][:3])
    ]
    return DatasetDiff(
        dataset=ds.name,
        clean_rows=len(clean),
        faulty_rows=len(faulty) + dup_count,
        common_rows=len(common),
        differences=int(differs.sum()) + dup_count,
        only_faulty=len(faulty.index.difference(clean.index)),
        only_clean=len(clean.index.difference(faulty.index)),
        sample=sample,
    )


def quarantined_rows(lake_root: Path) -> int:
    """Rows the run held back in the ``quarantine`` dataset (every dataset)."""
    return len(read_dataset(lake_root, QUARANTINE))


@dataclass
class FaultTally:
    """Faults the sandbox injected, by kind, and the client's retries, summed over sources."""

    faults: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    sources: int = 0


def read_fault_report(path: Path) -> FaultTally:
    """Sum the JSON lines each source of a run appended to its fault report."""
    tally = FaultTally()
    if not Path(path).exists():
        return tally
    for line in Path(path).read_bytes().splitlines():
        if not line.strip():
            continue
        record = orjson.loads(line)
        tally.sources += 1
        tally.faults.update(record.get("faults", {}).get("injected", {}))
        client = record.get("client", {})
        # Whole requests retried, plus symbols of a batch retried alone.
        for counter in ("retries", "symbol_retries"):
            tally.retries += sum(client.get(counter, {}).values())
    return tally


@dataclass
class ChaosResult:
    """Everything `make chaos` prints."""

    tally: FaultTally
    quarantined: int
    diffs: list[DatasetDiff]
    faulty_exit: int
    clean_exit: int

    @property
    def differences(self) -> int:
        return sum(d.differences + d.only_faulty for d in self.diffs)

    def lines(self) -> list[str]:
        out = ["faults injected by kind:"]
        out += [f"  {kind:<20} {n}" for kind, n in sorted(self.tally.faults.items())]
        out.append(
            f"faulty run exit code {self.faulty_exit}, clean run exit code {self.clean_exit}"
        )
        for d in self.diffs:
            out.append(
                f"{d.dataset}: clean {d.clean_rows} rows, faulty {d.faulty_rows}, compared "
                f"{d.common_rows}, differences {d.differences}, only in faulty {d.only_faulty}, "
                f"held back {d.only_clean}"
            )
            out += [f"  {s}" for s in d.sample]
        total = sum(self.tally.faults.values())
        out.append(
            f"chaos: {total} faults, {self.tally.retries} retries, {self.quarantined} "
            f"quarantined, {self.differences} differences"
        )
        return out


def every_kind_schedule() -> dict[str, list[int]]:
    """One early request (or symbol answer) per fault kind, so each kind fires at least once
    whatever the rate draws: whole-answer kinds on requests 2, 5, 8, ...; per-symbol kinds on
    the 3rd, 7th, 11th, ... symbol answer. The day limits are left out: they end a run."""
    whole = [k for k in WHOLE_ANSWER_KINDS if k not in STOPPING_KINDS]
    schedule = {kind: [2 + 3 * i] for i, kind in enumerate(whole)}
    schedule.update({kind: [3 + 4 * i] for i, kind in enumerate(SYMBOL_KINDS + DATA_KINDS)})
    return schedule


def _backfill(
    data_dir: Path, start: date, end: date, env: dict[str, str], log: Path
) -> subprocess.CompletedProcess[bytes]:
    cli = Path(sys.executable).with_name("indexlake")
    command = [str(cli), "backfill", "--start", str(start), "--end", str(end), "--mode", "all"]
    run_env = {**os.environ, **env, "INDEXLAKE_DATA_DIR": str(data_dir)}
    with log.open("wb") as fh:
        return subprocess.run(command, env=run_env, stdout=fh, stderr=subprocess.STDOUT)


def run_chaos(
    workdir: Path,
    start: date,
    end: date,
    *,
    rate: float,
    seed: int,
    n_symbols: int,
    max_attempts: int = 8,
) -> ChaosResult:
    """Run the faulty and the clean backfill under ``workdir`` and compare what they published.

    The faulty run has every fault kind firing at ``rate`` plus once on `every_kind_schedule`.
    """
    workdir = Path(workdir)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    common = {
        "INDEXLAKE_PROVIDER": "sandbox",
        "INDEXLAKE_SANDBOX__N_SYMBOLS": str(n_symbols),
        "INDEXLAKE_SANDBOX__OWN_PROCESS": "false",
        # A short vendor minute: a 429-minute fault costs a second, not a minute.
        "INDEXLAKE_SANDBOX__MINUTE_SECONDS": "1",
        "INDEXLAKE_TWELVEDATA__MAX_ATTEMPTS": str(max_attempts),
    }
    report = workdir / "faults.jsonl"
    faulty = _backfill(
        workdir / "faulty",
        start,
        end,
        {
            **common,
            "INDEXLAKE_SANDBOX__FAULTS__ALL": str(rate),
            "INDEXLAKE_SANDBOX__FAULT_SEED": str(seed),
            "INDEXLAKE_SANDBOX__FAULT_SCHEDULE": orjson.dumps(every_kind_schedule()).decode(),
            "INDEXLAKE_SANDBOX__FAULT_REPORT": str(report),
        },
        workdir / "faulty.log",
    )
    clean = _backfill(workdir / "clean", start, end, common, workdir / "clean.log")
    diffs = [
        compare_dataset(workdir / "clean" / "lake", workdir / "faulty" / "lake", ds)
        for ds in LANDED
        if ds.name in DATASETS
    ]
    return ChaosResult(
        tally=read_fault_report(report),
        quarantined=quarantined_rows(workdir / "faulty" / "lake"),
        diffs=diffs,
        faulty_exit=faulty.returncode,
        clean_exit=clean.returncode,
    )
