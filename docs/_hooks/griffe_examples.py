"""Griffe extension: the house style's "Example:" heading read as Google style's "Examples:".

Griffe's Google parser knows only the plural heading; under the singular one the ``>>>`` lines
would render as nested block quotes instead of a code example.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename "Example:" to "Examples:" in every docstring before it is parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
