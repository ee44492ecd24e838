"""Every name a benchmark imports from the project exists.

The benchmarks import inside their functions (Django must be set up first), so a renamed helper breaks
them only when `make bench` runs — case_list failed that way for days after the demo loaders were merged."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _project_imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            project = isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("bizreg", "bench"))
            if project:
                found += [(path.name, node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize(("bench", "module", "name"), _project_imports())
def test_the_name_exists(bench, module, name):
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, (
        f"bench/{bench}: {module} has no {name}"
    )
