"""Great Expectations Data Docs: a static site of the run's validation results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from indexlake.quality.docs import build_data_docs
from indexlake.quality.runner import ValidationReport, validate_frame


def test_data_docs_render_each_report_of_the_latest_run(
    tmp_path: Path,
    make_prices: Callable[..., pd.DataFrame],
    prices_suite: Path,
    market_caps_suite: Path,
    make_market_caps: Callable[..., pd.DataFrame],
) -> None:
    out = tmp_path / "dq" / "docs"
    bad = make_prices()
    bad.loc[2, "close"] = -1.0
    first = validate_frame(bad, prices_suite, dataset="prices", partition="2024-a")
    assert build_data_docs([first], "run-1", out) == out.resolve() / "index.html"

    prices = validate_frame(make_prices(), prices_suite, dataset="prices", partition="2024-b")
    caps = validate_frame(
        make_market_caps(), market_caps_suite, dataset="market_caps", partition="2024-b"
    )
    index = build_data_docs([prices, caps], "run-2", out)
    pages = sorted(p.relative_to(out).parts[:2] for p in out.glob("validations/**/*.html"))
    assert pages == [("validations", "market_caps"), ("validations", "prices")]
    html = index.read_text()
    assert "run-2" in html and "run-1" not in html  # the site shows the latest run
    assert {p.stem for p in out.glob("validations/**/*.html")} == {
        "prices-2024-b",
        "market_caps-2024-b",
    }


def test_no_gx_result_no_docs(tmp_path: Path) -> None:
    report = ValidationReport(suite="s", dataset="d", partition="p", outcomes=[])
    assert build_data_docs([report], "r", tmp_path / "docs") is None
    assert not (tmp_path / "docs").exists()
