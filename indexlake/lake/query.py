"""Run the named SQL files in ``sql/`` against the Parquet lake with an in-memory DuckDB.

SQL files name datasets as ``{prices}``, ``{market_caps}``...; the loader replaces each with a
``read_parquet`` scan of that dataset's files. Values are bound as ``$name`` parameters, never
pasted into the SQL text. An in-memory connection takes no lock on any database file, so these
reads never conflict with the pipeline or with readers of the catalog.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from indexlake.lake.partitions import dataset_dir, partition_values
from indexlake.lake.schemas import DATASETS, Dataset

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

_DUCKDB_TYPES = {"int32": "INTEGER", "string": "VARCHAR"}


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dataset_scan(root: Path, dataset: Dataset) -> str:
    """A ``read_parquet`` expression over every partition file of ``dataset``.

    ``union_by_name``: a partition written before a column was added still reads (as NULL).
    """
    glob = str(dataset_dir(Path(root).resolve(), dataset) / "*" / "*.parquet")
    hive_type = _DUCKDB_TYPES[str(dataset.partition_type)]
    return (
        f"read_parquet({_sql_literal(glob)}, hive_partitioning = true, union_by_name = true, "
        f"hive_types = {{'{dataset.partition}': {hive_type}}})"
    )


def empty_scan(dataset: Dataset) -> str:
    """A typed, empty relation with the columns a scan of ``dataset`` would have."""
    con = duckdb.connect()
    try:
        con.register("_empty", dataset.schema.empty_table())
        described = con.execute("SELECT column_name, column_type FROM (DESCRIBE _empty)").fetchall()
    finally:
        con.close()
    cols = [f'CAST(NULL AS {typ}) AS "{name}"' for name, typ in described]
    cols.append(
        f'CAST(NULL AS {_DUCKDB_TYPES[str(dataset.partition_type)]}) AS "{dataset.partition}"'
    )
    return f"(SELECT {', '.join(cols)} WHERE false)"


def relation_sql(root: Path, dataset: Dataset) -> str:
    """Scan of the dataset if it has files, else a typed empty relation."""
    if partition_values(root, dataset):
        return dataset_scan(root, dataset)
    return empty_scan(dataset)


@lru_cache(maxsize=64)
def load_sql(name: str) -> str:
    """Text of ``sql/<name>.sql``."""
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text()


def render_sql(root: Path, name: str) -> str:
    """The named SQL with dataset placeholders replaced by scans of the lake at ``root``."""
    text = load_sql(name)
    scans = {n: relation_sql(root, d) for n, d in DATASETS.items() if "{" + n + "}" in text}
    for n, scan in scans.items():
        text = text.replace("{" + n + "}", scan)
    return text


def query_arrow(root: Path, name: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run ``sql/<name>.sql`` over the lake and return the result as an Arrow table."""
    con = duckdb.connect()
    try:
        return con.sql(render_sql(root, name), params=params or {}).to_arrow_table()
    finally:
        con.close()


def query_frame(root: Path, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run ``sql/<name>.sql`` over the lake and return the result as a frame."""
    con = duckdb.connect()
    try:
        return con.execute(render_sql(root, name), params or {}).df()
    finally:
        con.close()
