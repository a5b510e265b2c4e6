"""Shared test setup: Agg backend, and GPU tests skipped cleanly where JAX sees no GPU."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import jax  # noqa: E402
import pytest  # noqa: E402


def _has_gpu() -> bool:
    try:
        return any(d.platform == "gpu" for d in jax.devices())
    except RuntimeError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs a GPU; JAX sees none")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
