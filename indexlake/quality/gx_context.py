"""One quiet, process-wide Great Expectations context for validating in-memory frames.

Creating a context and importing GX take seconds, so both happen once, lazily, on first use.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition

_LOCK = threading.Lock()
_BATCH_DEFINITION: BatchDefinition | None = None


def batch_definition() -> BatchDefinition:
    """The process-wide whole-dataframe batch definition on one quiet ephemeral context."""
    global _BATCH_DEFINITION
    with _LOCK:
        if _BATCH_DEFINITION is None:
            quiet = _quiet_gx_logger()
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            if quiet:
                _quiet_gx_logger()

            _skip_batch_fingerprint()
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            asset = context.data_sources.add_pandas("indexlake").add_dataframe_asset("frame")
            _BATCH_DEFINITION = asset.add_batch_definition_whole_dataframe("whole_frame")
        return _BATCH_DEFINITION


def _quiet_gx_logger() -> bool:
    """Raise GX's loggers to WARNING unless someone configured them; True if it did.

    GX logs hundreds of INFO/DEBUG lines while importing, and some of its modules pin their
    own logger to INFO (e.g. one line per ephemeral context about a temporary docs directory).
    """
    root = logging.getLogger("great_expectations")
    if root.level not in (logging.NOTSET, logging.WARNING):
        return False
    root.setLevel(logging.WARNING)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (
            name.startswith("great_expectations.")
            and isinstance(logger, logging.Logger)
            and logging.NOTSET < logger.level < logging.WARNING
        ):
            logger.setLevel(logging.NOTSET)
    return True


def _skip_batch_fingerprint() -> None:
    """Stop GX hashing every in-memory frame into its batch markers.

    GX 1.24 md5-hashes each pandas batch under 1 GB (``pandas_data_fingerprint``), which is
    about 40% of a 3 M-row validation and unused here. If a GX upgrade renames the hook this
    does nothing and validation is merely slower.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    if hasattr(engine, "hash_pandas_dataframe"):
        engine.hash_pandas_dataframe = lambda df: f"unhashed-{len(df)}-rows"


def warm_up() -> threading.Thread:
    """Import GX and build the context in a background thread (overlaps it with ingest)."""
    thread = threading.Thread(target=batch_definition, name="gx-warm-up", daemon=True)
    thread.start()
    return thread
