"""Cross-check of the parametric (normal) VaR and CVaR against quantstats.

quantstats' ``value_at_risk`` is parametric by default (norm.ppf(1 - confidence, mean, std),
pandas std with ddof = 1): our ``var_*_parametric``. Its ``conditional_value_at_risk`` is the
normal expected shortfall by default and, with ``method="historical"``, the mean of the returns
at or below the pandas (linear) quantile: our ``cvar_*_parametric`` and ``cvar_*_historical``.
quantstats takes the confidence level as we do (0.95) and reports losses as negative returns.
"""

from __future__ import annotations

import pandas as pd
import pytest

from indexlake.risk.table import metric_table
from indexlake.risk.tail import historical_cvar, parametric_cvar, parametric_var

from .samples import MIXED

qs_stats = pytest.importorskip("quantstats.stats")

REL = 1e-9


def test_mixed_reference() -> None:
    assert qs_stats.value_at_risk(MIXED) == pytest.approx(parametric_var(MIXED), rel=REL)


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_random_series(panel: tuple[pd.DataFrame, pd.Series], level: float) -> None:
    frame, bench = panel
    pct = round(level * 100)
    table = metric_table(frame, bench)
    for name in frame.columns:
        # Dropped up front: quantstats' return preparation may fill NaNs.
        r = frame[name].dropna()
        var = qs_stats.value_at_risk(r, confidence=level)
        es = qs_stats.conditional_value_at_risk(r, confidence=level)
        hist = qs_stats.conditional_value_at_risk(r, confidence=level, method="historical")
        assert parametric_var(r, level) == pytest.approx(var, rel=REL)
        assert parametric_cvar(r, level) == pytest.approx(es, rel=REL)
        assert historical_cvar(r, level) == pytest.approx(hist, rel=REL)
        assert table.loc[name, f"var_{pct}_parametric"] == pytest.approx(var, rel=REL)
        assert table.loc[name, f"cvar_{pct}_parametric"] == pytest.approx(es, rel=REL)
