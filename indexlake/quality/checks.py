"""Named indexlake checks: cross-row and per-group rules GX 1.24 has no native expectation for.

A suite JSON lists them under ``checks`` (``{"name": "trading_days", "kwargs": {...},
"meta": {"severity": "critical"}}``); the runner evaluates them next to the GX expectations and
reports them the same way (``dq_results`` rows with ``expectation = "indexlake:<name>"``).

Every check is vectorised (pandas/numpy over whole columns or a dates x symbols grid) and
returns, per outcome, a boolean mask of the batch rows it flags; a check may also repair the
frame (a known split that the vendor did not adjust).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from indexlake.calendar import latest_completed_trading_day, trading_days

PREFIX = "indexlake:"
# Split ratios a day-over-day close move is compared with (2:1, 3:1, 3:2, 4:1, 5:1, 10:1
# and the reverse splits).
DEFAULT_SPLIT_RATIOS = (2.0, 3.0, 1.5, 4.0, 5.0, 10.0)


@dataclass
class CheckContext:
    """What a check may look at besides the batch: earlier published rows and known splits."""

    dataset: str
    # Published rows of the same dataset just before the batch (same columns), or empty.
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Known splits: columns symbol, date (datetime64), ratio (new shares per old share).
    splits: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"symbol": [], "date": [], "ratio": []})
    )
    # The last completed session (freshness is judged against it).
    as_of: date | None = None
    # Grids shared by the checks of one validation (built once per frame).
    cache: dict = field(default_factory=dict, repr=False)


@dataclass
class CheckResult:
    """One outcome of a check: the rows it flags (``mask``) or a table-level failure."""

    name: str
    mask: np.ndarray | None = None
    failed: bool | None = None  # table-level outcome when ``mask`` is None
    observed: Any = None
    severity: str | None = None  # overrides the suite's severity for this outcome


@dataclass
class CheckRun:
    """The outcomes of one check and the frame after any repair it made."""

    results: list[CheckResult]
    frame: pd.DataFrame


CheckFn = Callable[..., CheckRun]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        return fn

    return register


def _dates(frame: pd.DataFrame, column: str = "date") -> pd.Series:
    return pd.to_datetime(frame[column])


def _sorted_positions(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    return np.lexsort([frame[k].to_numpy() for k in reversed(keys)])


# --- prices / market caps -------------------------------------------------------------------


@check("trading_days")
def trading_days_check(frame: pd.DataFrame, ctx: CheckContext, column: str = "date") -> CheckRun:
    """Rows whose date is not a session of the exchange calendar."""
    dates = _dates(frame, column)
    valid = dates.notna()
    mask = np.zeros(len(frame), dtype=bool)
    if valid.any():
        sessions = trading_days(dates[valid].min().date(), dates[valid].max().date())
        mask = (valid & ~dates.isin(sessions)).to_numpy()
    return CheckRun([CheckResult("trading_days", mask)], frame)


def load_splits(path: Path | None) -> pd.DataFrame:
    """Known splits from a JSON file ``{"splits": [{"symbol", "date", "ratio"}]}``."""
    empty = pd.DataFrame(
        {
            "symbol": pd.Series([], dtype="str"),
            "date": pd.Series([], dtype="datetime64[ns]"),
            "ratio": pd.Series([], dtype="float64"),
        }
    )
    if path is None or not Path(path).exists():
        return empty
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))["splits"]
        frame = pd.DataFrame(items, columns=["symbol", "date", "ratio"])
        frame["symbol"] = frame["symbol"].astype("str").str.upper()
        frame["date"] = pd.to_datetime(frame["date"])
        frame["ratio"] = frame["ratio"].astype("float64")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"known splits file {path}: {exc}") from exc
    if (frame["ratio"] <= 0).any():
        raise ValueError(f"known splits file {path}: every ratio must be > 0")
    return frame if len(frame) else empty


@dataclass
class _Grid:
    """A sessions x symbols grid of one value column: batch rows plus the published history.

    ``row`` is the batch position of each cell (-1: a history row or no row); ``present``
    marks cells with a row; ``value`` is NaN where there is no row or the value is not > 0.
    Rows on non-sessions or with a null key are left out (other checks flag them).
    """

    sessions: pd.DatetimeIndex
    symbols: pd.Index
    value: np.ndarray
    present: np.ndarray
    row: np.ndarray
    extra: np.ndarray | None = None


def _per_frame(ctx: CheckContext, frame: pd.DataFrame, key: tuple, build: Callable[[], Any]) -> Any:
    """``build()``, computed once per frame and ``key`` in the validation's cache. The entry
    holds the frame, so its ``id`` is not reused by another frame meanwhile."""
    hit = ctx.cache.get((id(frame), *key))
    if hit is None or hit[0] is not frame:
        hit = ctx.cache[(id(frame), *key)] = (frame, build())
    return hit[1]


def _keys(frame: pd.DataFrame, ctx: CheckContext) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Symbol codes, the symbols they index and the dates (datetime64[ns]) of ``frame``'s
    rows: computed once per frame for all its grids (factorizing strings is the costly part)."""

    def build() -> tuple[np.ndarray, pd.Index, np.ndarray]:
        codes, symbols = pd.factorize(frame["symbol"])
        return codes, pd.Index(symbols), _dates(frame).to_numpy(dtype="datetime64[ns]")

    return _per_frame(ctx, frame, ("keys",), build)


def _grid(frame: pd.DataFrame, ctx: CheckContext, column: str, extra: str | None = None) -> _Grid:
    """The grid of ``column`` (and ``extra``), built once per frame (cached on ``ctx``)."""
    return _per_frame(
        ctx, frame, ("grid", column, extra), lambda: _build_grid(frame, ctx, column, extra)
    )


def _build_grid(frame: pd.DataFrame, ctx: CheckContext, column: str, extra: str | None) -> _Grid:
    codes, symbols, days = _keys(frame, ctx)
    hist = ctx.history
    use_hist = not hist.empty and column in hist.columns
    if use_hist:
        h_codes = symbols.get_indexer(hist["symbol"])
        h_days = pd.to_datetime(hist["date"]).to_numpy(dtype="datetime64[ns]")
        all_days = np.concatenate([days, h_days])
    else:
        all_days = days
    valid_days = all_days[~np.isnat(all_days)]
    if not len(valid_days) or not len(symbols):
        sessions = pd.DatetimeIndex([])
    else:
        lo, hi = valid_days.min(), valid_days.max()
        sessions = trading_days(pd.Timestamp(lo).date(), pd.Timestamp(hi).date())
    shape = (len(sessions), len(symbols))
    value = np.full(shape, np.nan)
    present = np.zeros(shape, dtype=bool)
    row = np.full(shape, -1, dtype=np.int64)
    extra_grid = np.full(shape, -1, dtype=np.int64) if extra else None
    extra_codes = None
    if extra:
        extra_values = frame[extra]
        if use_hist:
            extra_values = pd.concat([extra_values, hist[extra]], ignore_index=True)
        extra_codes = pd.factorize(extra_values)[0]
    parts = [(codes, days, frame[column], np.arange(len(frame)), 0)]
    if use_hist:
        parts.insert(0, (h_codes, h_days, hist[column], np.full(len(hist), -1), len(frame)))
    session_days = sessions.to_numpy().astype("datetime64[ns]")
    # Flat views: each cell is written through one precomputed flat index per row.
    flat_value, flat_present, flat_row = value.reshape(-1), present.reshape(-1), row.reshape(-1)
    for c, d, v, rows, offset in parts:
        pos = np.searchsorted(session_days, d) if len(sessions) else np.zeros(len(d), dtype=int)
        idx = np.flatnonzero((c >= 0) & ~np.isnat(d) & (pos < len(sessions)))
        idx = idx[session_days[pos[idx]] == d[idx]]
        cells = pos[idx] * shape[1] + c[idx]
        vals = v.to_numpy(dtype="float64", na_value=np.nan)[idx]
        with np.errstate(invalid="ignore"):
            vals = np.where(vals > 0, vals, np.nan)
        flat_value[cells] = vals
        flat_present[cells] = True
        flat_row[cells] = rows[idx]
        if extra_grid is not None:
            extra_grid.reshape(-1)[cells] = extra_codes[offset + idx]
    return _Grid(sessions, symbols, value, present, row, extra_grid)


def _ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs down each column."""
    n = values.shape[0]
    idx = np.where(~np.isnan(values), np.arange(n)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return values[idx, np.arange(values.shape[1])[None, :]]


def _previous(values: np.ndarray) -> np.ndarray:
    """Each cell's last valid value strictly before it in its column (NaN if none)."""
    filled = _ffill(values)
    return np.vstack([np.full((1, values.shape[1]), np.nan), filled[:-1]])


def _rows_of(grid: _Grid, cells: np.ndarray, size: int) -> np.ndarray:
    """A mask over ``size`` batch rows from a boolean cell mask."""
    mask = np.zeros(size, dtype=bool)
    rows = grid.row[cells]
    mask[rows[rows >= 0]] = True
    return mask


@check("history_gaps")
def history_gaps_check(
    frame: pd.DataFrame, ctx: CheckContext, max_gap_sessions: int = 5
) -> CheckRun:
    """Rows that follow more than ``max_gap_sessions`` missing sessions in their symbol's
    history (between its first and last row, published days before the batch included)."""
    grid = _grid(frame, ctx, "close" if "close" in frame.columns else "market_cap")
    n = grid.present.shape[0]
    idx = np.where(grid.present, np.arange(n)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    last = np.vstack([np.full((1, idx.shape[1]), -1), idx[:-1]])
    cells = grid.present & (last >= 0) & (np.arange(n)[:, None] - last - 1 > max_gap_sessions)
    return CheckRun([CheckResult("history_gaps", _rows_of(grid, cells, len(frame)))], frame)


@check("split_jumps")
def split_jumps_check(
    frame: pd.DataFrame,
    ctx: CheckContext,
    ratios: list[float] | None = None,
    tolerance: float = 0.03,
) -> CheckRun:
    """Unadjusted splits: an overnight move of about a split ratio (x2, x1/2, x3, x1/3...)
    that the day's close keeps.

    Evidence. Rows not adjusted for a split before a cut date are on the old share basis up
    to the previous close, and the cut day's row is on the new basis from its open: the
    ratio sits between the sessions. So a move is split-like when the open is within
    ``tolerance`` of a split ratio from the previous close (the overnight move, usually
    small next to a ratio) and the close stays on the new basis (its move from the previous
    close is nearer the ratio than no move at all; this lets a volatile cut day through,
    while a bad open that the session undoes is no split). A genuine crash or rally of a
    ratio's size made during the session (open near the previous close; fat-tailed,
    clustered markets do make -33% or +100% days) is not a split. A row without an open is
    judged on its close alone, within ``tolerance`` of the ratio. The volume level is not
    used as evidence: a genuine crash in a volatile spell raises the share volume that
    follows too (on the sandbox's 2008 crisis a -33% day lifted the 20-session median volume
    by more than half of log 1.5), so a volume shift does not tell a crash from a split.

    Outcome. A split-like move on a known split of that symbol and day, of about its ratio,
    is repaired: the batch rows of that symbol before it are divided by the ratio (prices;
    volume multiplied) and reported as a warning. Any other split-like move is unexplained:
    the symbol's batch rows before it are flagged (they disagree with the rows after the
    move); if the move is against published history, the first batch row is flagged.
    """
    logs = np.log(np.asarray(ratios or DEFAULT_SPLIT_RATIOS, dtype="float64"))
    near_log = np.log1p(tolerance)
    size = len(frame)
    unexplained = np.zeros(size, dtype=bool)
    repaired = np.zeros(size, dtype=bool)
    grid = _grid(frame, ctx, "close")
    log_close = np.log(grid.value)
    prev_log_close = _previous(log_close)
    close_move = prev_log_close - log_close  # log(previous close / close)
    with np.errstate(invalid="ignore"):
        # A split-like close move is at least half the smallest ratio (in logs).
        big = np.abs(close_move) > logs.min() / 2
        big &= grid.row >= 0
    if not big.any():
        return CheckRun([CheckResult("split_jumps", unexplained), _repaired(repaired)], frame)
    t_idx, s_idx = np.nonzero(big)
    closes = close_move[t_idx, s_idx]
    opens = np.full(len(t_idx), np.nan)
    if "open" in frame.columns:
        opens = frame["open"].to_numpy(dtype="float64", na_value=np.nan)[grid.row[t_idx, s_idx]]
    with np.errstate(invalid="ignore", divide="ignore"):
        gaps = prev_log_close[t_idx, s_idx] - np.log(np.where(opens > 0, opens, np.nan))
    has_open = ~np.isnan(gaps)
    # The move that carries the evidence (overnight, or the close's without an open), the
    # signed log split ratio nearest to it, and whether the close keeps that ratio.
    moves = np.where(has_open, gaps, closes)
    nearest = logs[np.abs(np.abs(moves)[:, None] - logs[None, :]).argmin(axis=1)]
    nearest *= np.sign(moves)
    near = np.abs(moves - nearest) <= near_log
    near &= ~has_open | (np.abs(closes - nearest) < np.abs(nearest) / 2)
    out = frame
    known = ctx.splits
    for t, c, m in zip(t_idx[near], s_idx[near], moves[near], strict=True):
        symbol, day = grid.symbols[c], grid.sessions[t]
        before_rows = grid.row[:t, c]
        before = np.zeros(size, dtype=bool)
        before[before_rows[before_rows >= 0]] = True
        match = known[(known["symbol"] == symbol) & (known["date"] == day)]
        ratio = float(match["ratio"].iloc[0]) if len(match) else None
        if ratio is not None and abs(np.exp(m) / ratio - 1.0) <= tolerance and before.any():
            if out is frame:
                out = frame.copy()
            for column in ("open", "high", "low", "close"):
                out.loc[before, column] = out.loc[before, column] / ratio
            if "volume" in out.columns:
                volume = (out.loc[before, "volume"] * ratio).round()
                out.loc[before, "volume"] = volume.astype(out["volume"].dtype)
            repaired |= before
        elif before.any():
            unexplained |= before
        else:  # the move is against published history: flag the batch row that makes it
            unexplained[grid.row[t, c]] = True
    return CheckRun([CheckResult("split_jumps", unexplained), _repaired(repaired)], out)


def _repaired(mask: np.ndarray) -> CheckResult:
    return CheckResult("split_jumps_repaired", mask, severity="warning")


@check("return_outliers")
def return_outliers_check(
    frame: pd.DataFrame,
    ctx: CheckContext,
    window: int = 63,
    min_periods: int = 20,
    threshold: float = 12.0,
) -> CheckRun:
    """Rows whose log return is a robust outlier of its symbol: |r - median| / (1.4826 MAD)
    above ``threshold``, median and MAD over the ``window`` returns before it (published
    history included)."""
    import bottleneck as bn

    grid = _grid(frame, ctx, "close")
    log_close = np.log(grid.value)
    r = log_close - _previous(log_close)
    if r.shape[0] < 2:
        return CheckRun([CheckResult("return_outliers", np.zeros(len(frame), bool))], frame)
    past = np.vstack([np.full((1, r.shape[1]), np.nan), r[:-1]])
    window = min(window, past.shape[0])
    min_periods = min(min_periods, window)
    median = bn.move_median(past, window, min_count=min_periods, axis=0)
    mad = bn.move_median(np.abs(past - median), window, min_count=min_periods, axis=0)
    scale = 1.4826 * mad
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(r - median) / np.where(scale > 0, scale, np.nan)
        cells = (z > threshold) & (grid.row >= 0)
    return CheckRun([CheckResult("return_outliers", _rows_of(grid, cells, len(frame)))], frame)


@check("market_cap_jumps")
def market_cap_jumps_check(
    frame: pd.DataFrame, ctx: CheckContext, max_ratio: float = 2.0
) -> CheckRun:
    """Day-over-day market cap changes beyond x``max_ratio`` (either way) that neither a known
    split of that symbol and day nor a change of ``source`` (a new share count) explains."""
    grid = _grid(frame, ctx, "market_cap", extra="source")
    log_cap = np.log(grid.value)
    move = log_cap - _previous(log_cap)
    source = grid.extra.astype("float64")
    source[source < 0] = np.nan
    with np.errstate(invalid="ignore"):
        source[np.isnan(grid.value)] = np.nan
        same_source = _previous(source) == source
        cells = (np.abs(move) > np.log(max_ratio)) & same_source & (grid.row >= 0)
    if cells.any() and len(ctx.splits):
        t_idx, s_idx = np.nonzero(cells)
        found = pd.MultiIndex.from_arrays([grid.symbols[s_idx], grid.sessions[t_idx]])
        known = pd.MultiIndex.from_frame(ctx.splits[["symbol", "date"]])
        explained = found.isin(known)
        cells[t_idx[explained], s_idx[explained]] = False
    return CheckRun([CheckResult("market_cap_jumps", _rows_of(grid, cells, len(frame)))], frame)


# --- strategy outputs -----------------------------------------------------------------------


def _sorted_group_sums(frame: pd.DataFrame, keys: list[str], column: str) -> np.ndarray | None:
    """Per row, the sum of ``column`` over its group when the frame is grouped by one
    datetime or numeric key without nulls, sorted (as the engine writes allocations): runs
    of equal keys summed with numpy, no hashing. None when that does not apply."""
    if len(keys) != 1 or frame.empty:
        return None
    key = frame[keys[0]]
    if not (pd.api.types.is_datetime64_dtype(key.dtype) or pd.api.types.is_numeric_dtype(key)):
        return None
    values = key.to_numpy()
    if key.isna().any() or not (values[1:] >= values[:-1]).all():
        return None
    weights = frame[column].to_numpy(dtype="float64", na_value=np.nan)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    sums = np.add.reduceat(np.nan_to_num(weights, nan=0.0, posinf=np.inf, neginf=-np.inf), starts)
    return np.repeat(sums, np.diff(np.r_[starts, len(values)]))


@check("weights_sum_to_one")
def weights_sum_to_one_check(
    frame: pd.DataFrame,
    ctx: CheckContext,
    column: str = "weight",
    group_by: list[str] | None = None,
    tolerance: float = 1e-9,
) -> CheckRun:
    """Rows of groups (e.g. one strategy-day) whose ``column`` does not sum to 1."""
    keys = group_by or ["date"]
    total = _sorted_group_sums(frame, keys, column)
    if total is None:
        total = (
            frame.groupby(keys, dropna=False)[column]
            .transform("sum")
            .to_numpy(dtype="float64", na_value=np.nan)
        )
    mask = ~(np.abs(total - 1.0) <= tolerance)
    return CheckRun([CheckResult(f"weights_sum_to_one({column})", mask)], frame)


@check("levels_continuous")
def levels_continuous_check(
    frame: pd.DataFrame, ctx: CheckContext, tolerance: float = 1e-9
) -> CheckRun:
    """Rows whose level is not the previous level times (1 + daily_return): the level must
    carry over every day, rebalance days included (relative tolerance)."""
    order = _sorted_positions(frame, ["date"])
    level = frame["level"].to_numpy(dtype="float64", na_value=np.nan)[order]
    ret = frame["daily_return"].to_numpy(dtype="float64", na_value=np.nan)[order]
    expected = np.r_[np.nan, level[:-1] * (1.0 + ret[1:])]
    with np.errstate(invalid="ignore", divide="ignore"):
        bad = ~(np.abs(level / expected - 1.0) <= tolerance)
    bad[0] = not (np.isfinite(level[0]) and level[0] > 0) if len(level) else False
    mask = np.zeros(len(frame), dtype=bool)
    mask[order] = bad
    return CheckRun([CheckResult("levels_continuous", mask)], frame)


@check("orders_net_to_turnover")
def orders_net_to_turnover_check(
    frame: pd.DataFrame, ctx: CheckContext, tolerance: float = 1e-6
) -> CheckRun:
    """Each rebalance's orders trade the turnover of the portfolio: per order, ``notional``
    is the rebalance's portfolio value times ``|weight_after - weight_before|``, with the
    value implied by the whole rebalance (sum of notional / sum of |weight change|)."""
    change = (frame["weight_after"] - frame["weight_before"]).abs().astype("float64")
    notional = frame["notional"].astype("float64")
    by = frame["rebalance_date"]
    value = notional.groupby(by).transform("sum") / change.groupby(by).transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(notional.to_numpy() - value.to_numpy() * change.to_numpy())
        bad = ~(rel <= tolerance * value.to_numpy())
    qty = (frame["quantity"] * frame["price"]).astype("float64").to_numpy()
    bad |= ~(np.abs(qty - notional.to_numpy()) <= tolerance * np.abs(notional.to_numpy()))
    return CheckRun([CheckResult("orders_net_to_turnover", bad)], frame)


@check("finite")
def finite_check(
    frame: pd.DataFrame,
    ctx: CheckContext,
    columns: list[str] | None = None,
    allow_null: bool = True,
) -> CheckRun:
    """Rows with an infinite value (or a null, unless ``allow_null``) in any of ``columns``."""
    names = columns or [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    bad = np.zeros(len(frame), dtype=bool)
    for name in names:  # column by column: no frame-wide copy
        values = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        bad |= np.isinf(values) if allow_null else ~np.isfinite(values)
    return CheckRun([CheckResult("finite", bad)], frame)


@check("freshness")
def freshness_check(
    frame: pd.DataFrame, ctx: CheckContext, column: str = "last_date", max_lag_sessions: int = 1
) -> CheckRun:
    """The latest landed day (``column`` of a one-row frame) is at most ``max_lag_sessions``
    exchange sessions behind the last completed session; holidays and weekends do not count."""
    as_of = ctx.as_of or latest_completed_trading_day()
    value = frame[column].iloc[0] if len(frame) else None
    latest = None if value is None or pd.isna(value) else pd.Timestamp(value).date()
    # Sessions after the latest landed day, up to the last completed one.
    lag = None if latest is None else len(trading_days(latest + timedelta(days=1), as_of))
    failed = lag is None or lag > max_lag_sessions
    observed = {
        "latest_landed": latest.isoformat() if latest else None,
        "last_completed_session": as_of.isoformat(),
        "lag_sessions": lag,
        "max_lag_sessions": max_lag_sessions,
    }
    return CheckRun([CheckResult("freshness", None, failed=failed, observed=observed)], frame)


def run_check(
    name: str, frame: pd.DataFrame, ctx: CheckContext, kwargs: dict[str, Any]
) -> CheckRun:
    """Evaluate the named check; an unknown name is a ``KeyError`` naming it."""
    if name not in CHECKS:
        raise KeyError(f"unknown indexlake check {name!r} (known: {', '.join(sorted(CHECKS))})")
    return CHECKS[name](frame, ctx, **kwargs)
