"""Prefect task that checks the published risk against the alert thresholds and raises events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.logging import get_run_logger

from indexlake.methodology.strategy import Strategy
from indexlake.pipeline import risk_outputs
from indexlake.risk.settings import AlertThresholds

# An automation can trigger on this event name, e.g. to send a notification.
ALERT_EVENT = "indexlake.risk.alert"
RESOURCE_PREFIX = "indexlake.strategy."


def alert_payload(alert: pd.Series) -> dict[str, Any]:
    """The event payload of one breach: plain JSON values."""
    return {
        "strategy_id": str(alert["strategy_id"]),
        "metric": str(alert["metric"]),
        "window": str(alert["window"]),
        "value": float(alert["value"]),
        "threshold": float(alert["threshold"]),
        "comparison": str(alert["comparison"]),
        "date": pd.Timestamp(alert["date"]).date().isoformat(),
        "run_id": str(alert["run_id"]),
    }


@task(name="check-risk-alerts", cache_policy=NO_CACHE)
def check_risk_alerts(
    lake_root: Path, strategies: list[Strategy], defaults: AlertThresholds, run_id: str
) -> pd.DataFrame:
    """Record each strategy's threshold breaches in ``risk_alerts`` and emit one event each.

    Only the strategies given are checked (pass the ones this run computed). Returns the
    breaches (``strategy_id`` + RISK_ALERTS columns).
    """
    logger = get_run_logger()
    found = []
    for strategy in strategies:
        alerts = risk_outputs.published_alerts(lake_root, strategy, defaults, run_id=run_id)
        risk_outputs.publish_alerts(lake_root, strategy.id, alerts, run_id)
        for _, alert in alerts.iterrows():
            payload = alert_payload(alert)
            logger.warning(
                "risk alert %s: %s (%s) %.4f %s threshold %.4f on %s",
                strategy.id,
                payload["metric"],
                payload["window"],
                payload["value"],
                payload["comparison"],
                payload["threshold"],
                payload["date"],
            )
            emit_event(
                event=ALERT_EVENT,
                resource={
                    "prefect.resource.id": f"{RESOURCE_PREFIX}{strategy.id}",
                    "prefect.resource.name": strategy.name,
                },
                payload=payload,
            )
        found.append(alerts)
    frames = [f for f in found if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else risk_outputs.empty_alerts()
