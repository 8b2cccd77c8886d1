"""Expectation suites kept as JSON in ``expectations/``: load, check shape, build for GX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite

SEVERITIES = ("critical", "warning")
DEFAULT_SEVERITY = "critical"


def load_suite(path: Path) -> dict:
    """The suite JSON at ``path``, checked for shape; a malformed file raises ``ValueError``."""
    path = Path(path)
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"expectation suite {path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"expectation suite {path}: not valid JSON: {exc}") from exc
    problems = _suite_problems(suite)
    if problems:
        raise ValueError(f"expectation suite {path} is malformed: " + "; ".join(problems))
    return suite


def gx_suite(suite_json: dict, path: Path) -> ExpectationSuite:
    """The GX suite for ``suite_json``, failing loudly on any expectation GX rejects.

    ``ExpectationSuite(**json)`` only logs an invalid expectation (unknown type, bad kwargs)
    and drops it, which would silently weaken the suite.
    """
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = []
    for i, item in enumerate(suite_json["expectations"]):
        try:
            expectations.append(ExpectationConfiguration(**item).to_domain_obj())
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise ValueError(
                f"expectation suite {path}: expectations[{i}] ({item.get('type')}) "
                f"is not valid for GX: {message}"
            ) from exc
    gx_fields = {k: v for k, v in suite_json.items() if k != "checks"}
    try:
        return ExpectationSuite(**{**gx_fields, "expectations": expectations})
    except Exception as exc:
        raise ValueError(f"expectation suite {path}: rejected by GX: {exc}") from exc


def _suite_problems(suite: Any) -> list[str]:
    """What is wrong with a parsed suite JSON (empty when it is well formed)."""
    if not isinstance(suite, dict):
        return [f"top level must be an object, got {type(suite).__name__}"]
    problems = []
    if not isinstance(suite.get("name"), str) or not suite.get("name"):
        problems.append("'name' must be a non-empty string")
    expectations = suite.get("expectations")
    if not isinstance(expectations, list):
        return [*problems, "'expectations' must be a list"]
    for i, item in enumerate(expectations):
        where = f"expectations[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be an object")
            continue
        if not isinstance(item.get("type"), str) or not item["type"].startswith("expect_"):
            problems.append(f"{where}.type must be an expectation name like 'expect_...'")
        problems += _item_problems(where, item)
    problems += _check_problems(suite.get("checks", []))
    meta = suite.get("meta", {})
    if not isinstance(meta, dict):
        problems.append("'meta' must be an object")
    elif not isinstance(meta.get("partial_publish", False), bool):
        problems.append("meta.partial_publish must be true or false")
    return problems


def _item_problems(where: str, item: dict) -> list[str]:
    """What is wrong with the `kwargs` and `meta` of one expectation or check."""
    problems = []
    if not isinstance(item.get("kwargs", {}), dict):
        problems.append(f"{where}.kwargs must be an object")
    meta = item.get("meta", {})
    if not isinstance(meta, dict):
        problems.append(f"{where}.meta must be an object")
    elif meta.get("severity", DEFAULT_SEVERITY) not in SEVERITIES:
        problems.append(f"{where}.meta.severity must be one of {', '.join(SEVERITIES)}")
    return problems


def _check_problems(checks: Any) -> list[str]:
    """What is wrong with the suite's list of named indexlake checks."""
    from indexlake.quality.checks import CHECKS

    if not isinstance(checks, list):
        return ["'checks' must be a list"]
    problems = []
    for i, item in enumerate(checks):
        where = f"checks[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be an object")
            continue
        if item.get("name") not in CHECKS:
            problems.append(
                f"{where}.name must be one of {', '.join(sorted(CHECKS))}, not {item.get('name')!r}"
            )
        problems += _item_problems(where, item)
    return problems
