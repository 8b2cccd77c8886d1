"""Risk alerts: which of a strategy's published figures breach its thresholds.

Three rules, each on one published figure of the strategy (not its benchmark):

- ``drawdown`` (window ``current``): the ``rolling_series`` drawdown on the last date is below
  ``thresholds.drawdown`` (e.g. -0.15: more than 15% under the running peak);
- ``annualised_volatility`` (window ``trailing_252d``): the ``risk_metrics`` value is above
  ``thresholds.volatility``;
- ``tracking_error`` (window ``trailing_252d``): the ``risk_metrics`` value is above
  ``thresholds.tracking_error``.

A NaN figure (too little history) or a threshold set to None never raises an alert.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indexlake.lake.schemas import RISK_ALERTS
from indexlake.risk.report import SUBJECT_STRATEGY
from indexlake.risk.settings import AlertThresholds

WINDOW_CURRENT = "current"
WINDOW_TRAILING_YEAR = "trailing_252d"
BELOW = "below"
ABOVE = "above"
# Column of the returned frame naming the strategy (the dataset's partition column).
STRATEGY_COLUMN = "strategy_id"
ALERT_COLUMNS: tuple[str, ...] = (STRATEGY_COLUMN, *RISK_ALERTS.columns)


def _candidates(risk: pd.DataFrame, rolling: pd.DataFrame) -> pd.DataFrame:
    """The figures the rules look at: (metric, window, value, date) for the strategy."""
    rows = []
    strat_roll = rolling[rolling["subject"] == SUBJECT_STRATEGY]
    if len(strat_roll):
        last = strat_roll.loc[pd.to_datetime(strat_roll["date"]).idxmax()]
        rows.append(("drawdown", WINDOW_CURRENT, float(last["drawdown"]), last["date"]))
    strat = risk[(risk["subject"] == SUBJECT_STRATEGY) & (risk["window"] == WINDOW_TRAILING_YEAR)]
    if len(strat):
        row = strat.iloc[0]
        for metric in ("annualised_volatility", "tracking_error"):
            rows.append((metric, WINDOW_TRAILING_YEAR, float(row[metric]), row["end_date"]))
    return pd.DataFrame(rows, columns=["metric", "window", "value", "date"])


def evaluate_alerts(
    strategy_id: str,
    risk: pd.DataFrame,
    rolling: pd.DataFrame,
    thresholds: AlertThresholds,
    *,
    run_id: str,
) -> pd.DataFrame:
    """The breaches of ``thresholds`` in a strategy's published risk, one row each.

    ``risk`` holds RISK_METRICS rows and ``rolling`` ROLLING_SERIES rows of the strategy;
    ``date`` is the date the figure is as of. Columns: ``strategy_id`` then RISK_ALERTS.
    """
    limits = {
        "drawdown": (thresholds.drawdown, BELOW),
        "annualised_volatility": (thresholds.volatility, ABOVE),
        "tracking_error": (thresholds.tracking_error, ABOVE),
    }
    figures = _candidates(risk, rolling)
    threshold = (
        figures["metric"]
        .map(lambda m: np.nan if limits[m][0] is None else limits[m][0])
        .astype("float64")
    )
    comparison = figures["metric"].map(lambda m: limits[m][1]).astype(object)
    value = figures["value"].to_numpy(dtype=np.float64)
    limit = threshold.to_numpy()
    # NaN on either side compares False: no figure or no threshold, no alert.
    breached = np.where(comparison == BELOW, value < limit, value > limit)
    alerts = figures.assign(threshold=threshold, comparison=comparison)[breached]
    alerts.insert(0, STRATEGY_COLUMN, strategy_id)
    alerts["run_id"] = run_id
    alerts["date"] = pd.to_datetime(alerts["date"])
    return alerts[list(ALERT_COLUMNS)].reset_index(drop=True)
