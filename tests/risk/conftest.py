"""Shared risk fixtures."""

from __future__ import annotations

import pandas as pd
import pytest

from .samples import random_panel


@pytest.fixture(scope="module", params=[7, 11, 2024])
def panel(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.Series]:
    """A random panel of four strategies and a benchmark, with NaNs, per seed."""
    return random_panel(request.param)
