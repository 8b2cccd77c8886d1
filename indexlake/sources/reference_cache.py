"""Vendor reference answers (``/statistics``, ``/profile``) kept on disk with when they were
fetched, so repeated runs within the time to live do not spend credits on them again.

One JSON file per endpoint under the cache directory (``<data_dir>/reference/statistics.json``):
``{"SYMBOL": {"fetched_at": "2026-11-27T12:00:00+00:00", "body": {...}}}``. Only successful
answers are kept (a refusal may clear with a plan change). Writes replace the file atomically.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from indexlake.lake.partitions import write_text_atomic


class ReferenceCacheError(ValueError):
    """A cache file that cannot be read, naming it."""


class ReferenceCache:
    """Reference answers by (endpoint, symbol) with a time to live."""

    def __init__(
        self,
        directory: Path,
        ttl: timedelta,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.directory, self.ttl, self.clock = Path(directory), ttl, clock
        self._lock = threading.Lock()
        self._files: dict[str, dict[str, Any]] = {}
        self.hits = 0

    def __repr__(self) -> str:
        return f"ReferenceCache({str(self.directory)!r}, ttl={self.ttl})"

    def _path(self, endpoint: str) -> Path:
        return self.directory / f"{endpoint.strip('/')}.json"

    def _load(self, endpoint: str) -> dict[str, Any]:
        entries = self._files.get(endpoint)
        if entries is None:
            path = self._path(endpoint)
            entries = {}
            if path.exists():
                try:
                    entries = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError) as exc:
                    raise ReferenceCacheError(
                        f"reference cache {path} is unreadable: {exc}"
                    ) from exc
                if not isinstance(entries, dict):
                    raise ReferenceCacheError(f"reference cache {path} is not a JSON object")
            self._files[endpoint] = entries
        return entries

    def get(self, endpoint: str, symbol: str) -> dict | None:
        """The cached answer, or None when absent or older than the time to live."""
        with self._lock:
            entry = self._load(endpoint).get(symbol)
        if not isinstance(entry, dict) or "body" not in entry:
            return None
        try:
            fetched = datetime.fromisoformat(str(entry["fetched_at"]))
        except (KeyError, ValueError):
            return None
        if self.clock() - fetched > self.ttl:
            return None
        self.hits += 1
        return entry["body"]

    def put(self, endpoint: str, symbol: str, body: dict) -> None:
        """Keep ``body`` as fetched now and rewrite the endpoint's file."""
        with self._lock:
            entries = self._load(endpoint)
            entries[symbol] = {"fetched_at": self.clock().isoformat(), "body": body}
            write_text_atomic(self._path(endpoint), json.dumps(entries, sort_keys=True))
