"""The library never imports Prefect, and importing it does not pull in Great Expectations."""

import pkgutil
import subprocess
import sys

import indexlake


def _library_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(indexlake.__path__, prefix="indexlake.")
        if not m.name.endswith("__main__")
    )


def test_importing_every_library_module_imports_neither_prefect_nor_gx() -> None:
    modules = _library_modules()
    assert "indexlake.cli" in modules and "indexlake.sources.twelvedata" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted({n.split('.')[0] for n in sys.modules} & {'prefect', 'great_expectations'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"library imports {out.stdout.strip()}"
