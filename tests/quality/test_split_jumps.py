"""split_jumps tells unadjusted splits from genuine moves of a split ratio's size.

Genuine moves: the sandbox market at the benchmark's scale (fat tails, volatility clustering)
and hand-built crashes. Unadjusted splits: the sandbox's own ``unadjusted_split`` fault on
vendor rows, and hand-built ones.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indexlake.calendar import trading_days
from indexlake.config import SandboxSettings
from indexlake.quality.checks import CheckContext, run_check
from indexlake.sources.sandbox.faults import corrupt
from indexlake.sources.sandbox.market import SandboxMarket

PRICES_SUITE = Path(__file__).resolve().parents[2] / "expectations" / "prices.json"
# bench/run.py runs the default sandbox; 2006-2010 is the batch with the 2008 crisis in it.
BENCH_SEED = SandboxSettings().seed
BENCH_SYMBOLS = 500
BATCH = (dt.date(2006, 1, 1), dt.date(2010, 12, 31))
SESSIONS = trading_days(dt.date(2024, 1, 2), dt.date(2024, 12, 31))
RATIOS = (2.0, 3.0, 1.5, 4.0, 5.0, 10.0)


def _suite_kwargs() -> dict:
    """The split_jumps arguments the prices suite runs with."""
    checks = json.loads(PRICES_SUITE.read_text(encoding="utf-8"))["checks"]
    return next(c["kwargs"] for c in checks if c["name"] == "split_jumps")


def _run(frame: pd.DataFrame, ctx: CheckContext | None = None):
    return run_check("split_jumps", frame, ctx or CheckContext("prices"), _suite_kwargs())


def _flagged(frame: pd.DataFrame, ctx: CheckContext | None = None) -> list[list[int]]:
    return [list(np.flatnonzero(r.mask)) for r in _run(frame, ctx).results]


def _split_sized_moves(frame: pd.DataFrame, tolerance: float = 0.03) -> pd.DataFrame:
    """Rows whose close is within ``tolerance`` of a split ratio of the previous close, either
    way (a plain pandas reference, independent of the check's grid)."""
    frame = frame.sort_values(["symbol", "date"])
    factor = frame.groupby("symbol")["close"].shift() / frame["close"]
    factor = np.maximum(factor, 1 / factor)
    near = np.zeros(len(frame), dtype=bool)
    for ratio in RATIOS:
        near |= (np.abs(factor / ratio - 1) <= tolerance).to_numpy()
    return frame[near]


@pytest.fixture(scope="module")
def bench_batch() -> pd.DataFrame:
    market = SandboxMarket(seed=BENCH_SEED, n_symbols=BENCH_SYMBOLS, as_of=dt.date(2026, 11, 25))
    return market.prices(None, *BATCH)


def test_bench_batch_has_genuine_split_sized_moves_and_no_split_jump(
    bench_batch: pd.DataFrame,
) -> None:
    moves = _split_sized_moves(bench_batch)
    assert len(moves) >= 1  # the clean market does make moves of about a split ratio
    run = _run(bench_batch)
    unexplained, repaired = run.results
    assert not unexplained.mask.any() and not repaired.mask.any()
    assert run.frame is bench_batch


def _ohlc(
    closes: list[float], opens: list[float] | None = None, volume: list[int] | None = None
) -> pd.DataFrame:
    """One symbol's bars on consecutive sessions; high/low bracket the open and close."""
    c = np.asarray(closes, dtype="float64")
    o = c.copy() if opens is None else np.asarray(opens, dtype="float64")
    return pd.DataFrame(
        {
            "date": SESSIONS[: len(c)],
            "symbol": "A",
            "open": o,
            "high": np.maximum(o, c) * 1.005,
            "low": np.minimum(o, c) / 1.005,
            "close": c,
            "volume": pd.array(volume or [1000] * len(c), dtype="Int64"),
        }
    )


def _walk(n: int, seed: int, start: float = 100.0) -> np.ndarray:
    return start * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))


@pytest.mark.parametrize("factor", [0.5, 2.0, 1 / 3, 1 / 1.5])
def test_move_of_a_ratio_during_the_session_is_not_a_split(factor: float) -> None:
    closes = _walk(40, seed=11)
    closes[20:] *= factor  # a crash (or rally) on session 20 ...
    opens = np.r_[closes[0], closes[:-1]]  # ... that opened at the previous close
    assert _flagged(_ohlc(list(closes), list(opens))) == [[], []]  # same volume throughout


def test_bad_open_that_the_session_undoes_is_not_a_split() -> None:
    closes = _walk(30, seed=12)
    opens = closes.copy()
    opens[15] = closes[14] / 2
    assert _flagged(_ohlc(list(closes), list(opens))) == [[], []]


def test_split_on_a_volatile_day_is_caught_by_its_overnight_move() -> None:
    clean = _walk(40, seed=13)
    clean[25:] *= 1.08  # the cut day closes 8% up: x2 / 1.08 is no ratio within 3% ...
    opens = np.r_[clean[0], clean[:-1]]  # ... but it opened on the new basis
    closes, volume = clean.copy(), np.full(40, 1000)
    closes[:25] *= 2
    opens[:25] *= 2
    volume[:25] //= 2
    frame = _ohlc(list(closes), list(opens), list(volume))
    assert _flagged(frame) == [list(range(25)), []]


def test_without_an_open_the_close_alone_decides() -> None:
    closes = _walk(30, seed=14)
    closes[10:] *= 0.5
    opens = np.r_[closes[0], closes[:-1]]
    opens[10] = np.nan
    assert _flagged(_ohlc(list(closes), list(opens))) == [list(range(10)), []]


# --- the sandbox's unadjusted_split fault on vendor rows -------------------------------------


def _vendor_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as the sandbox serves them: strings with five decimals."""
    return [
        {
            "datetime": r.date.date().isoformat(),
            **{f: f"{getattr(r, f):.5f}" for f in ("open", "high", "low", "close")},
            "volume": str(int(r.volume)),
        }
        for r in frame.itertuples()
    ]


def _frame(rows: list[dict], symbol: str) -> pd.DataFrame:
    out = pd.DataFrame(rows).rename(columns={"datetime": "date"})
    out["date"] = pd.to_datetime(out["date"])
    out.insert(1, "symbol", symbol)
    for f in ("open", "high", "low", "close"):
        out[f] = out[f].astype("float64")
    out["volume"] = out["volume"].astype("int64").astype("Int64")
    return out.sort_values("date", ignore_index=True)


@pytest.fixture(scope="module")
def crisis_symbol(bench_batch: pd.DataFrame) -> pd.DataFrame:
    """The batch rows of a symbol with a genuine split-sized move, volatile around it."""
    symbol = _split_sized_moves(bench_batch)["symbol"].iloc[0]
    rows = bench_batch[bench_batch["symbol"] == symbol]
    return rows.sort_values("date", ignore_index=True)


@pytest.mark.parametrize("u", [0.05, 0.3, 0.6, 0.95])
def test_sandbox_unadjusted_split_is_flagged(crisis_symbol: pd.DataFrame, u: float) -> None:
    symbol = crisis_symbol["symbol"].iloc[0]
    rows = _vendor_rows(crisis_symbol)
    assert corrupt("unadjusted_split", rows, u)
    bad = _frame(rows, symbol)
    doubled = bad["close"].to_numpy() != crisis_symbol["close"].to_numpy()
    assert doubled.any() and not doubled.all()
    assert _flagged(bad) == [list(np.flatnonzero(doubled)), []]


@pytest.mark.parametrize("u", [0.3, 0.95])
def test_sandbox_unadjusted_split_is_repaired_when_known(
    crisis_symbol: pd.DataFrame, u: float
) -> None:
    symbol = crisis_symbol["symbol"].iloc[0]
    rows = _vendor_rows(crisis_symbol)
    corrupt("unadjusted_split", rows, u)
    bad = _frame(rows, symbol)
    doubled = bad["close"].to_numpy() != crisis_symbol["close"].to_numpy()
    cut = bad["date"][~doubled].min()
    splits = pd.DataFrame({"symbol": [symbol], "date": [cut], "ratio": [2.0]})
    run = _run(bad, CheckContext("prices", splits=splits))
    unexplained, repaired = run.results
    assert not unexplained.mask.any()
    assert list(np.flatnonzero(repaired.mask)) == list(np.flatnonzero(doubled))
    cols = ["open", "high", "low", "close"]
    np.testing.assert_allclose(
        run.frame[cols].to_numpy(), crisis_symbol[cols].to_numpy(), rtol=1e-12
    )
    # The fault halved volumes with a floor: repairing doubles them back, to within a share.
    gap = run.frame["volume"].to_numpy("int64") - crisis_symbol["volume"].to_numpy("int64")
    assert gap.min() >= -1 and gap.max() == 0
