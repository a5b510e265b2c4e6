"""The import layers: the contract in pyproject.toml has no exceptions, lint-imports passes, and
every function-level import in the package says why it is not at the top of its module."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_the_layers_run_from_problem_and_theory_to_cli_without_exceptions() -> None:
    (contract,) = CONTRACT["contracts"]
    layers = [
        [m.strip() for m in layer.replace("|", ":").split(":")] for layer in contract["layers"]
    ]
    assert not contract.get("ignore_imports"), contract.get("ignore_imports")
    assert len(layers) >= 5
    assert "simcollapse.cli" in layers[1]
    assert "simcollapse.problem" in layers[-1]
    assert "simcollapse.theory" in layers[-2]


def _function_level_imports() -> list[tuple[str, int, str]]:
    """(file, line, source line) of every import inside a function of the package."""
    found = []
    for path in sorted((ROOT / "simcollapse").rglob("*.py")):
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        rel = str(path.relative_to(ROOT))
                        found.append((rel, node.lineno, lines[node.lineno - 1]))
    return sorted(set(found))


def test_every_function_level_import_says_why_and_none_hides_a_cycle() -> None:
    imports = _function_level_imports()
    assert imports  # the optional extras at least
    for path, line, text in imports:
        assert "PLC0415 - " in text, f"{path}:{line} gives no reason: {text.strip()}"
        reason = text.split("PLC0415 - ", 1)[1].lower()
        assert "cycle" not in reason and "upward" not in reason, f"{path}:{line}: {reason}"


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_lint_imports_passes() -> None:
    done = subprocess.run(
        ["lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
