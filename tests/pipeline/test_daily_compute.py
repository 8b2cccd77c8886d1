"""Daily compute over a real Parquet lake: append new sessions, or recompute when inputs moved."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indexlake.calendar import trading_days
from indexlake.lake.partitions import read_partition, write_partition
from indexlake.lake.schemas import (
    ALLOCATIONS,
    DIVIDENDS,
    INDEX_LEVELS,
    MARKET_CAPS,
    PRICES,
    REBALANCE_ORDERS,
    RISK_METRICS,
    ROLLING_SERIES,
    STRESS_TESTS,
)
from indexlake.methodology.strategy import Strategy
from indexlake.pipeline.compute import compute_strategy, load_panel
from indexlake.pipeline.daily_compute import (
    PanelDigests,
    compute_daily,
    publish_daily,
    read_state,
    state_path,
)

SYMBOLS = [f"S{i:02d}" for i in range(12)]
BENCH = "SPX"
OUTPUTS = (INDEX_LEVELS, ALLOCATIONS, REBALANCE_ORDERS, RISK_METRICS, ROLLING_SERIES, STRESS_TESTS)

STRATEGIES = {
    "top5_buffer": {
        "selection": {"type": "top_n", "n": 5, "buffer": 1},
        "weighting": {"type": "market_cap"},
        "rebalance": "monthly",
    },
    "minvar": {
        "selection": {"type": "top_n", "n": 8},
        "weighting": {"type": "minimum_variance", "lookback": 60, "shrinkage": 0.2},
        "rebalance": "monthly",
    },
    "tr_equal": {
        "selection": {"type": "all"},
        "weighting": {"type": "equal"},
        "rebalance": "quarterly",
        "return_type": "total",
    },
}


def _strategy(sid: str, **changes: object) -> Strategy:
    return Strategy.model_validate({"id": sid, "name": sid, **STRATEGIES[sid], **changes})


def _market(days: pd.DatetimeIndex, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Random-walk closes (one name delisted mid-way), drifting caps, sparse dividends."""
    rng = np.random.default_rng(seed)
    n = len(days)
    closes = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, (n, len(SYMBOLS) + 1)), axis=0))
    closes[n // 2 :, 3] = np.nan  # S03 stops trading
    shares = rng.uniform(1e8, 5e8, len(SYMBOLS))
    frame = pd.DataFrame(closes, index=days, columns=[*SYMBOLS, BENCH])
    caps = frame[SYMBOLS] * shares
    dividends = pd.DataFrame(np.nan, index=days, columns=SYMBOLS)
    ex = rng.random((n, len(SYMBOLS))) < 0.02
    dividends[ex] = 0.25
    return {"closes": frame, "caps": caps, "dividends": dividends}


def _long(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    out = frame.rename_axis(index="date", columns="symbol").stack().rename(value).reset_index()
    return out.dropna(subset=[value])


def _land(root: Path, market: dict[str, pd.DataFrame], through: pd.Timestamp) -> None:
    """Write every year partition of prices, market caps and dividends up to ``through``."""
    closes = _long(market["closes"].loc[:through], "close")
    prices = closes.assign(
        open=closes["close"],
        high=closes["close"],
        low=closes["close"],
        volume=pd.array([1_000_000] * len(closes), dtype="Int64"),
    )
    caps = _long(market["caps"].loc[:through], "market_cap").assign(source="market_cap")
    paid = _long(market["dividends"].loc[:through], "amount")
    for dataset, frame in ((PRICES, prices), (MARKET_CAPS, caps), (DIVIDENDS, paid)):
        for year, part in frame.groupby(frame["date"].dt.year):
            write_partition(root, dataset, year, part)


def _run(root: Path, strategies: list[Strategy]) -> dict[str, str]:
    """One daily compute + publish over the lake; the mode of each strategy."""
    panel = load_panel(root, SYMBOLS, [BENCH])
    digests = PanelDigests(panel)
    modes = {}
    for strategy in strategies:
        outputs, how = compute_daily(strategy, panel, root, digests, [BENCH])
        publish_daily(root, strategy, outputs, digests)
        modes[strategy.id] = how.mode if how.mode == "appended" else how.reason
    return modes


def _assert_published_equal_full_recompute(root: Path, strategy: Strategy) -> None:
    """Every published output equals a full recompute over the same lake (1e-12)."""
    full = compute_strategy(strategy, load_panel(root, SYMBOLS, [BENCH]), [BENCH])
    frames = {
        INDEX_LEVELS.name: full.levels,
        ALLOCATIONS.name: full.allocations,
        REBALANCE_ORDERS.name: full.orders,
        RISK_METRICS.name: full.risk,
        ROLLING_SERIES.name: full.rolling,
        STRESS_TESTS.name: full.stress,
    }
    for dataset in OUTPUTS:
        got = read_partition(root, dataset, strategy.id)
        want = frames[dataset.name][dataset.columns]
        assert len(got) == len(want) > 0, dataset.name
        keys = [k for k in dataset.key if k in dataset.columns]
        got = got.sort_values(keys).reset_index(drop=True)
        want = want.sort_values(keys).reset_index(drop=True)
        for column in dataset.columns:
            g, w = got[column], want[column]
            if pd.api.types.is_float_dtype(w) or pd.api.types.is_float_dtype(g):
                np.testing.assert_allclose(
                    g.to_numpy(float),
                    w.to_numpy(float),
                    rtol=1e-12,
                    atol=1e-12,
                    equal_nan=True,
                    err_msg=f"{dataset.name}.{column}",
                )
            elif pd.api.types.is_datetime64_any_dtype(w):
                assert (pd.to_datetime(g) == pd.to_datetime(w)).all(), f"{dataset.name}.{column}"
            else:
                assert g.astype(str).tolist() == w.astype(str).tolist(), f"{dataset.name}.{column}"


@pytest.fixture
def market() -> dict[str, pd.DataFrame]:
    return _market(trading_days(date(2022, 6, 1), date(2024, 3, 28)))


# 2024-03-01 is the first session of March (a monthly rebalance); 2024-03-04 an ordinary day.
@pytest.mark.parametrize("new_day", ["2024-03-01", "2024-03-04"])
def test_one_more_session_is_appended_and_equals_a_full_recompute(
    tmp_path: Path, market: dict[str, pd.DataFrame], new_day: str
) -> None:
    strategies = [_strategy(sid) for sid in STRATEGIES]
    days = market["closes"].index
    day = pd.Timestamp(new_day)
    _land(tmp_path, market, days[days.get_loc(day) - 1])
    first = _run(tmp_path, strategies)
    assert first == {s.id: "no compute state" for s in strategies}

    _land(tmp_path, market, day)
    assert _run(tmp_path, strategies) == {s.id: "appended" for s in strategies}
    for strategy in strategies:
        assert read_state(tmp_path, strategy.id).last_date == day.date()
        _assert_published_equal_full_recompute(tmp_path, strategy)


def test_several_missed_sessions_are_appended(
    tmp_path: Path, market: dict[str, pd.DataFrame]
) -> None:
    strategies = [_strategy(sid) for sid in STRATEGIES]
    _land(tmp_path, market, pd.Timestamp("2024-02-26"))
    _run(tmp_path, strategies)
    _land(tmp_path, market, pd.Timestamp("2024-03-06"))  # 7 sessions, a rebalance among them
    panel = load_panel(tmp_path, SYMBOLS, [BENCH])
    _, how = compute_daily(strategies[0], panel, tmp_path, PanelDigests(panel), [BENCH])
    assert (how.mode, how.days) == ("appended", 7)
    assert how.describe() == "appended 7 days"
    assert _run(tmp_path, strategies) == {s.id: "appended" for s in strategies}
    for strategy in strategies:
        _assert_published_equal_full_recompute(tmp_path, strategy)


def test_a_changed_past_close_forces_a_full_recompute(
    tmp_path: Path, market: dict[str, pd.DataFrame]
) -> None:
    strategies = [_strategy(sid) for sid in STRATEGIES]
    _land(tmp_path, market, pd.Timestamp("2024-02-29"))
    _run(tmp_path, strategies)
    # The same history landed again, unchanged, plus one session: still an append.
    _land(tmp_path, market, pd.Timestamp("2024-03-01"))
    assert _run(tmp_path, strategies) == {s.id: "appended" for s in strategies}
    # A corrected close in January (re-landed with the next session) changes the history.
    market["closes"].loc["2024-01-10", "S01"] *= 1.05
    _land(tmp_path, market, pd.Timestamp("2024-03-04"))
    modes = _run(tmp_path, strategies)
    assert modes == {s.id: "landed inputs on or before 2024-03-01 changed" for s in strategies}
    for strategy in strategies:
        _assert_published_equal_full_recompute(tmp_path, strategy)


def test_a_changed_definition_recomputes_but_a_new_owner_does_not(
    tmp_path: Path, market: dict[str, pd.DataFrame]
) -> None:
    _land(tmp_path, market, pd.Timestamp("2024-02-28"))
    _run(tmp_path, [_strategy("top5_buffer")])
    _land(tmp_path, market, pd.Timestamp("2024-02-29"))
    relabelled = _strategy("top5_buffer", owner="someone", visibility="private", name="New")
    assert _run(tmp_path, [relabelled]) == {"top5_buffer": "appended"}
    _land(tmp_path, market, pd.Timestamp("2024-03-01"))
    wider = _strategy("top5_buffer", selection={"type": "top_n", "n": 6, "buffer": 1})
    assert _run(tmp_path, [wider]) == {"top5_buffer": "strategy definition or methodology changed"}
    _assert_published_equal_full_recompute(tmp_path, wider)


def test_outputs_without_a_state_are_recomputed(
    tmp_path: Path, market: dict[str, pd.DataFrame]
) -> None:
    strategy = _strategy("top5_buffer")
    _land(tmp_path, market, pd.Timestamp("2024-02-28"))
    _run(tmp_path, [strategy])
    state_path(tmp_path, strategy.id).write_text("{not json")
    _land(tmp_path, market, pd.Timestamp("2024-02-29"))
    assert _run(tmp_path, [strategy]) == {"top5_buffer": "no compute state"}
    panel = load_panel(tmp_path, SYMBOLS, [BENCH])
    _, how = compute_daily(
        strategy, panel, tmp_path, PanelDigests(panel), [BENCH], incremental=False
    )
    assert how.reason == "full recompute requested"
