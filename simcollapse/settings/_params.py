"""Parameter declarations shared by several settings (one place for each range)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simcollapse import theory as public
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings.base import (
    LENGTH,
    OPTION,
    RECOMBINE,
    SOLVE,
    Param,
    SimulateFn,
    TheoryFn,
)
from simcollapse.simulate.driver import MonteCarlo

N = Param("n", SOLVE, low=1, integer=True, doc="training rows (per round / generation)")
M = Param("m", SOLVE, low=1, integer=True, doc="random-projection width")
LAM = Param("lam", SOLVE, low=0.0, default=0.0, doc="ridge penalty")
P2 = Param("p2", RECOMBINE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction")
P2_SOLVE = Param("p2", SOLVE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction")
ROUNDS = Param("rounds", LENGTH, low=1, integer=True, default=1, doc="rounds T of refitting")
GENERATIONS = Param(
    "generations", LENGTH, low=1, integer=True, default=1, doc="generations G of the loop"
)

DESIGN = Param(
    "design", OPTION, default="fresh", choices=("fresh", "fixed"),
    doc="fresh: new inputs every generation; fixed: generation 1's n inputs relabelled",
)  # fmt: skip
OLS = Param(
    "ols", OPTION, default="equivalent", choices=("exact", "equivalent"),
    doc="least squares (lam = 0): the exact finite-n value or the deterministic equivalent",
)  # fmt: skip
N_SYNTHETIC = Param(
    "n_synthetic", OPTION, low=1, integer=True, default=None,
    doc="rows added per generation after the first (fresh design; default: n)",
)  # fmt: skip


def theory_of(name: str, names: tuple[str, ...]) -> TheoryFn:
    """A setting's ``theory_fn`` from ``simcollapse.theory.<name>(problem, *names, throw=...)``
    (looked up at call time, so the public function is the one that runs)."""

    def theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:

        return getattr(public, name)(problem, *(p[k] for k in names), throw=throw)

    return theory


def simulation_of(
    fn: Callable[..., ErrorTerms], names: tuple[str, ...], options: tuple[str, ...] = ()
) -> SimulateFn:
    """A setting's ``simulate_fn`` from a ``simulate.*_error(problem, *names, key, reps, ...)``
    whose keywords are ``options`` plus dtype and batch."""

    def simulate(problem: Problem, p: dict[str, Any], mc: MonteCarlo) -> ErrorTerms:
        kw = {k: p[k] for k in options}
        return fn(problem, *(p[k] for k in names), mc.key, mc.reps, dtype=mc.dtype,
                  batch=mc.batch, **kw)  # fmt: skip

    return simulate
