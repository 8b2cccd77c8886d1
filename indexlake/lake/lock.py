"""One writer at a time: an exclusive lock file in the data directory for a pipeline run."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".writer.lock"


class LakeBusyError(RuntimeError):
    """Another pipeline run is writing to the same data directory."""


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[Path]:
    """Hold ``<data_dir>/.writer.lock`` for the duration of a run; refuse if it is taken.

    The lock is released by the OS when the holder exits, so a crashed run never leaves the
    lake locked.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fh = open(path, "a+")  # noqa: SIM115 - held open for the whole run
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise LakeBusyError(
                f"another indexlake run (pid {holder}) is writing to {data_dir}; "
                "wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield path
    finally:
        fh.close()
