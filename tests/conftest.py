"""Shared test setup: Agg backend, one XLA CPU thread per op, GPU tests skipped without a GPU.

The suite runs many small XLA programs on a 2-core machine; Eigen's intra-op thread pool costs
more in synchronisation than it gains there (measured: 13 s -> 5 s for a 48-draw simulation on a
busy 2-core box), so the tests turn it off unless XLA_FLAGS is already set. Results do not depend
on it beyond floating-point rounding.

Commands run in-process or as subprocesses would turn on the persistent compilation cache; the
tests keep it off (SIMCOLLAPSE_XLA_CACHE=off), so that no test reads or writes programs on disk
(jaxlib 0.10's CPU cache was seen to crash writing or reading some of them in a long process).
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
os.environ.setdefault("SIMCOLLAPSE_XLA_CACHE", "off")

import matplotlib  # noqa: E402

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


# Property-based tests: a fixed, modest set of examples (CI has 2 cores). HYPOTHESIS_PROFILE=deep
# explores more (and at random) on a developer machine.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("deep", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="module")
def _fresh_jax_caches():
    """Drop JAX's in-memory compiled programs after each test module.

    The quick suite compiles thousands of small programs in one process; kept alive together
    they have crashed XLA's CPU compiler late in the run (a segfault inside compilation, never
    reproduced in a shorter process). Each module starts from empty caches instead.
    """
    yield
    jax.clear_caches()
