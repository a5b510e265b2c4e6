"""The documentation stays correct: README is short and its links resolve, the docs' links resolve,
nothing cites a file outside the repository, and the tutorials are what their generator writes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")
EXTERNAL = ("http://", "https://", "mailto:")
GENERATED = ("api/",)  # pages the documentation build writes (docs/_hooks/api_pages.py)


def _local_links(path: Path) -> list[str]:
    return [m[1] for m in LINK.finditer(path.read_text()) if not m[1].startswith(EXTERNAL)]


def test_readme_is_short_and_keeps_the_test_command() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 200
    assert sum("# test-command" in line for line in lines) == 1
    # .ci/run runs the line marked main-command as written: the first of README's two commands
    (main,) = [i for i, line in enumerate(lines) if "# main-command" in line]
    assert "simcollapse figures --quick" in lines[main] and "# test-command" in lines[main + 1]


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
)
def test_relative_links_resolve(page: str) -> None:
    path = ROOT / page
    links = [link for link in _local_links(path) if not link.startswith(GENERATED)]
    missing = [link for link in links if not (path.parent / link).exists()]
    assert not missing, f"{page} links to missing files: {missing}"


def test_nothing_cites_a_file_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    forbidden = "THEORY" + ".md"  # spelled apart so that this file does not match itself
    offenders = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        and name.endswith((".py", ".md", ".toml", ".yml", ".cff", ".ipynb"))
        and forbidden in (ROOT / name).read_text(errors="ignore")
    ]
    assert not offenders


def test_tutorials_are_what_their_generator_writes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(ROOT / "docs" / "tutorials"))
    try:
        import make_notebooks
    finally:
        sys.path.pop(0)
    for name, cells in make_notebooks.NOTEBOOKS.items():
        stored = nbformat.read(ROOT / "docs" / "tutorials" / name, as_version=4)
        assert [c.source for c in stored.cells] == [c.source for c in cells], name
