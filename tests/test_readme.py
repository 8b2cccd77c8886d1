"""The README's data contract table names every dataset, partition and column of schemas.py."""

import re
from pathlib import Path

import pytest

from indexlake.lake.schemas import DATASETS

README = Path(__file__).resolve().parents[1] / "README.md"


def _contract_rows() -> dict[str, str]:
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\| `(\w+)` \| `(\w+)`.*", line)
        if m and m.group(1) in DATASETS:
            rows[m.group(1)] = line
    return rows


def test_readme_lists_every_dataset() -> None:
    assert set(_contract_rows()) == set(DATASETS)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_readme_row_matches_schema(name: str) -> None:
    row = _contract_rows()[name]
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip("|"))]
    dataset = DATASETS[name]
    assert cells[1].startswith(f"`{dataset.partition}`")
    assert [k.strip() for k in cells[2].split(",")] == list(dataset.key)
    documented = re.findall(r"`(\w+)`", cells[3])
    for column in dataset.columns:
        assert column in documented, f"README {name} row lacks column {column}"
    extra = [c for c in documented if c not in dataset.columns and c.islower()]
    values = {
        "market_cap",
        "statistics",
        "configured",
        "buy",
        "sell",
        "strategy",
        "benchmark",
        "full",
        "trailing_252d",
    }
    assert set(extra) <= values, f"README {name} row names unknown columns {extra}"
