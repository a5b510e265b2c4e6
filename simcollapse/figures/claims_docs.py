"""Write the claims into the docs: docs/paper.md's claims table and README's picture captions.

Both are generated from figures/claims.csv (the committed default run) between markers, so a
changed number changes the text; ``python -m simcollapse.figures.claims_docs`` rewrites them and
the tests check that they are up to date.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from simcollapse.figures.claims import (
    BEGIN,
    CAPTIONS_BEGIN,
    CAPTIONS_END,
    CLAIMS_FILE,
    END,
    captions_markdown,
    claims_markdown,
    replace_between,
)

__all__ = ["README_CAPTIONS", "render", "write"]

# The figures pictured in the README, each captioned by the sentences of these claims.
README_CAPTIONS: dict[str, tuple[str, ...]] = {
    "pareto": (
        "mix-worse-than-real",
        "gap-grows-with-width-below-threshold",
        "gap-shrinks-with-width-beyond-threshold",
        "gap-never-zero-beyond-threshold",
    ),
    "scaling_plateau": ("plateau-at-p2-squared-c2", "smallest-p2-stops-the-law"),
    "model_size_regimes": (
        "low-quality-wider-amplifies",
        "low-quality-wider-mitigates-beyond-threshold",
        "high-quality-wider-better",
    ),
    "width_double_descent": (
        "peak-at-m-equals-n",
        "synthetic-term-grows-below-threshold",
        "synthetic-term-shrinks-beyond-threshold",
        "synthetic-term-never-vanishes",
    ),
    "theory_vs_simulation": ("every-gaussian-figure", "simulation-within-3-se"),
}
FILES = {"docs/paper.md": (BEGIN, END), "README.md": (CAPTIONS_BEGIN, CAPTIONS_END)}


def _example_checkout() -> Path:
    """A temporary checkout for the examples: every claim of ``README_CAPTIONS`` in
    figures/claims.csv (its sentence "<id>.", measured 1 > 0, holds), and docs/paper.md and
    README.md holding nothing but their markers."""
    root = Path(tempfile.mkdtemp())
    (root / "figures").mkdir()
    (root / "docs").mkdir()
    rows = [
        dict(
            figure=f,
            claim=c,
            sentence=f"{c}.",
            measured=1.0,
            comparison=">",
            threshold=0.0,
            holds=True,
            level="default",
        )
        for f, ids in README_CAPTIONS.items()
        for c in ids
    ]
    pd.DataFrame(rows).to_csv(root / "figures" / CLAIMS_FILE, index=False)
    (root / "docs/paper.md").write_text(f"# Claims\n{BEGIN}\n{END}\n")
    (root / "README.md").write_text(f"{CAPTIONS_BEGIN}\n{CAPTIONS_END}\n")
    return root


def render(root: Path) -> dict[str, str]:
    """The new text of docs/paper.md and README.md under ``root`` (nothing written).

    Args:
      root: a checkout: figures/claims.csv holds every claim of ``README_CAPTIONS``;
        docs/paper.md and README.md hold the claims and captions markers.

    Returns:
      Relative path -> the file's text with the part between its markers regenerated.

    Raises:
      ValueError: a file without its markers.

    Example:
      >>> root = _example_checkout()
      >>> text = render(root)
      >>> print(text["README.md"].splitlines()[2])
      * **scaling_plateau**: plateau-at-p2-squared-c2. smallest-p2-stops-the-law.
      >>> print(text["docs/paper.md"].splitlines()[-2])  # doctest: +NORMALIZE_WHITESPACE
      | `theory_vs_simulation` | `theory_vs_simulation/simulation-within-3-se` |
      simulation-within-3-se. | 1 | > 0 | yes |
    """
    root = Path(root)
    claims = pd.read_csv(root / "figures" / CLAIMS_FILE)
    bodies = {
        "docs/paper.md": claims_markdown(claims),
        "README.md": captions_markdown(claims, README_CAPTIONS),
    }
    return {
        rel: replace_between((root / rel).read_text(), *FILES[rel], bodies[rel]) for rel in FILES
    }


def write(root: Path) -> list[str]:
    """Rewrite the generated parts of the docs under ``root``; the files that changed.

    Args:
      root: a checkout, as for ``render``.

    Returns:
      The relative paths of the files rewritten (those whose text ``render`` changed).

    Example:
      >>> root = _example_checkout()
      >>> write(root), write(root)  # the second time nothing changes
      (['docs/paper.md', 'README.md'], [])
    """
    changed = []
    for rel, text in render(root).items():
        if (Path(root) / rel).read_text() != text:
            (Path(root) / rel).write_text(text)
            changed.append(rel)
    return changed


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    print("\n".join(write(root)) or "up to date")
