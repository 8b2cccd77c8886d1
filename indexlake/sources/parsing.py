"""Vendor payloads (every number a string) into typed columns, failing loudly on bad values."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from indexlake.sources.base import PRICE_FIELDS
from indexlake.sources.errors import PayloadError

# The error of a symbol a batch answer leaves out (the client retries such a symbol alone).
MISSING = "missing from the batch response"


def _locate_bad(
    values: Sequence[object],
    symbols: Sequence[str],
    dates: Sequence[object],
    field: str,
    ok: Callable[[object], bool],
) -> PayloadError:
    for i, raw in enumerate(values):
        if raw is None:
            continue
        if not ok(raw):
            return PayloadError(
                f"unparseable {field} {raw!r} for symbol {symbols[i]} on {dates[i]}",
                symbol=str(symbols[i]),
            )
    return PayloadError(f"unparseable {field} values")


def _is_float(raw: object) -> bool:
    try:
        float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _is_date(raw: object) -> bool:
    try:
        np.datetime64(str(raw)[:10], "D")
    except ValueError:
        return False
    return isinstance(raw, str)


def parse_dates(raw: list[object], symbols: Sequence[str]) -> np.ndarray:
    """`YYYY-MM-DD[ HH:MM:SS]` strings as naive midnight datetime64[ns]."""
    try:
        arr = pc.utf8_slice_codeunits(pa.array(raw, type=pa.string()), 0, 10)
        out = pc.cast(arr, pa.date32())
        if out.null_count:
            raise pa.ArrowInvalid("missing date")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _locate_bad(raw, symbols, raw, "date", _is_date) from None
    return out.to_numpy(zero_copy_only=False).astype("datetime64[ns]")


def parse_floats(
    raw: list[object], field: str, symbols: Sequence[str], dates: Sequence[object]
) -> np.ndarray:
    """Numeric strings (or numbers) as float64; missing / null become NaN."""
    try:
        out = pc.cast(pa.array(raw), pa.float64()) if raw else pa.array([], pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Mixed strings and numbers: fall back to Python, which also finds the bad value.
        if not all(x is None or _is_float(x) for x in raw):
            raise _locate_bad(raw, symbols, dates, field, _is_float) from None
        return np.array([np.nan if x is None else float(x) for x in raw], dtype=np.float64)
    return out.to_numpy(zero_copy_only=False)


def parse_volumes(raw: list[object], symbols: Sequence[str], dates: Sequence[object]) -> pd.array:
    """Volume strings as nullable Int64 (a fractional volume is a payload error)."""
    floats = parse_floats(raw, "volume", symbols, dates)
    present = ~np.isnan(floats)
    fractional = present & (np.round(floats) != floats)
    if fractional.any():
        i = int(np.flatnonzero(fractional)[0])
        raise PayloadError(
            f"non-integer volume {raw[i]!r} for symbol {symbols[i]} on {dates[i]}",
            symbol=str(symbols[i]),
        )
    ints = np.where(present, floats, 0).astype(np.int64)
    return pd.arrays.IntegerArray(ints, ~present)


def price_rows(batch: list[tuple[str, list[dict]]]) -> pd.DataFrame:
    """Many symbols' `values` lists as one untyped-order prices frame (vendor order kept)."""
    symbols: list[str] = []
    dates: list[object] = []
    columns: dict[str, list[object]] = {f: [] for f in (*PRICE_FIELDS, "volume")}
    for symbol, values in batch:
        symbols.extend([symbol] * len(values))
        dates.extend([v.get("datetime") for v in values])
        for name, column in columns.items():
            column.extend([v.get(name) for v in values])
    parsed_dates = parse_dates(dates, symbols)
    frame = pd.DataFrame(
        {
            "date": parsed_dates,
            "symbol": symbols,
            **{f: parse_floats(columns[f], f, symbols, dates) for f in PRICE_FIELDS},
            "volume": parse_volumes(columns["volume"], symbols, dates),
        }
    )
    return frame


def market_cap_rows(symbol: str, rows: list[dict], source: str) -> pd.DataFrame:
    """One symbol's `/market_cap` rows (`date`, integer `value`) as a market caps frame."""
    symbols = [symbol] * len(rows)
    dates = [r.get("date") for r in rows]
    values = [r.get("value") for r in rows]
    return pd.DataFrame(
        {
            "date": parse_dates(dates, symbols),
            "symbol": symbols,
            "market_cap": parse_floats(values, "market_cap", symbols, dates),
            "source": source,
        }
    )


def _struct_field(struct: pa.StructArray, name: str, length: int) -> pa.Array:
    """A field of a struct array, or all-null when the vendor left the key out."""
    if struct.type.get_field_index(name) < 0:
        return pa.nulls(length, pa.string())
    return struct.field(name)


def _one_chunk(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array, without a copy when it already is one chunk."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def columnar_series(
    body: bytes, batch: Sequence[str]
) -> tuple[pd.DataFrame | None, list[tuple[str, int, str]]] | None:
    """A time series body parsed column-wise by Arrow (fast, GIL-free) into a prices frame and
    per-symbol `(symbol, code, message)` errors; None when the body is not the usual shape, so
    the caller falls back to the row-wise parser (which also pinpoints bad values)."""
    try:
        table = pajson.read_json(
            io.BytesIO(body),
            read_options=pajson.ReadOptions(block_size=len(body) + 1),
            parse_options=pajson.ParseOptions(newlines_in_values=True),
        )
        if table.num_rows != 1:
            return None
        if len(batch) == 1:
            items = {batch[0]: pa.StructArray.from_arrays(
                [c.combine_chunks() for c in table.columns], table.column_names
            )}  # fmt: skip
        else:
            names = set(table.column_names)
            items = {s: _one_chunk(table.column(s)) for s in batch if s in names}
        errors: list[tuple[str, int, str]] = []
        parts: list[tuple[str, pa.StructArray]] = []
        for symbol in batch:
            item = items.get(symbol)
            if item is None:
                errors.append((symbol, 0, MISSING))
                continue
            fields = {f.name for f in item.type}
            status = item.field("status")[0].as_py() if "status" in fields else None
            if status == "error":
                code = item.field("code")[0].as_py() if "code" in fields else 0
                message = item.field("message")[0].as_py() if "message" in fields else ""
                errors.append((symbol, int(code or 0), str(message)))
            elif "values" in fields and item.field("values")[0].is_valid:
                rows = item.field("values").flatten()
                if len(rows):
                    parts.append((symbol, rows))
        if not parts:
            return None, errors
        counts = [len(rows) for _, rows in parts]
        columns: dict[str, object] = {}
        raw_dates = pa.concat_arrays(
            [pc.cast(_struct_field(r, "datetime", len(r)), pa.string()) for _, r in parts]
        )
        columns["date"] = pc.cast(pc.utf8_slice_codeunits(raw_dates, 0, 10), pa.date32())
        if columns["date"].null_count:
            return None
        for name in (*PRICE_FIELDS, "volume"):
            joined = pa.concat_arrays(
                [pc.cast(_struct_field(r, name, len(r)), pa.string()) for _, r in parts]
            )
            columns[name] = pc.cast(joined, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError):
        return None
    volume = columns["volume"]
    present = ~np.isnan(volume)
    if (present & (np.round(volume) != volume)).any():
        return None  # let the row-wise parser name the bad volume
    frame = pd.DataFrame(
        {
            "date": columns["date"].to_numpy(zero_copy_only=False).astype("datetime64[ns]"),
            "symbol": np.repeat([s for s, _ in parts], counts),
            **{f: columns[f] for f in PRICE_FIELDS},
            "volume": pd.arrays.IntegerArray(
                np.where(present, volume, 0).astype(np.int64), ~present
            ),
        }
    )
    return frame, errors


def _dated_values(
    batch: Sequence[tuple[str, list[dict]]], date_key: str, value_key: str, column: str
) -> dict[str, object]:
    """Many symbols' rows of (``date_key``, numeric ``value_key``) as the columns date, symbol
    and ``column``, parsed in one pass."""
    counts = [len(rows) for _, rows in batch]
    symbols = np.repeat(np.array([s for s, _ in batch], dtype=object), counts)
    dates = [r.get(date_key) for _, rows in batch for r in rows]
    values = [r.get(value_key) for _, rows in batch for r in rows]
    return {
        "date": parse_dates(dates, symbols),
        "symbol": symbols,
        column: parse_floats(values, column, symbols, dates),
    }


def market_cap_frame(batch: Sequence[tuple[str, list[dict]]], source: str) -> pd.DataFrame:
    """Many symbols' `/market_cap` rows (`date`, integer `value`) as one market caps frame.

    Parsing every symbol's rows in one pass (rather than a frame per symbol and page) keeps
    the per-request cost to the JSON decode.
    """
    return pd.DataFrame({**_dated_values(batch, "date", "value", "market_cap"), "source": source})


def dividend_frame(batch: Sequence[tuple[str, list[dict]]]) -> pd.DataFrame:
    """Many symbols' `/dividends` rows (`ex_date`, numeric `amount`) as one dividends frame."""
    return pd.DataFrame(_dated_values(batch, "ex_date", "amount", "amount"))
