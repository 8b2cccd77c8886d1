"""`indexlake verify` on a small published lake: it passes as published, and fails, naming the
strategy, when one published number is changed."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from indexlake.cli import app
from indexlake.lake.partitions import partition_file, write_partition
from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS
from indexlake.methodology.engine import compute_index
from indexlake.methodology.strategy import LandedUniverse, Strategy, TopNSelection
from indexlake.pipeline.compute import load_panel
from indexlake.verify import reference, run
from indexlake.verify.checks import FFN_TOLERANCE, LEVEL_TOLERANCE, WEIGHT_TOLERANCE
from indexlake.verify.published import read_published
from indexlake.verify.run import VerifyReport, render_text, verify_lake

from .conftest import DELISTED_FROM, GAP, N_SYMBOLS, REPO, PublishedLake

SUMMARY = re.compile(r"^verify: (\d+) strategies, max level diff (\S+), max weight diff (\S+)$")
ALL_CHECKS = {
    "schedule",
    "targets",
    "drift",
    "identity",
    "return",
    "bt levels",
    "bt weights",
    "vectorbt levels",
    "vectorbt weights",
}


@pytest.fixture(scope="module")
def verified(published_lake: PublishedLake) -> VerifyReport:
    return verify_lake(published_lake.root, published_lake.strategies, published_lake.symbols)


def _report(report: VerifyReport, strategy_id: str):
    return next(s for s in report.strategies if s.strategy_id == strategy_id)


def test_a_freshly_published_lake_passes_every_check(
    verified: VerifyReport, published_lake: PublishedLake
) -> None:
    assert [s.strategy_id for s in verified.strategies] == sorted(
        s.id for s in published_lake.strategies
    )
    for s in verified.strategies:
        assert {c.name for c in s.checks} >= ALL_CHECKS
        for check in s.checks:
            assert check.passed, f"{s.strategy_id}: {check.describe()}"
    capped = _report(verified, "capped_cap10").get("ffn cap")
    assert capped is not None and capped.diff < FFN_TOLERANCE
    assert verified.passed
    assert verified.max_level_diff < LEVEL_TOLERANCE
    assert verified.max_weight_diff < WEIGHT_TOLERANCE
    last = render_text(verified).splitlines()[-1]
    match = SUMMARY.match(last)
    assert match and int(match[1]) == len(published_lake.strategies)
    assert float(match[2]) == pytest.approx(verified.max_level_diff, rel=1e-2)


def test_the_peers_remove_members_at_their_last_close(verified: VerifyReport) -> None:
    # The delisted and the gapped name are both among the largest: every cap-weighted index
    # holds them, and both engines apply the removal rule on the day before each first gap.
    days = pd.bdate_range("2017-01-01", "2018-12-31")
    expected = [days[days < GAP[0]][-1], days[days < DELISTED_FROM][-1]]
    for strategy_id in ("equal_weight", "top50_cap", "top50_cap_tr", "capped_cap10"):
        removals = _report(verified, strategy_id).removal_days
        assert removals["bt"] == removals["vectorbt"] == expected


def _tamper(lake: Path, dataset, strategy_id: str, column: str, row: int, factor: float) -> None:
    """Multiply one published value in the partition file, in place."""
    path = partition_file(lake, dataset, strategy_id)
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame.loc[row, column] *= factor
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), path)


def _row_between_rebalances(lake: Path, dataset, strategy_id: str) -> int:
    levels = pq.read_table(partition_file(lake, INDEX_LEVELS, strategy_id)).to_pandas()
    day = levels["date"][~levels["is_rebalance"]].iloc[len(levels) // 2]
    rows = pq.read_table(partition_file(lake, dataset, strategy_id)).to_pandas()
    return int(rows.index[rows["date"] == day][0])


def _cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no indexlake.toml from the checkout
    monkeypatch.delenv("INDEXLAKE_CONFIG", raising=False)
    monkeypatch.setenv("INDEXLAKE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("INDEXLAKE_STRATEGIES_DIR", str(REPO / "strategies"))
    monkeypatch.setenv("INDEXLAKE_SANDBOX__N_SYMBOLS", str(N_SYMBOLS))


def test_cli_passes_and_prints_the_summary_last(
    published_lake: PublishedLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli_env(monkeypatch, tmp_path, published_lake.root.parent)
    result = CliRunner().invoke(
        app, ["verify", "--strategy", "top50_cap", "--strategy", "min_variance"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any(line.startswith("top50_cap ") and line.endswith(" ok") for line in lines)
    match = SUMMARY.match(lines[-1])
    assert match and match[1] == "2"
    assert float(match[2]) < LEVEL_TOLERANCE and float(match[3]) < WEIGHT_TOLERANCE


def test_cli_fails_naming_the_strategy_when_a_published_level_is_changed(
    published_lake: PublishedLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = published_lake.copy(tmp_path / "data" / "lake")
    row = _row_between_rebalances(lake, INDEX_LEVELS, "top50_cap")
    _tamper(lake, INDEX_LEVELS, "top50_cap", "level", row, 1 + 1e-7)
    _cli_env(monkeypatch, tmp_path, lake.parent)
    result = CliRunner().invoke(
        app, ["verify", "--strategy", "top50_cap", "--strategy", "equal_weight"]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    failed = {line.split(": ", 1)[1].split(" ")[0] for line in lines if line.startswith("FAIL ")}
    assert any(line.startswith("FAIL top50_cap: bt levels") for line in lines)
    assert any(line.startswith("FAIL top50_cap: vectorbt levels") for line in lines)
    assert not any(line.startswith("FAIL equal_weight") for line in lines)
    # drift values the holdings at level × divisor, so it sees the level too; the day's return
    # (and the next day's) no longer matches the basket's.
    assert failed == {"identity", "return", "drift", "bt", "vectorbt"}
    match = SUMMARY.match(lines[-1])
    assert match and match[1] == "2" and float(match[2]) > LEVEL_TOLERANCE


def test_a_changed_drifted_weight_fails_the_weight_checks_only(
    published_lake: PublishedLake, tmp_path: Path
) -> None:
    lake = published_lake.copy(tmp_path / "lake")
    row = _row_between_rebalances(lake, ALLOCATIONS, "capped_cap10")
    _tamper(lake, ALLOCATIONS, "capped_cap10", "weight", row, 1 + 1e-6)
    strategy = published_lake.strategy("capped_cap10")
    report = verify_lake(lake, [strategy], published_lake.symbols)
    assert not report.passed
    failed = {c.name for c in report.strategies[0].checks if not c.passed}
    assert failed == {"drift", "bt weights", "vectorbt weights"}
    assert report.max_level_diff < LEVEL_TOLERANCE
    assert report.max_weight_diff > WEIGHT_TOLERANCE
    assert "FAIL capped_cap10: drift" in render_text(report)


def test_a_changed_target_weight_fails_the_reference_targets(
    published_lake: PublishedLake, tmp_path: Path
) -> None:
    lake = published_lake.copy(tmp_path / "lake")
    levels = pq.read_table(partition_file(lake, INDEX_LEVELS, "ucits_capped")).to_pandas()
    day = levels["date"][levels["is_rebalance"]].iloc[2]
    rows = pq.read_table(partition_file(lake, ALLOCATIONS, "ucits_capped")).to_pandas()
    _tamper(
        lake, ALLOCATIONS, "ucits_capped", "weight", int(rows.index[rows["date"] == day][0]), 1.01
    )
    report = verify_lake(lake, [published_lake.strategy("ucits_capped")], published_lake.symbols)
    failed = {c.name for c in report.strategies[0].checks if not c.passed}
    assert {"targets", "drift"} <= failed


class _WithNewSetting(Strategy):
    """A strategy model with a setting the reference has never heard of."""

    hedged: bool = False


def test_a_setting_the_reference_does_not_model_is_listed_not_verified(
    published_lake: PublishedLake,
) -> None:
    fields = published_lake.strategy("equal_weight").model_dump()
    strategy = _WithNewSetting.model_validate(fields | {"hedged": True})
    report = verify_lake(published_lake.root, [strategy], published_lake.symbols)
    assert report.strategies == [] and report.unmodelled == {"equal_weight": ["hedged"]}
    assert "not verified: equal_weight uses hedged (not modelled)" in render_text(report)
    with pytest.raises(run.NotVerifiableError, match="cannot verify: equal_weight uses hedged"):
        verify_lake(published_lake.root, [strategy], published_lake.symbols, require_published=True)


def test_cli_refuses_a_requested_strategy_it_cannot_verify(
    published_lake: PublishedLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reference that has not learnt return_type yet: the total-return index is unverifiable.
    monkeypatch.setattr(reference, "_MODELLED_FIELDS", reference._MODELLED_FIELDS - {"return_type"})
    _cli_env(monkeypatch, tmp_path, published_lake.root.parent)
    result = CliRunner().invoke(app, ["verify", "--strategy", "top50_cap_tr"])
    assert result.exit_code == 2, result.output
    assert "cannot verify: top50_cap_tr uses return_type" in result.output


def test_the_sandbox_lake_exercises_every_strategy_feature(
    published_lake: PublishedLake,
) -> None:
    root = published_lake.root
    panel = load_panel(root, published_lake.symbols, [])
    assert int((panel.dividends > 0).sum().sum()) > 100  # dividends are landed
    # Total return = price return plus the reinvested dividends: same targets, higher level.
    tr, pr = read_published(root, "top50_cap_tr"), read_published(root, "top50_cap")
    rebalances = pr.levels.index[pr.levels["is_rebalance"]]
    pd.testing.assert_frame_equal(
        tr.weights().loc[rebalances], pr.weights().loc[rebalances], atol=1e-12
    )
    assert tr.levels["level"].iloc[-1] / pr.levels["level"].iloc[-1] > 1.02
    # Third Friday: 2019-04-19 was Good Friday, the session before it rebalances; base dates.
    buffered = read_published(root, "filtered_buffer").levels
    days = buffered.index[buffered["is_rebalance"]]
    assert pd.Timestamp("2019-04-18") in days and pd.Timestamp("2019-04-19") not in days
    assert days[0] == pd.Timestamp("2016-06-01")
    assert read_published(root, "capped_tr").levels.index[0] == pd.Timestamp("2017-03-01")
    # The filters, the buffer and the reference lag each change the reference's targets (which
    # the published ones match: see the checks above).
    strategy = published_lake.strategy("filtered_buffer")
    market = reference.Market(panel.closes, panel.market_caps, panel.volumes, panel.dividends)
    targets = reference.targets(strategy, market, days)
    variants = {
        "universe": LandedUniverse(type="landed"),
        "selection": TopNSelection(type="top_n", n=20),
        "reference_lag_days": 1,
    }
    for name, value in variants.items():
        other = reference.targets(strategy.model_copy(update={name: value}), market, days)
        if name == "reference_lag_days":
            assert (other - targets).abs().to_numpy().max() > 1e-3, name
        else:
            assert ((other > 0) != (targets > 0)).to_numpy().any(), name


def test_a_changed_total_return_level_fails(published_lake: PublishedLake, tmp_path: Path) -> None:
    lake = published_lake.copy(tmp_path / "lake")
    row = _row_between_rebalances(lake, INDEX_LEVELS, "top50_cap_tr")
    _tamper(lake, INDEX_LEVELS, "top50_cap_tr", "level", row, 1 + 1e-7)
    report = verify_lake(lake, [published_lake.strategy("top50_cap_tr")], published_lake.symbols)
    failed = {c.name for c in report.strategies[0].checks if not c.passed}
    assert failed == {"identity", "return", "drift", "bt levels", "vectorbt levels"}
    assert "FAIL top50_cap_tr: return" in render_text(report)


def test_price_return_published_as_total_return_fails(
    published_lake: PublishedLake, tmp_path: Path
) -> None:
    # Self-consistent numbers (identity, drift, targets hold) that leave out the dividends.
    lake = published_lake.copy(tmp_path / "lake")
    strategy = published_lake.strategy("top50_cap_tr")
    panel = load_panel(lake, published_lake.symbols, [])
    price_only = strategy.model_copy(update={"return_type": "price"})
    result = compute_index(price_only, panel.closes, panel.market_caps)
    write_partition(lake, INDEX_LEVELS, strategy.id, result.levels)
    write_partition(lake, ALLOCATIONS, strategy.id, result.allocations)
    report = verify_lake(lake, [strategy], published_lake.symbols)
    failed = {c.name for c in report.strategies[0].checks if not c.passed}
    assert failed == {"return", "bt levels", "vectorbt levels"}


def test_cli_refuses_a_strategy_with_nothing_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data" / "lake").mkdir(parents=True)
    _cli_env(monkeypatch, tmp_path, tmp_path / "data")
    result = CliRunner().invoke(app, ["verify", "--strategy", "top50_cap"])
    assert result.exit_code == 2
    assert "nothing published for top50_cap" in result.output


def test_a_missing_engine_is_named_with_the_extra_to_install(
    published_lake: PublishedLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "ENGINES", (*run.ENGINES, "no_such_engine"))
    with pytest.raises(run.MissingEnginesError, match=r"no_such_engine.*indexlake\[verify\]"):
        verify_lake(published_lake.root, published_lake.strategies[:1], published_lake.symbols)
