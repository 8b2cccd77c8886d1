"""Great Expectations Data Docs: static HTML of a run's validation results.

The GX expectations of every report are stored in the process's ephemeral GX context and
rendered into a static site (default ``<data_dir>/dq/docs``, ``index.html`` at its root), one
page per dataset partition validated. The site shows the latest run only (each build replaces
it); the history is in ``dq_results``. The named indexlake checks are not GX expectations and
do not appear there; ``dq_results`` and ``indexlake dq status`` hold every outcome.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from indexlake.quality.gx_context import batch_definition
from indexlake.quality.runner import ValidationReport

SITE = "indexlake"


def docs_dir(data_dir: Path) -> Path:
    """Where a run's Data Docs site is built."""
    return Path(data_dir) / "dq" / "docs"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def build_data_docs(reports: list[ValidationReport], run_id: str, out_dir: Path) -> Path | None:
    """Render the GX results of ``reports`` into the static site at ``out_dir`` (replacing
    what an earlier run put there); returns its ``index.html`` (None when no report carries a
    GX result)."""
    results = [r for r in reports if r.gx_result is not None]
    if not results:
        return None
    context = batch_definition().data_asset.datasource.data_context
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    sites = context.get_config().data_docs_sites or {}
    if SITE not in sites or sites[SITE]["store_backend"].get("base_directory") != str(out_dir):
        if SITE in sites:
            context.delete_data_docs_site(SITE)
        context.add_data_docs_site(
            site_name=SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(out_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    run = RunIdentifier(run_name=_slug(run_id), run_time=datetime.now(tz=UTC))
    store = context.validation_results_store
    for old in store.list_keys():  # the site shows one run: a long-lived worker must not grow
        store.remove_key(old)
    keys = []
    for report in results:
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=report.suite),
            run_id=run,
            batch_identifier=_slug(f"{report.dataset}-{report.partition}"),
        )
        store.set(key, report.gx_result)
        keys.append(key)
    context.build_data_docs(site_names=[SITE], resource_identifiers=keys)
    return out_dir / "index.html"
