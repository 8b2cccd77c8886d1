"""Each named indexlake check on small hand-built frames, against hand-derived answers."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from indexlake.calendar import trading_days
from indexlake.quality.checks import CheckContext, load_splits, run_check

SESSIONS = trading_days(dt.date(2024, 1, 2), dt.date(2024, 12, 31))


def _bars(closes: dict[str, list[float]], start: int = 0) -> pd.DataFrame:
    """OHLCV rows of each symbol's closes on consecutive sessions from SESSIONS[start]."""
    parts = []
    for symbol, values in closes.items():
        c = np.asarray(values, dtype="float64")
        parts.append(
            pd.DataFrame(
                {
                    "date": SESSIONS[start : start + len(c)],
                    "symbol": symbol,
                    "open": c,
                    "high": c * 1.01,
                    "low": c * 0.99,
                    "close": c,
                    "volume": pd.array([1000] * len(c), dtype="Int64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _walk(n: int, seed: int, start: float = 100.0, vol: float = 0.01) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(start * np.exp(np.cumsum(rng.normal(0, vol, n))))


def _flagged(frame: pd.DataFrame, name: str, ctx: CheckContext | None = None, **kw) -> list:
    run = run_check(name, frame, ctx or CheckContext(dataset="prices"), kw)
    return [list(np.flatnonzero(r.mask)) for r in run.results]


def test_trading_days_flags_weekends_and_holidays() -> None:
    frame = _bars({"A": [10, 11, 12]})
    frame.loc[1, "date"] = pd.Timestamp("2024-01-06")  # a Saturday
    frame.loc[2, "date"] = pd.Timestamp("2024-07-04")  # Independence Day
    assert _flagged(frame, "trading_days") == [[1, 2]]


def test_history_gaps_flag_the_row_after_a_long_gap() -> None:
    frame = _bars({"A": [10.0] * 30, "B": [20.0] * 30})
    # A misses 6 sessions (rows 10..15), B misses 5 (rows 40..44): only A's gap is too long.
    frame = frame.drop(index=[*range(10, 16), *range(40, 45)]).reset_index(drop=True)
    (flagged,) = _flagged(frame, "history_gaps", max_gap_sessions=5)
    assert len(flagged) == 1
    row = frame.loc[flagged[0]]
    assert row["symbol"] == "A" and row["date"] == SESSIONS[16]


def test_history_gaps_look_at_published_history() -> None:
    history = _bars({"A": [10.0] * 5})
    batch = _bars({"A": [10.0] * 3}, start=12)  # sessions 5..11 missing: 7 > 5
    ctx = CheckContext(dataset="prices", history=history)
    assert _flagged(batch, "history_gaps", ctx, max_gap_sessions=5) == [[0]]
    assert _flagged(batch, "history_gaps", ctx, max_gap_sessions=7) == [[]]


def test_unexplained_split_flags_the_rows_before_it() -> None:
    clean = _walk(40, seed=1)
    bad = [c * 2 if i < 25 else c for i, c in enumerate(clean)]  # unadjusted 2:1 split
    frame = _bars({"A": bad, "B": _walk(40, seed=2)})
    unexplained, repaired = _flagged(frame, "split_jumps")
    assert unexplained == list(range(25)) and repaired == []


@pytest.mark.parametrize("ratio", [2.0, 3.0, 1 / 3])
def test_known_split_is_repaired(ratio: float, tmp_path) -> None:
    clean = _bars({"A": _walk(40, seed=3), "B": _walk(40, seed=4)})
    frame = clean.copy()
    pre = (frame["symbol"] == "A") & (frame["date"] < SESSIONS[30])
    frame.loc[pre, ["open", "high", "low", "close"]] *= ratio
    frame.loc[pre, "volume"] = (frame.loc[pre, "volume"] / ratio).round().astype("Int64")
    path = tmp_path / "splits.json"
    path.write_text(f'{{"splits": [{{"symbol": "a", "date": "2024-02-14", "ratio": {ratio}}}]}}')
    assert SESSIONS[30] == pd.Timestamp("2024-02-14")
    ctx = CheckContext(dataset="prices", splits=load_splits(path))

    run = run_check("split_jumps", frame, ctx, {})
    unexplained, repaired = run.results
    assert not unexplained.mask.any()
    assert list(np.flatnonzero(repaired.mask)) == list(np.flatnonzero(pre))
    assert repaired.severity == "warning"
    cols = ["open", "high", "low", "close"]
    np.testing.assert_allclose(run.frame[cols].to_numpy(), clean[cols].to_numpy(), rtol=1e-12)


def test_split_against_published_history_flags_the_first_batch_row() -> None:
    history = _bars({"A": [50.0] * 10})
    batch = _bars({"A": [25.2, 25.1, 25.3]}, start=10)
    ctx = CheckContext(dataset="prices", history=history)
    assert _flagged(batch, "split_jumps", ctx) == [[0], []]


def test_ordinary_moves_are_not_split_jumps() -> None:
    frame = _bars({"A": [100, 130, 100, 70, 100]})  # +30%, -23%: no split ratio
    assert _flagged(frame, "split_jumps") == [[], []]


def test_return_outliers_flag_a_spike() -> None:
    values = _walk(80, seed=5, vol=0.01)
    values[60] *= 1.25  # one +25% day, back the next
    frame = _bars({"A": values, "B": _walk(80, seed=6)})
    (flagged,) = _flagged(frame, "return_outliers", window=40, min_periods=20, threshold=8)
    # The spike and its reversal, nothing else (sigma ~1%: a 25% move is > 20 MADs).
    assert flagged == [60, 61]


def test_return_outliers_need_min_periods() -> None:
    values = _walk(15, seed=7)
    values[10] *= 1.5
    frame = _bars({"A": values})
    assert _flagged(frame, "return_outliers", window=63, min_periods=20) == [[]]


def _caps(values: list[float], sources: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": SESSIONS[: len(values)],
            "symbol": "A",
            "market_cap": values,
            "source": sources or ["market_cap"] * len(values),
        }
    )


def test_market_cap_jump_is_flagged_unless_explained(tmp_path) -> None:
    caps = _caps([1e9, 1.01e9, 3.2e9, 3.1e9])
    assert _flagged(caps, "market_cap_jumps", CheckContext("market_caps"), max_ratio=2) == [[2]]
    switched = _caps([1e9, 1.01e9, 3.2e9, 3.1e9], ["market_cap"] * 2 + ["statistics"] * 2)
    assert _flagged(switched, "market_cap_jumps", CheckContext("market_caps")) == [[]]
    path = tmp_path / "splits.json"
    path.write_text('{"splits": [{"symbol": "A", "date": "2024-01-04", "ratio": 3}]}')
    ctx = CheckContext("market_caps", splits=load_splits(path))
    assert _flagged(caps, "market_cap_jumps", ctx) == [[]]


def test_weights_sum_to_one_per_day() -> None:
    frame = pd.DataFrame(
        {
            "date": SESSIONS[[0, 0, 1, 1, 2, 2]],
            "weight": [0.5, 0.5, 0.3, 0.7 + 2e-9, 0.25, 0.75 - 5e-10],
        }
    )
    assert _flagged(frame, "weights_sum_to_one", tolerance=1e-9) == [[2, 3]]


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4, 5, 6], [3, 0, 6, 2, 5, 1, 4]])
def test_weights_sum_to_one_in_any_row_order_and_with_missing_weights(order: list[int]) -> None:
    frame = pd.DataFrame(
        {
            "date": SESSIONS[[0, 0, 1, 1, 1, 2, 2]],
            "weight": [0.5, 0.5, 0.4, np.nan, 0.6, 0.2, 0.7],
        }
    ).iloc[order]
    frame = frame.reset_index(drop=True)
    # Reference: plain Python sums per day, a missing weight counting as nothing.
    totals: dict = {}
    for day, w in zip(frame["date"], frame["weight"], strict=True):
        totals[day] = totals.get(day, 0.0) + (0.0 if w != w else w)
    expected = [i for i, day in enumerate(frame["date"]) if abs(totals[day] - 1.0) > 1e-9]
    assert _flagged(frame, "weights_sum_to_one", tolerance=1e-9) == [expected]


def _levels() -> pd.DataFrame:
    returns = np.array([np.nan, 0.01, -0.02, 0.005, 0.003])
    level = 1000 * np.cumprod(np.r_[1.0, 1 + returns[1:]])
    return pd.DataFrame(
        {
            "date": SESSIONS[:5],
            "level": level,
            "daily_return": returns,
            "is_rebalance": [True, False, True, False, False],
        }
    )


def test_levels_continuous_across_rebalances() -> None:
    frame = _levels()
    assert _flagged(frame, "levels_continuous") == [[]]
    frame.loc[2, "level"] *= 1.001  # a jump on the rebalance day
    # Row 2 breaks from row 1, and row 3 no longer follows from row 2.
    assert _flagged(frame, "levels_continuous") == [[2, 3]]


def test_levels_continuous_flags_a_non_positive_base() -> None:
    frame = _levels()
    frame["level"] *= -1
    assert 0 in _flagged(frame, "levels_continuous")[0]


def _orders() -> pd.DataFrame:
    value = 1_000_000.0
    before = np.array([0.2, 0.3, 0.5])
    after = np.array([0.3, 0.3 - 0.05, 0.45])
    notional = value * np.abs(after - before)
    price = np.array([10.0, 20.0, 40.0])
    return pd.DataFrame(
        {
            "rebalance_date": SESSIONS[[5, 5, 5]],
            "symbol": ["A", "B", "C"],
            "side": ["buy", "sell", "sell"],
            "quantity": notional / price,
            "price": price,
            "notional": notional,
            "weight_before": before,
            "weight_after": after,
        }
    )


def test_orders_net_to_turnover() -> None:
    frame = _orders()
    assert _flagged(frame, "orders_net_to_turnover") == [[]]
    frame.loc[1, "notional"] *= 1.5
    flagged = _flagged(frame, "orders_net_to_turnover")[0]
    assert 1 in flagged  # quantity x price no longer matches it either


def test_finite() -> None:
    frame = pd.DataFrame({"a": [1.0, np.inf, np.nan], "b": [1.0, 2.0, -np.inf]})
    assert _flagged(frame, "finite", columns=["a", "b"]) == [[1, 2]]
    assert _flagged(frame, "finite", columns=["a"], allow_null=False) == [[1, 2]]
    assert _flagged(frame, "finite", columns=["b"]) == [[2]]


@pytest.mark.parametrize(
    ("latest", "as_of", "lag"),
    [
        ("2024-07-03", "2024-07-05", 1),  # July 4th is a holiday: one session behind
        ("2024-07-02", "2024-07-05", 2),
        ("2024-07-05", "2024-07-08", 1),  # a weekend in between
        ("2024-07-08", "2024-07-08", 0),
    ],
)
def test_freshness_counts_sessions(latest: str, as_of: str, lag: int) -> None:
    frame = pd.DataFrame({"last_date": [pd.Timestamp(latest)]})
    ctx = CheckContext("prices", as_of=dt.date.fromisoformat(as_of))
    (result,) = run_check("freshness", frame, ctx, {"max_lag_sessions": 1}).results
    assert result.observed["lag_sessions"] == lag
    assert result.failed == (lag > 1)
    assert result.mask is None


def test_freshness_of_an_empty_lake_fails() -> None:
    frame = pd.DataFrame({"last_date": [pd.NaT]})
    (result,) = run_check("freshness", frame, CheckContext("prices"), {}).results
    assert result.failed and result.observed["latest_landed"] is None


def test_unknown_check_is_named() -> None:
    with pytest.raises(KeyError, match="no_such_check"):
        run_check("no_such_check", pd.DataFrame(), CheckContext("prices"), {})


def test_bad_splits_file_is_named(tmp_path) -> None:
    path = tmp_path / "splits.json"
    path.write_text('{"splits": [{"symbol": "A", "date": "2024-01-04", "ratio": -2}]}')
    with pytest.raises(ValueError, match=str(path)):
        load_splits(path)


def test_gx_judges_the_frame_after_a_known_split_is_repaired(tmp_path) -> None:
    # GX runs beside the checks on the staged frame; when a check repairs rows, GX must
    # judge the repaired frame. Unrepaired, A's pre-split closes (x2, about 200) break a cap
    # of 150 that the repaired ones keep.
    from indexlake.quality.runner import validate_frame

    clean = _bars({"A": _walk(40, seed=3), "B": _walk(40, seed=4)})
    frame = clean.copy()
    pre = (frame["symbol"] == "A") & (frame["date"] < SESSIONS[30])
    frame.loc[pre, ["open", "high", "low", "close"]] *= 2.0
    frame.loc[pre, "volume"] = (frame.loc[pre, "volume"] / 2.0).round().astype("Int64")
    splits = tmp_path / "splits.json"
    splits.write_text('{"splits": [{"symbol": "A", "date": "2024-02-14", "ratio": 2}]}')
    suite = tmp_path / "capped.json"
    cap = {"column": "close", "max_value": 150}
    suite.write_text(
        json.dumps(
            {
                "name": "capped",
                "expectations": [{"type": "expect_column_values_to_be_between", "kwargs": cap}],
                "checks": [{"name": "split_jumps"}],
            }
        )
    )
    ctx = CheckContext(dataset="prices", splits=load_splits(splits))
    assert (frame["close"] > 150).any() and not (clean["close"] > 150).any()

    report = validate_frame(frame, suite, dataset="prices", partition="p", context=ctx)
    cap_outcome, unexplained, repaired = report.outcomes
    assert cap_outcome.expectation == "expect_column_values_to_be_between"
    assert cap_outcome.success and cap_outcome.unexpected_count == 0
    assert repaired.unexpected_count == pre.sum() and not unexplained.unexpected_count
    assert report.success
