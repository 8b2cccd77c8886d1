"""One quiet, process-wide Great Expectations context for validating in-memory frames.

Creating a context and importing GX take seconds, so both happen once, lazily, on first use.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition

_LOCK = threading.Lock()
_BATCH_DEFINITION: BatchDefinition | None = None
# Per thread: while a validation runs, each expectation's configuration built once (see below).
_SCOPE = threading.local()


def batch_definition() -> BatchDefinition:
    """The process-wide whole-dataframe batch definition on one quiet ephemeral context."""
    global _BATCH_DEFINITION
    with _LOCK, gc_paused():
        if _BATCH_DEFINITION is None:
            quiet = _quiet_gx_logger()
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            if quiet:
                _quiet_gx_logger()

            _skip_batch_fingerprint()
            _memoize_expectation_configuration()
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            asset = context.data_sources.add_pandas("indexlake").add_dataframe_asset("frame")
            _BATCH_DEFINITION = asset.add_batch_definition_whole_dataframe("whole_frame")
        return _BATCH_DEFINITION


_GC_LOCK = threading.Lock()
_GC_PAUSES = 0  # scopes inside gc_paused(), on any thread
_GC_WAS_ENABLED = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the scope (on every thread, as the
    collector is process-wide); reference counting still frees objects at once.

    Importing GX and validating a batch create hundreds of thousands of container objects,
    so the collector runs full collections over the whole heap again and again: about 1.5 s
    of a 5 s GX import and ~10% of a 3 M-row validation (measured on this 2-core machine).
    Cycles made inside the scope are collected after it. Scopes nest and may overlap across
    threads: the collector resumes when the last one ends, and only if it was on before.
    """
    global _GC_PAUSES, _GC_WAS_ENABLED
    with _GC_LOCK:
        if _GC_PAUSES == 0:
            _GC_WAS_ENABLED = gc.isenabled()
            gc.disable()
        _GC_PAUSES += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES -= 1
            if _GC_PAUSES == 0 and _GC_WAS_ENABLED:
                gc.enable()


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


def _memoize_expectation_configuration() -> None:
    """Let GX build each expectation's configuration once per validation, not once per use.

    GX 1.24's ``Expectation.configuration`` is a property that re-serialises the pydantic model
    and rebuilds an ``ExpectationConfiguration`` (with a regex on the class name) on every
    access: about 2,600 times per validated prices batch, about 40% of GX's time on a 550 k-row
    one (profiled). Inside ``memoized_configurations()`` (one validation, on this thread) the first
    result per expectation object is reused; GX creates those objects afresh for the
    validation and does not change them while it runs. Outside the scope, or if a GX upgrade
    changes the property, GX behaves as shipped.
    """
    from great_expectations import util
    from great_expectations.expectations import expectation as module

    # A pure function of the class name.
    if hasattr(module, "camel_to_snake") and not hasattr(module.camel_to_snake, "cache_info"):
        module.camel_to_snake = functools.lru_cache(maxsize=1024)(util.camel_to_snake)
    original = module.Expectation.__dict__.get("configuration")
    if not isinstance(original, property) or getattr(original.fget, "_indexlake", False):
        return
    build = original.fget

    def configuration(self: Any) -> Any:
        cache = getattr(_SCOPE, "configurations", None)
        if cache is None:
            return build(self)
        hit = cache.get(id(self))
        if hit is None or hit[0] is not self:
            hit = (self, build(self))  # holds the object, so its id is not reused meanwhile
            cache[id(self)] = hit
        return hit[1]

    configuration._indexlake = True  # type: ignore[attr-defined]
    module.Expectation.configuration = property(configuration, doc=original.__doc__)
    _memoize_metric_ids()


def _memoize_metric_ids() -> None:
    """Let GX compute each metric-kwargs id once per validation.

    GX hashes the JSON of every metric's kwargs each time it builds a ``MetricConfiguration``
    (about 1,800 times per prices batch, the same few hundred kwargs over and over). Inside
    ``memoized_configurations()``, kwargs made only of strings, numbers, booleans, None and
    lists/tuples/dicts of them reuse the id computed for equal kwargs of the same types;
    anything else is hashed as shipped.
    """
    from great_expectations.core.id_dict import IDDict

    original = IDDict.__dict__.get("to_id")
    if original is None or getattr(original, "_indexlake", False):
        return

    def to_id(self: Any, id_keys: Any = None, id_ignore_keys: Any = None) -> Any:
        cache = getattr(_SCOPE, "ids", None)
        if cache is None or id_keys is not None or id_ignore_keys is not None:
            return original(self, id_keys, id_ignore_keys)
        frozen = _frozen(dict(self))
        if frozen is None:
            return original(self)
        key = (type(self), frozen)
        found = cache.get(key)
        if found is None:
            found = cache[key] = original(self)
        return found

    to_id._indexlake = True  # type: ignore[attr-defined]
    IDDict.to_id = to_id


def _frozen(value: Any) -> Any:
    """An exact, hashable key for a JSON-like value (types included), or None."""
    kind = type(value)
    if value is None or kind in (str, int, bool):
        return (kind, value)
    if kind is float:
        return (kind, repr(value))  # tells -0.0 and NaN apart exactly
    if kind in (list, tuple):
        items = [_frozen(v) for v in value]
        return None if any(i is None for i in items) else (kind, tuple(items))
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):
            return None
        items = [(k, _frozen(v)) for k, v in sorted(value.items())]
        return None if any(i is None for _, i in items) else (type(value), tuple(items))
    return None


@contextmanager
def memoized_configurations() -> Iterator[None]:
    """The scope of one validation on this thread (see ``_memoize_expectation_configuration``)."""
    outer = getattr(_SCOPE, "configurations", None)
    if outer is not None:  # nested: the outer scope owns the cache
        yield
        return
    _SCOPE.configurations, _SCOPE.ids = {}, {}
    try:
        yield
    finally:
        _SCOPE.configurations = _SCOPE.ids = None


def warm_up() -> threading.Thread:
    """Import GX and build the context in a background thread (overlaps it with ingest)."""
    thread = threading.Thread(target=batch_definition, name="gx-warm-up", daemon=True)
    thread.start()
    return thread
