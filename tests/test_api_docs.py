"""Every public function and class is in the API reference, with an example that runs as a doctest.

The reference pages are the ``:::`` directives that ``docs/_hooks/api_pages.py`` writes, one page
per public module; mkdocstrings renders a module's ``__all__`` (or, without one, the public names
defined in it) and skips objects without a docstring. The examples are the ``>>>`` lines that
``--doctest-modules`` (pytest's configuration in pyproject.toml) collects from the module that
defines each object. Whether a docstring states the formula or paper equation it implements is
checked by reading, not here.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_pages", ROOT / "docs/_hooks/api_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = _hook()
# The optional subpackages need their extras (flax, tokenizers); without them they are left out.
OPTIONAL = {"simcollapse.neural", "simcollapse.lm", "simcollapse.bench"}


def _import(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        if module in OPTIONAL:
            return None
        raise


def _is_api_object(obj: Any) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def _public(module: ModuleType, *, rendered: bool = False) -> dict[str, Any]:
    """The names mkdocstrings renders for a module: its ``__all__``, else what it defines.

    With ``rendered``, a name that is also a submodule's (``figures.registry``, a function
    exported by the module of that name) is left out: mkdocstrings reads it statically as the
    submodule, which a page does not render.
    """
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        ]
    path = getattr(module, "__path__", None)
    submodules = {m.name for m in pkgutil.iter_modules(path)} if path and rendered else set()
    return {name: getattr(module, name) for name in names if name not in submodules}


def _resolve(identifier: str) -> Any:
    parts = identifier.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(identifier)


def _rendered() -> set[int]:
    """ids of the objects the reference pages render (each with a docstring)."""
    shown: set[int] = set()
    for module, _, _ in HOOK.MODULES:
        if _import(module) is None:
            continue
        for identifier, options in HOOK.directives(module):
            obj = _resolve(identifier)
            if inspect.ismodule(obj):
                if options.get("members", True) is not False:
                    shown.update(id(o) for o in _public(obj, rendered=True).values())
            else:
                shown.add(id(obj))
    return shown


def _api() -> dict[str, Any]:
    """Every public function and class: the public modules' names, keyed by where they live."""
    found: dict[str, Any] = {}
    for module, _, _ in HOOK.MODULES:
        mod = _import(module)
        if mod is None:
            continue
        modules = [mod] + [_resolve(i) for i, _ in HOOK.directives(module)[1:]]
        for source in modules:
            names = _public(source) if inspect.ismodule(source) else {source.__name__: source}
            for obj in names.values():
                if _is_api_object(obj):
                    found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


API = _api()
_EXAMPLES: dict[str, set[str]] = {}


def _doctests_of(module: str) -> set[str]:
    """Names of the objects of ``module`` whose docstrings hold examples pytest's doctest runs."""
    if module not in _EXAMPLES:
        tests = doctest.DocTestFinder().find(sys.modules[module], module)
        _EXAMPLES[module] = {t.name for t in tests if t.examples}
    return _EXAMPLES[module]


def test_the_walk_finds_the_public_api() -> None:
    assert len(API) > 100
    import simcollapse

    for name in simcollapse.__all__:
        obj = getattr(simcollapse, name)
        if _is_api_object(obj):
            assert f"{obj.__module__}.{obj.__qualname__}" in API, name


def test_every_public_module_has_a_reference_page() -> None:
    pages = {module for module, _, _ in HOOK.MODULES}
    for sub in ("theory", "simulate", "settings", "sweep", "analysis", "neural", "lm", "bench"):
        assert f"simcollapse.{sub}" in pages


@pytest.mark.parametrize("path", list(API))
def test_public_object_is_in_the_reference(path: str) -> None:
    obj = API[path]
    assert inspect.getdoc(obj), f"{path} has no docstring, so mkdocstrings leaves it out"
    assert id(obj) in RENDERED, f"{path} is on no API page (docs/_hooks/api_pages.py)"


@pytest.mark.parametrize("path", list(API))
def test_public_object_has_a_doctest_example(path: str) -> None:
    obj = API[path]
    assert path in _doctests_of(obj.__module__), f"{path}: no '>>>' example in its docstring"


RENDERED = _rendered()


def _all_public() -> dict[str, Any]:
    """Every function and class in the ``__all__`` of a public module (no part of its dotted
    path starts with an underscore), the API pages' and the submodules' alike."""
    import simcollapse

    found: dict[str, Any] = {}
    for info in pkgutil.walk_packages(simcollapse.__path__, "simcollapse."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        top = ".".join(info.name.split(".")[:2])
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            if top in OPTIONAL:
                continue
            raise
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            # a kernel made by engine.kernel_form is a closure: its example is kernel_form's
            if _is_api_object(obj) and "<locals>" not in obj.__qualname__:
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


ALL_PUBLIC = _all_public()


def test_the_submodule_walk_reaches_beyond_the_reference_pages() -> None:
    beyond = set(ALL_PUBLIC) - set(API)  # the submodules' own names
    assert len(beyond) > 50
    assert {"simcollapse.style.palette", "simcollapse.sweep.planning.Chunk"} <= beyond


@pytest.mark.parametrize("path", sorted(set(ALL_PUBLIC) - set(API)))
def test_a_public_submodule_name_has_a_doctest_example(path: str) -> None:
    obj = ALL_PUBLIC[path]
    assert inspect.getdoc(obj), f"{path} has no docstring"
    assert path in _doctests_of(obj.__module__), f"{path}: no '>>>' example in its docstring"
