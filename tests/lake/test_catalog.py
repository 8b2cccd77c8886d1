"""The DuckDB catalog: a view per dataset, readable while other readers hold it open."""

from pathlib import Path

import duckdb
import pandas as pd

from indexlake.lake import partitions as parts
from indexlake.lake.catalog import build_catalog
from indexlake.lake.schemas import DATASETS, PRICES


def _write_prices(root: Path, year: int, close: float) -> None:
    frame = pd.DataFrame(
        {
            "date": [pd.Timestamp(f"{year}-06-03")],
            "symbol": ["AAA"],
            "open": [close],
            "high": [close],
            "low": [close],
            "close": [close],
            "volume": pd.array([5], dtype="Int64"),
        }
    )
    parts.write_partition(root, PRICES, year, frame)


def test_catalog_has_a_view_per_dataset_even_before_data(tmp_path: Path) -> None:
    catalog = tmp_path / "indexlake.duckdb"
    assert build_catalog(tmp_path / "lake", catalog) is True
    con = duckdb.connect(str(catalog), read_only=True)
    views = {r[0] for r in con.execute("select view_name from duckdb_views()").fetchall()}
    assert set(DATASETS) <= views
    assert con.execute("select count(*) from prices").fetchone()[0] == 0
    cols = [r[0] for r in con.execute("describe prices").fetchall()]
    assert cols == [*PRICES.columns, "year"]
    con.close()


def test_catalog_reads_hive_partitions_and_sees_replaced_files(tmp_path: Path) -> None:
    lake, catalog = tmp_path / "lake", tmp_path / "indexlake.duckdb"
    _write_prices(lake, 2023, 10.0)
    _write_prices(lake, 2024, 20.0)
    build_catalog(lake, catalog)
    reader = duckdb.connect(str(catalog), read_only=True)
    rows = reader.execute("select year, close from prices order by year").fetchall()
    assert rows == [(2023, 10.0), (2024, 20.0)]
    _write_prices(lake, 2024, 21.0)  # the pipeline replaces a partition while a reader is open
    assert build_catalog(lake, catalog) is False  # no new dataset: the file is left alone
    rows = reader.execute("select year, close from prices order by year").fetchall()
    assert rows == [(2023, 10.0), (2024, 21.0)]
    reader.close()


def test_catalog_is_rebuilt_when_a_dataset_first_appears(tmp_path: Path) -> None:
    lake, catalog = tmp_path / "lake", tmp_path / "indexlake.duckdb"
    build_catalog(lake, catalog)
    _write_prices(lake, 2024, 20.0)
    assert build_catalog(lake, catalog) is True
    con = duckdb.connect(str(catalog), read_only=True)
    assert con.execute("select count(*) from prices").fetchone()[0] == 1
    con.close()


def test_catalog_reads_partitions_written_before_a_column_was_added(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lake, catalog = tmp_path / "lake", tmp_path / "indexlake.duckdb"
    _write_prices(lake, 2024, 20.0)
    old = pa.table(
        {
            "date": pa.array([pd.Timestamp("2023-06-02").date()]),
            "symbol": ["AAA"],
            "open": [1.0],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
        }
    )  # no volume
    (lake / "prices" / "year=2023").mkdir(parents=True)
    pq.write_table(old, lake / "prices" / "year=2023" / "part-0.parquet")
    build_catalog(lake, catalog)
    con = duckdb.connect(str(catalog), read_only=True)
    rows = con.execute("select year, close, volume from prices order by year").fetchall()
    con.close()
    assert rows == [(2023, 1.0, None), (2024, 20.0, 5)]
