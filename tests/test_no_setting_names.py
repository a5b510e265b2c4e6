"""Outside settings/ and the alias tables, no code branches on a setting's name: a sweep, a
figure or a benchmark asks the setting (its axes, its fast path) instead."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1] / "simcollapse"
ALLOWED = {ROOT / "_aliases.py", ROOT / "_cli_settings.py"}
NAME = r"""["'](?:rp|ridge|random_projection)["']"""
# ==/!= either side, `in (...)`/`in [...]`/`in {...}` holding the name, `"ridge" in x`, a case.
COMPARISONS = re.compile(
    rf"(?:==|!=)\s*{NAME}|{NAME}\s*(?:==|!=)|\bin\s*[(\[{{][^)\]}}]*{NAME}"
    rf"|{NAME}\s+(?:not\s+)?in\b|\bcase\s+{NAME}"
    # membership in the canonical names of the alias table is a branch on the name too
    r"|\bin\s+MODELS\.values\(\)"
)


def offending_lines() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path in ALLOWED or (ROOT / "settings") in path.parents:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if COMPARISONS.search(line):
                found.append(f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}")
    return found


def test_the_pattern_finds_comparisons_with_a_setting_name() -> None:
    for line in (
        'if spec.model == "rp":',
        "if 'ridge' != name:",
        'x in ("ridge", "rp")',
        'if "random_projection" in names:',
        'case "ridge":',
        "m if kind == 'rp' else d",
        "if spec.setting not in MODELS.values():",
    ):
        assert COMPARISONS.search(line), line
    for line in (
        'setting="random_projection"',
        'get("ridge")',
        'label = "ridge (m = ∞)"',
        "for name in names:",
        'MODELS = {"ridge": "ridge"}',
    ):
        assert not COMPARISONS.search(line), line


def test_no_code_outside_settings_compares_with_a_setting_name() -> None:
    found = offending_lines()
    assert not found, "branch on the setting's declaration, not its name:\n" + "\n".join(found)
