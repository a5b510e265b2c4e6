"""MkDocs hooks: the API reference pages and the repository's figures in the site.

* One API page per public module of simcollapse that exists in this checkout, rendered by
  mkdocstrings from the docstrings; a module that is not there (yet) is simply left out, so the
  reference grows with the package without editing mkdocs.yml.
* A page added to ``docs/`` without a place in the nav joins the guides.
* Notebook pages get their links to other pages (``../theory.md#...``) resolved.
* The figures (``figures/*.png``) and benchmark plots (``benchmarks/results/*.png``) live outside
  ``docs/``: they are copied into the site, and page links written for reading the Markdown on
  disk (``../figures/x.png``) are pointed at the copies.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parents[2]

# (module, page title, one-line description), in the order of the data flow.
MODULES = [
    ("simcollapse", "simcollapse", "The public layer: everything users call is re-exported here."),
    ("simcollapse.problem", "Problem", "The spectrum, teacher, shift and noise of a problem."),
    ("simcollapse.data_problems", "Problems from data", "Problems from a covariance or data."),
    ("simcollapse.grid", "Grids", "How list arguments combine, and the full grid by name."),
    ("simcollapse.results", "Results", "ErrorTerms, Status and FixedPoint: shared result types."),
    ("simcollapse.keys", "keys", "Randomness: key= is an int or a jax.random key."),
    ("simcollapse.theory", "theory", "Deterministic equivalents in float64 (see the theory page)."),
    ("simcollapse.simulate", "simulate", "Monte Carlo with the same signatures as the theory."),
    ("simcollapse.settings", "settings", "The Setting protocol and its registry."),
    ("simcollapse.sweep", "sweep", "Sweeps from TOML or Python, stored and resumable."),
    ("simcollapse.store", "store", "The result store."),
    ("simcollapse.analysis", "analysis", "Fitted floors and scaling exponents."),
    ("simcollapse.figures", "figures", "The figure registry and runner."),
    ("simcollapse.neural", "neural", "MNIST experiments: random features and two-layer networks."),
    ("simcollapse.lm", "lm", "Language models on real plus synthetic stories."),
    ("simcollapse.bench", "bench", "Benchmarks against NumPy/SciPy baselines."),
]

FIGURE_DIRS = ("figures", "benchmarks/results")
# A notebook's Markdown links (``../theory.md#theorem-1``) are not resolved by MkDocs.
_NOTEBOOK_LINK = re.compile(r'href="\.\./([\w-]+)\.md(#[^"]*)?"')
_LINK = re.compile(r"\]\(\.\./(" + "|".join(re.escape(d) for d in FIGURE_DIRS) + r")/")


def _present() -> list[tuple[str, str, str]]:
    return [m for m in MODULES if importlib.util.find_spec(m[0]) is not None]


# Public objects rendered on a module's page besides the module itself: names re-exported only by
# the top-level package, the NumPy/SciPy baselines the benchmarks time against, and names that
# mkdocstrings cannot render from ``__all__``.
EXTRA = {
    "simcollapse": [
        "simcollapse.MonteCarlo",
        "simcollapse.enable_compilation_cache",
        "simcollapse.compilation_cache_dir",
    ],
    "simcollapse.bench": ["simcollapse.bench.baselines"],
    # A name that is both a submodule and the function it exports: griffe sees the module.
    "simcollapse.figures": ["simcollapse.figures.registry.registry"],
    "simcollapse.lm": ["simcollapse.lm.train.train"],
}
# The top-level package re-exports names documented on their own pages: show its docstring only.
DOCSTRING_ONLY = {"simcollapse"}


def directives(module: str) -> list[tuple[str, dict[str, object]]]:
    """The ``:::`` directives of a module's page: (identifier, mkdocstrings options)."""
    options: dict[str, object] = {"members": False} if module in DOCSTRING_ONLY else {}
    return [(module, options)] + [(name, {}) for name in EXTRA.get(module, [])]


def _directive(identifier: str, options: dict[str, object]) -> str:
    lines = [f"::: {identifier}"]
    if options:
        lines.append("    options:")
        lines += [f"      {key}: {str(value).lower()}" for key, value in options.items()]
    return "\n".join(lines)


def _page(module: str, title: str, blurb: str) -> str:
    body = "\n\n".join(_directive(*d) for d in directives(module))
    return f"# {title}\n\n{blurb}\n\n{body}\n"


def _nav_files(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*(_nav_files(v) for v in nav.values()))
    if isinstance(nav, list):
        return set().union(*(_nav_files(v) for v in nav))
    return set()


def _title(page: Path) -> str:
    for line in page.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return page.stem


def on_config(config):  # noqa: ANN001, ANN201 (MkDocs hook signature)
    # Pages added to docs/ without a place in the nav join the guides.
    listed = _nav_files(config["nav"])
    extra = [
        {_title(page): page.name}
        for page in sorted(Path(config["docs_dir"]).glob("*.md"))
        if page.name not in listed and page.name != "README.md"
    ]
    for section in config["nav"]:
        if isinstance(section, dict) and "Guides" in section:
            section["Guides"].extend(extra)
    pages = [{title: f"api/{module}.md"} for module, title, _ in _present()]
    config["nav"].append({"API reference": [{"Overview": "api/index.md"}, *pages]})
    return config


def on_files(files: Files, config) -> Files:  # noqa: ANN001
    from mkdocs.structure.files import File

    present = _present()
    index = ["# API reference\n", "Generated from the docstrings of every public module.\n"]
    index += [f"* [`{m}`]({m}.md): {blurb}" for m, _, blurb in present]
    files.append(File.generated(config, "api/index.md", content="\n".join(index) + "\n"))
    for module, title, blurb in present:
        page = _page(module, title, blurb)
        files.append(File.generated(config, f"api/{module}.md", content=page))
    for folder in FIGURE_DIRS:
        for png in sorted((ROOT / folder).glob("*.png")):
            files.append(File.generated(config, f"{folder}/{png.name}", abs_src_path=str(png)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    return _LINK.sub(r"](\1/", markdown)


def on_post_page(output: str, page, config) -> str:  # noqa: ANN001
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    return _NOTEBOOK_LINK.sub(lambda m: f'href="../../{m[1]}/{m[2] or ""}"', output)
