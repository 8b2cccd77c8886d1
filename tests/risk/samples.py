"""Risk test data: methodology.md reference series and a random multi-strategy panel."""

from __future__ import annotations

import numpy as np
import pandas as pd

# methodology.md "Reference values (empyrical-reloaded 0.7.1, verified)", in percent.
MIXED = pd.Series([np.nan, 1, 10, -4, 2, 3, 2, 1, -10]) / 100
BENCHMARK = pd.Series([0, -6, -7, -1, -9, -2, -6, -8, -5]) / 100
# Bacon (2008), "Practical Portfolio Performance Measurement and Attribution": the portfolio
# column of R PerformanceAnalytics' `portfolio_bacon` dataset, 24 monthly returns.
BACON_MONTHLY = pd.Series(
    [
        *(0.003, 0.026, 0.011, -0.010, 0.015, 0.025, 0.016, 0.067, -0.014, 0.040, -0.005, 0.081),
        *(0.040, -0.037, -0.061, 0.017, -0.049, -0.022, 0.070, 0.058, -0.065, 0.024, -0.005),
        -0.009,
    ]
)
MONTHS_PER_YEAR = 12


def random_panel(seed: int, n: int = 800, columns: int = 4) -> tuple[pd.DataFrame, pd.Series]:
    """Daily returns of correlated strategies and their benchmark, with scattered NaNs."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2019-01-02", periods=n)
    bench = rng.normal(0.0003, 0.011, n)
    strat = 0.8 * bench[:, None] + rng.normal(0.0002, 0.006, (n, columns))
    strat[rng.random((n, columns)) < 0.02] = np.nan
    bench[rng.choice(n, 10, replace=False)] = np.nan
    frame = pd.DataFrame(strat, index=index, columns=[f"s{i}" for i in range(columns)])
    return frame, pd.Series(bench, index=index)
