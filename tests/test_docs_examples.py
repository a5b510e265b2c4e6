"""Every Python and shell block of README.md and docs/*.md runs, as a reader would run it.

Blocks are found with mktestdocs (``grab_code_blocks``). For each page:

* its ```` ```python ```` blocks run in order in one fresh Python process, sharing their names
  (as a reader pastes them into one session); then each ```` ```bash ```` block runs on its own
  with ``bash -e -u -o pipefail``;
* everything runs in an empty temporary folder, with ``HOME`` there too, so nothing in the
  repository (or the home folder) is written; each test checks that ``git status`` is unchanged;
* a ```` ```toml ```` block whose first line is ``# NAME.toml`` is written to ``NAME.toml`` in that
  folder first (the spec the page's commands read); every TOML block must parse;
* a block right after a line starting with ``*Illustrative, not run`` is not run: the line is
  visible on the page and says why (installation and build commands that CI runs in a fresh
  environment, several hosts, files that do not ship); ``ILLUSTRATIVE`` pins how many there are;
* long blocks run at small sizes: ``SMALL`` replaces text in a page before its blocks are taken
  (each replacement must still match the page). A figure command becomes ``--list`` with the same
  figure names and flags (names and flags checked, nothing computed: the figures' own tests
  compute them); any other replacement changes numbers only (a Monte Carlo's draw count).
  ``SIMCOLLAPSE_DOCS_AS_WRITTEN=1`` turns the replacements off, as does the ``slow`` copy of each
  page's test (``-m slow``), which runs every block as written.

Every fence names its language (``python``, ``bash``, ``toml`` or ``text``), so that no command
hides in an unlabelled block.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

mktestdocs = pytest.importorskip("mktestdocs")

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LANGUAGES = {"python", "bash", "toml", "text"}
MARKER = "*Illustrative, not run"
ILLUSTRATIVE = 8  # the blocks marked illustrative across README.md and docs/*.md
TIMEOUT_S = 600

_FIGURES_QUICK = re.compile(r"simcollapse figures --quick (--only [\w ]+?) --out [\w-]+")

# Page -> (text as written, text run by the quick test). Kept small: a replacement shrinks a
# size, never changes what a block shows.
SMALL: dict[str, list[tuple[str, str]]] = {
    "README.md": [
        ("sc.MonteCarlo(key=0, reps=32), lam=1e-3", "sc.MonteCarlo(key=0, reps=4), lam=1e-3"),
        ("--p2 0.1 --reps 32 --json", "--p2 0.1 --reps 4 --json"),
    ],
    "docs/mixing.md": [("sc.MonteCarlo(key=0, reps=32)", "sc.MonteCarlo(key=0, reps=4)")],
    "docs/analysis.md": [("p2=[0.0, 0.1], key=0, reps=16)", "p2=[0.0, 0.1], key=0, reps=4)")],
    "docs/lm.md": [
        (
            "simcollapse figures --quick --only lm_synthetic_fraction lm_model_size lm_depth"
            " --out figures-quick",
            "simcollapse figures --list --only lm_synthetic_fraction lm_model_size lm_depth",
        ),
    ],
    "docs/mnist.md": [
        (
            "simcollapse figures --quick --only mnist_random_features mnist_two_layer"
            " --out figures-quick",
            "simcollapse figures --list --only mnist_random_features mnist_two_layer",
        ),
    ],
    "docs/realdata.md": [
        (
            "simcollapse figures --quick --only mnist_theory_vs_experiment --out figures-quick",
            "simcollapse figures --list --only mnist_theory_vs_experiment",
        ),
    ],
    "docs/paper.md": [
        (
            "simcollapse figures --quick --only fig1 fig2 --out my-figures",
            "simcollapse figures --list --only fig1 fig2",
        ),
    ],
}


def _fence_languages(text: str) -> list[str]:
    """The language of each opening fence, in order (fences alternate open, close)."""
    fences = [line.strip()[3:].strip() for line in text.splitlines() if line.strip()[:3] == "```"]
    return fences[::2]


def _split_illustrative(text: str) -> tuple[str, int]:
    """The page without its illustrative blocks, and how many there were."""
    pattern = re.compile(
        r"^([ \t]*)\*Illustrative, not run[^\n]*\n(?:[ \t]*\n)*\1```.*?\n\1```\n", re.M | re.S
    )
    return pattern.subn(lambda m: "", text)


def _page_blocks(page: str, small: bool) -> tuple[dict[str, list[str]], int]:
    text = (ROOT / page).read_text()
    if small:
        for old, new in SMALL.get(page, []):
            assert old in text, f"{page}: the replacement for {old!r} no longer matches"
            text = text.replace(old, new)
    runnable, n_illustrative = _split_illustrative(text)
    blocks = {lang: mktestdocs.grab_code_blocks(runnable, lang=lang) for lang in LANGUAGES}
    return blocks, n_illustrative


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


_RUNNER = """
import json, sys
ns = {"__name__": "__main__"}
for name, source in json.load(open(sys.argv[1])):
    exec(compile(source, name, "exec"), ns)
"""


def _run_page(page: str, small: bool, tmp_path: Path) -> None:
    blocks, _ = _page_blocks(page, small)
    if not blocks["python"] and not blocks["bash"]:
        pytest.skip(f"{page} has no runnable block")
    work = tmp_path / "work"
    work.mkdir()
    for source in blocks["toml"]:
        first = source.splitlines()[0].strip()
        if re.fullmatch(r"# [\w.-]+\.toml", first):
            (work / first[2:]).write_text(source)
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    before = _git_status()
    if blocks["python"]:
        named = [[f"{page} python block {i + 1}", s] for i, s in enumerate(blocks["python"])]
        (tmp_path / "blocks.json").write_text(json.dumps(named))
        out = subprocess.run(
            [sys.executable, "-c", _RUNNER, str(tmp_path / "blocks.json")],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        assert out.returncode == 0, f"{page}: a python block failed\n{out.stdout}\n{out.stderr}"
    for i, source in enumerate(blocks["bash"]):
        out = subprocess.run(
            ["bash", "-e", "-u", "-o", "pipefail", "-c", source],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        assert out.returncode == 0, (
            f"{page} bash block {i + 1} failed:\n{source}\n{out.stdout}\n{out.stderr}"
        )
    assert _git_status() == before, f"{page}: its blocks changed the repository"


@pytest.mark.parametrize("page", PAGES)
def test_page_blocks_run(page: str, tmp_path: Path) -> None:
    small = os.environ.get("SIMCOLLAPSE_DOCS_AS_WRITTEN", "") != "1"
    _run_page(page, small, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(SMALL))
def test_page_blocks_run_as_written(page: str, tmp_path: Path) -> None:
    _run_page(page, False, tmp_path)


@pytest.mark.parametrize("page", PAGES)
def test_every_fence_names_its_language(page: str) -> None:
    languages = _fence_languages((ROOT / page).read_text())
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    assert not unknown, f"{page}: fences must be one of {sorted(LANGUAGES)}, found {unknown}"


@pytest.mark.parametrize("page", PAGES)
def test_toml_blocks_parse(page: str) -> None:
    blocks, _ = _page_blocks(page, small=False)
    for source in blocks["toml"]:
        tomllib.loads(source)


def test_illustrative_blocks_are_few_and_counted() -> None:
    counts = {page: _page_blocks(page, small=False)[1] for page in PAGES}
    marked = {
        page: sum(
            line.lstrip().startswith(MARKER) for line in (ROOT / page).read_text().splitlines()
        )
        for page in PAGES
    }
    assert counts == marked, "every marker line must sit right above a fenced block"
    assert sum(counts.values()) == ILLUSTRATIVE, counts


def test_the_replacements_keep_the_figure_names() -> None:
    """A figure command keeps its figure names; any other replacement changes numbers only."""
    for page, pairs in SMALL.items():
        for old, new in pairs:
            match = _FIGURES_QUICK.search(old)
            if match:
                assert match[1] in new, (page, old, new)
            else:
                assert re.sub(r"\d+", "#", old) == re.sub(r"\d+", "#", new), (page, old, new)
