"""Alert thresholds: which published figures breach, per-strategy overrides, settings checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from indexlake.lake.schemas import RISK_ALERTS
from indexlake.methodology.strategy import StrategyFileError, load_strategy
from indexlake.risk.alerts import ALERT_COLUMNS, evaluate_alerts
from indexlake.risk.settings import AlertThresholds, RiskSettings, StrategyAlerts, StressWindow

DAY = pd.Timestamp("2024-06-28")


def _risk(vol: float, te: float) -> pd.DataFrame:
    rows = [
        ("strategy", "full", 0.9, 0.9),  # the full window never alerts
        ("strategy", "trailing_252d", vol, te),
        ("benchmark", "trailing_252d", 0.99, 0.99),  # nor does the benchmark
    ]
    frame = pd.DataFrame(
        rows, columns=["subject", "window", "annualised_volatility", "tracking_error"]
    )
    return frame.assign(end_date=DAY)


def _rolling(drawdowns: list[float]) -> pd.DataFrame:
    days = pd.bdate_range(end=DAY, periods=len(drawdowns))
    strat = pd.DataFrame({"date": days, "subject": "strategy", "drawdown": drawdowns})
    bench = strat.assign(subject="benchmark", drawdown=-0.9)
    return pd.concat([bench, strat], ignore_index=True)


def test_breaches_are_reported_with_value_threshold_and_comparison() -> None:
    alerts = evaluate_alerts(
        "s1", _risk(0.35, 0.02), _rolling([-0.3, -0.2]), AlertThresholds(), run_id="r1"
    )
    assert list(alerts.columns) == list(ALERT_COLUMNS)
    assert set(RISK_ALERTS.columns) <= set(alerts.columns)
    by_metric = alerts.set_index("metric")
    assert sorted(by_metric.index) == ["annualised_volatility", "drawdown"]
    dd = by_metric.loc["drawdown"]
    # The drawdown rule looks at the last date only (-0.2), not the worst (-0.3).
    assert (dd["value"], dd["threshold"], dd["comparison"], dd["window"]) == (
        -0.2,
        -0.15,
        "below",
        "current",
    )
    vol = by_metric.loc["annualised_volatility"]
    assert (vol["value"], vol["threshold"], vol["comparison"]) == (0.35, 0.30, "above")
    assert (alerts["date"] == DAY).all() and (alerts["run_id"] == "r1").all()
    assert (alerts["strategy_id"] == "s1").all()


def test_no_breach_at_the_threshold_nan_figures_or_switched_off() -> None:
    none = evaluate_alerts("s", _risk(0.30, 0.05), _rolling([-0.15]), AlertThresholds(), run_id="r")
    assert none.empty and list(none.columns) == list(ALERT_COLUMNS)
    young = evaluate_alerts(
        "s", _risk(np.nan, np.nan), _rolling([np.nan]), AlertThresholds(), run_id="r"
    )
    assert young.empty
    off = AlertThresholds(drawdown=None, volatility=None, tracking_error=None)
    assert evaluate_alerts("s", _risk(0.9, 0.9), _rolling([-0.9]), off, run_id="r").empty
    nothing = evaluate_alerts(
        "s", _risk(0.9, 0.9).iloc[:0], _rolling([]), AlertThresholds(), run_id="r"
    )
    assert nothing.empty


def test_strategy_thresholds_override_the_defaults() -> None:
    own = StrategyAlerts(tracking_error=0.01).over(AlertThresholds())
    assert own == AlertThresholds(drawdown=-0.15, volatility=0.30, tracking_error=0.01)
    alerts = evaluate_alerts("s", _risk(0.1, 0.02), _rolling([-0.01]), own, run_id="r")
    assert list(alerts["metric"]) == ["tracking_error"]


def test_alerts_table_in_a_strategy_file(tmp_path: Path) -> None:
    body = (
        'id = "s"\nname = "S"\nselection = { type = "all" }\nweighting = { type = "equal" }\n'
        'rebalance = "monthly"\n'
    )
    plain = tmp_path / "plain.toml"
    plain.write_text(body)
    assert load_strategy(plain).alerts == StrategyAlerts()
    good = tmp_path / "good.toml"
    good.write_text(body + "[alerts]\ndrawdown = -0.25\nvolatility = 0.4\n")
    assert load_strategy(good).alerts == StrategyAlerts(drawdown=-0.25, volatility=0.4)
    bad = tmp_path / "bad.toml"
    bad.write_text(body + "[alerts]\nmax_drawdown = -0.25\n")
    with pytest.raises(StrategyFileError, match=r"bad\.toml: alerts\.max_drawdown"):
        load_strategy(bad)
    wrong_sign = tmp_path / "sign.toml"
    wrong_sign.write_text(body + "[alerts]\ndrawdown = 0.25\n")
    with pytest.raises(StrategyFileError, match=r"sign\.toml: alerts\.drawdown"):
        load_strategy(wrong_sign)


def test_risk_settings_check_windows() -> None:
    with pytest.raises(ValidationError, match="before start"):
        StressWindow(name="x", start=date(2020, 3, 1), end=date(2020, 2, 1))
    window = {"name": "x", "start": "2020-01-01", "end": "2020-02-01"}
    with pytest.raises(ValidationError, match="repeat: x"):
        RiskSettings(stress_windows=[window, window])
    assert RiskSettings(sectors={" aapl ": "Tech"}).sectors == {"AAPL": "Tech"}
    names = [w.name for w in RiskSettings().stress_windows]
    assert names == ["GFC", "COVID"]
