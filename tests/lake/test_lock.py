"""The writer lock: one pipeline run per data directory, released when its holder exits."""

import subprocess
import sys
from pathlib import Path

import pytest

from indexlake.lake.lock import LakeBusyError, writer_lock

HOLD = (
    "import sys, time\n"
    "from indexlake.lake.lock import writer_lock\n"
    "with writer_lock(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = pytest.raises(LakeBusyError, match=rf"pid {holder.pid}\) is writing to")
        with busy, writer_lock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(tmp_path):  # released by the OS when the holder died
        pass


def test_lock_is_reentrant_across_sequential_runs(tmp_path: Path) -> None:
    with writer_lock(tmp_path):
        pass
    with writer_lock(tmp_path):
        pass
