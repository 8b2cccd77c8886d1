"""The DuckDB catalog: a small database file with one view per dataset over the Parquet lake.

Downstream users open it read-only (``duckdb.connect(path, read_only=True)``) and query
``prices``, ``index_levels``... The views scan the Parquet files, so the catalog never holds
data and only changes when a dataset appears or the lake moves. The pipeline then builds a new
file beside it and renames it into place; otherwise it does not touch the file at all, so the
pipeline never needs a write lock that readers would conflict with.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import duckdb

from indexlake.lake.query import relation_sql
from indexlake.lake.schemas import DATASETS

META_TABLE = "indexlake_catalog"


def view_definitions(lake_root: Path) -> dict[str, str]:
    """``CREATE VIEW`` statement of every dataset, keyed by dataset name."""
    return {
        name: f'CREATE VIEW "{name}" AS SELECT * FROM {relation_sql(lake_root, ds)}'
        for name, ds in DATASETS.items()
    }


def _digest(definitions: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(sorted(definitions.values())).encode()).hexdigest()


def _current_digest(catalog_path: Path) -> str | None:
    if not catalog_path.exists():
        return None
    try:
        con = duckdb.connect(str(catalog_path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(f"SELECT digest FROM {META_TABLE}").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def build_catalog(lake_root: Path, catalog_path: Path) -> bool:
    """Make ``catalog_path`` hold a view per dataset; returns True if the file was rebuilt."""
    definitions = view_definitions(lake_root)
    digest = _digest(definitions)
    if _current_digest(catalog_path) == digest:
        return False
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = catalog_path.parent / f".{catalog_path.name}.{uuid.uuid4().hex}.tmp"
    try:
        con = duckdb.connect(str(tmp))
        try:
            for statement in definitions.values():
                con.execute(statement)
            con.execute(f"CREATE TABLE {META_TABLE} AS SELECT ? AS digest", [digest])
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, catalog_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return True
