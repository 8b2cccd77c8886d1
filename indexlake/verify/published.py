"""What the lake publishes for one strategy: its index levels and allocations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from indexlake.lake.partitions import partition_file, read_partition
from indexlake.lake.schemas import ALLOCATIONS, INDEX_LEVELS


class NotPublishedError(LookupError):
    """A strategy without published levels or allocations in the lake."""


@dataclass
class Published:
    """A strategy's published levels (indexed by date) and allocations (long rows)."""

    levels: pd.DataFrame
    allocations: pd.DataFrame

    def weights(self) -> pd.DataFrame:
        """Published weights as dates × symbols (0 where a symbol is not held)."""
        wide = self.allocations.pivot(index="date", columns="symbol", values="weight")
        return wide.reindex(index=self.levels.index).fillna(0.0)


def is_published(lake_root: Path, strategy_id: str) -> bool:
    """True when the strategy has an index_levels partition."""
    return partition_file(lake_root, INDEX_LEVELS, strategy_id).exists()


def read_published(lake_root: Path, strategy_id: str) -> Published:
    """The strategy's published partitions, checked to be present and non-empty."""
    levels = read_partition(lake_root, INDEX_LEVELS, strategy_id)
    allocations = read_partition(lake_root, ALLOCATIONS, strategy_id)
    for dataset, frame in ((INDEX_LEVELS, levels), (ALLOCATIONS, allocations)):
        if frame.empty:
            path = partition_file(lake_root, dataset, strategy_id)
            raise NotPublishedError(f"{path}: no published {dataset.name} for {strategy_id}")
    levels = levels.set_index("date").sort_index()
    allocations = allocations.astype({"symbol": object}).sort_values(["date", "symbol"])
    return Published(levels=levels, allocations=allocations.reset_index(drop=True))
