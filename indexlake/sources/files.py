"""A `Source` over local CSV or Parquet files already in the long prices / market caps format."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from indexlake.sources.base import (
    MARKET_CAP_COLUMNS,
    PRICE_COLUMNS,
    PRICE_FIELDS,
    FetchResult,
    SymbolError,
    empty_market_caps,
    normalise_market_caps,
    normalise_prices,
)


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path, dtype={"symbol": str, "source": str})
    raise ValueError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")


def _checked(path: Path, expected: Sequence[str], numeric: dict[str, bool]) -> pd.DataFrame:
    """The file's frame after checking its columns; `numeric` maps column -> integers only."""
    frame = _read(path)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column {missing[0]!r}")
    extra = [c for c in frame.columns if c not in expected]
    if extra:
        raise ValueError(f"{path}: unexpected column {extra[0]!r}")
    try:
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: column 'date' is not a date ({exc})") from None
    if getattr(frame["date"].dt, "tz", None) is not None:
        raise ValueError(f"{path}: column 'date' must be naive dates")
    frame["date"] = frame["date"].dt.normalize()
    for column, integer in numeric.items():
        if pd.api.types.is_bool_dtype(frame[column]) or not (
            pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().all()
        ):
            raise ValueError(f"{path}: column {column!r} must be numeric")
        if integer:
            values = frame[column].dropna()
            if (values != values.round()).any():
                raise ValueError(f"{path}: column {column!r} must hold whole numbers")
    return frame


class FileSource:
    """Prices (and optionally market caps) read once from CSV or Parquet files."""

    name = "files"

    def __init__(self, prices_path: Path, market_caps_path: Path | None = None) -> None:
        self.prices_path = Path(prices_path)
        self.market_caps_path = Path(market_caps_path) if market_caps_path else None
        self._prices: pd.DataFrame | None = None
        self._caps: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return f"FileSource({str(self.prices_path)!r}, {str(self.market_caps_path)!r})"

    def _all_prices(self) -> pd.DataFrame:
        if self._prices is None:
            numeric = {**dict.fromkeys(PRICE_FIELDS, False), "volume": True}
            frame = _checked(self.prices_path, PRICE_COLUMNS, numeric)
            frame["volume"] = frame["volume"].astype("Float64").astype("Int64")
            self._prices = frame
        return self._prices

    def _all_caps(self) -> pd.DataFrame:
        if self._caps is None:
            assert self.market_caps_path is not None
            self._caps = _checked(self.market_caps_path, MARKET_CAP_COLUMNS, {"market_cap": False})
        return self._caps

    @staticmethod
    def _select(
        frame: pd.DataFrame, symbols: Sequence[str], path: Path
    ) -> tuple[pd.DataFrame, list[SymbolError]]:
        wanted = list(dict.fromkeys(symbols))
        present = set(frame["symbol"].unique())
        errors = [SymbolError(s, 404, f"not in {path.name}") for s in wanted if s not in present]
        return frame[frame["symbol"].isin(wanted)], errors

    def fetch_prices(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily OHLCV rows of the file for symbols in [start, end]."""
        rows, errors = self._select(self._all_prices(), symbols, self.prices_path)
        return FetchResult(normalise_prices(rows, start, end), errors, 0)

    def fetch_market_caps(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily market caps of the file for symbols in [start, end] (empty without a file)."""
        if self.market_caps_path is None:
            return FetchResult(empty_market_caps(), [], 0)
        rows, errors = self._select(self._all_caps(), symbols, self.market_caps_path)
        return FetchResult(normalise_market_caps(rows, start, end), errors, 0)

    def close(self) -> None:
        self._prices = self._caps = None
