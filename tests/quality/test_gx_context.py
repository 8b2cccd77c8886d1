"""The per-validation reuse of GX's expectation configurations and metric ids changes no result."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from indexlake.quality.gx_context import batch_definition, memoized_configurations
from indexlake.quality.suites import gx_suite, load_suite


def _results(frame: pd.DataFrame, suite_path: Path, memoized: bool) -> list[tuple]:
    from great_expectations.validator.v1_validator import Validator

    suite = gx_suite(load_suite(suite_path), suite_path)
    validator = Validator(
        batch_definition=batch_definition(),
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
    )
    if memoized:
        with memoized_configurations():
            results = validator.validate_expectation_suite(suite).results
    else:
        results = validator.validate_expectation_suite(suite).results
    return sorted(
        (
            r.expectation_config.type,
            repr(sorted(r.expectation_config.kwargs.items())),
            r.success,
            repr(sorted((r.result or {}).items())),
            repr(r.exception_info),
        )
        for r in results
    )


def test_memoized_validation_matches_plain_gx(prices: pd.DataFrame, prices_suite: Path) -> None:
    bad = pd.concat([prices, prices.iloc[[2]]], ignore_index=True)  # a duplicate key
    bad.loc[1, "close"] = -3.0
    bad.loc[3, "high"] = bad.loc[3, "low"] * 0.5
    bad.loc[5, "open"] = None
    memoized = _results(bad, prices_suite, memoized=True)
    plain = _results(bad, prices_suite, memoized=False)
    assert memoized == plain
    assert sum(not success for _, _, success, _, _ in plain) >= 4  # the bad rows were seen


def test_scope_is_released_and_nests() -> None:
    from indexlake.quality import gx_context

    batch_definition()
    with memoized_configurations():
        with memoized_configurations():
            inner = gx_context._SCOPE.configurations
        assert gx_context._SCOPE.configurations is inner  # the inner scope kept the outer cache
    assert gx_context._SCOPE.configurations is None
    assert gx_context._SCOPE.ids is None


def test_gc_paused_nests_and_restores_the_collector() -> None:
    import gc
    import threading

    from indexlake.quality.gx_context import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        inner_done = threading.Event()

        def other_thread() -> None:
            with gc_paused():
                assert not gc.isenabled()
            inner_done.set()

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert inner_done.is_set()
        assert not gc.isenabled()  # the outer scope still holds the pause
    assert gc.isenabled()

    try:
        with gc_paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()

    gc.disable()  # someone else turned it off: a pause must not turn it back on
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_validation_leaves_the_collector_on(prices: pd.DataFrame, prices_suite: Path) -> None:
    import gc

    from indexlake.quality.runner import validate_frame

    validate_frame(prices, prices_suite, dataset="prices", partition="2024")
    assert gc.isenabled()
