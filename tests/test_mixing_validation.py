"""Bad input to the mixing strategies: a ValueError naming the argument, the value and the range."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import mixing as sim
from simcollapse.strategies import (
    Accumulate,
    AccumulateSubsample,
    Iterative,
    Replace,
    Unweighted,
    Weighted,
)
from simcollapse.theory.generations import accumulate_reference, replace_error, replace_ols_error
from simcollapse.theory.iterative import isotropic_iterative_error, iterative_error
from simcollapse.theory.weighted import weighted_error

PROB = sc.Problem.isotropic(20, c2=0.1)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Weighted(0.5, 1.5), r"alpha must be in \[0, 1\], got 1.5"),
        (lambda: Weighted(0.5, -0.1), r"alpha must be in \[0, 1\], got -0.1"),
        (lambda: Weighted(0.5, float("nan")), r"alpha must be in \[0, 1\], got nan"),
        (lambda: Weighted(1.2, 0.5), r"p2 must be in \[0, 1\], got 1.2"),
        (lambda: Weighted(0.0, 0.3), r"alpha must be 0 where p2 = 0"),
        (lambda: Weighted(1.0, 0.3), r"alpha must be 1 where p2 = 1"),
        (lambda: Unweighted(-0.5), r"p2 must be in \[0, 1\], got -0.5"),
        (lambda: Iterative(0.5, 0), r"rounds must be an integer >= 1, got 0"),
        (lambda: Iterative(0.5, 2.5), r"rounds must be an integer >= 1, got 2.5"),
        (lambda: Iterative(0.5, 2, reuse_real="yes"), r"reuse_real must be True or False"),
        (lambda: Replace(0), r"generations must be an integer >= 1, got 0"),
        (lambda: Accumulate(-3), r"generations must be an integer >= 1, got -3"),
        (lambda: AccumulateSubsample(True), r"generations must be an integer >= 1, got True"),
        (lambda: AccumulateSubsample(3, sample_size=0), r"sample_size must be an integer >= 1"),
    ],
)
def test_strategies_reject_bad_parameters(build, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: weighted_error(PROB, 100, 0.0, 0.5, 1.5), r"alpha .*\[0, 1\]"),
        (lambda: weighted_error(PROB, 100, -1.0, 0.5, 0.5), r"lam .*\[0, inf\)"),
        (lambda: weighted_error(PROB, 0, 0.0, 0.5, 0.5), r"n .*\[1, inf\)"),
        (lambda: weighted_error(PROB, 100, 0.0, [0.1, 0.2], [0.1, 0.2, 0.3]), r"broadcast"),
        (lambda: iterative_error(PROB, 100, 0.0, 0.5, 0), r"rounds must .*\[1, inf\)"),
        (lambda: iterative_error(PROB, 100, 0.0, 1.5, 3), r"p2 .*\[0, 1\]"),
        (lambda: replace_error(PROB, 100, 0.0, 0), r"generations must .*\[1, inf\)"),
        (lambda: replace_ols_error(PROB, 21, 3), r"n .*\(21, inf\)"),
        (lambda: accumulate_reference(PROB, 100, 0), r"generations"),
        (lambda: isotropic_iterative_error(1.0, 0.5, 1.0, 1.0, 3), r"phi .*\(0, 1\)"),
        (lambda: sim.weighted_error(PROB, 100, 0.0, 0.5, -0.2, key=0, reps=2), r"alpha"),
        (lambda: sim.weighted_error(PROB, 10.5, 0.0, 0.5, 0.5, key=0, reps=2), r"n .*integers"),
        (lambda: sim.iterative_error(PROB, 100, 0.0, 0.5, 0, key=0, reps=2), r"rounds"),
        (lambda: sim.replace_error(PROB, 100, 0.0, 2, key=0, reps=0), r"reps .*\[1, inf\)"),
        (lambda: sim.accumulate_error(PROB, 100, 0.0, 0, key=0, reps=2), r"generations"),
        (
            lambda: sim.accumulate_subsample_error(PROB, 50, 0.0, 2, key=0, reps=2, sample_size=60),
            r"sample_size must be at most n",
        ),
        (lambda: sim.replace_error(PROB, 100, 0.0, 2, key=0, reps=2, dtype="f16"), r"dtype"),
    ],
)
def test_functions_reject_bad_input(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_simulation_only_strategies_say_so() -> None:
    for strat in (Accumulate(3), AccumulateSubsample(3), Iterative(0.5, 3, reuse_real=True)):
        with pytest.raises(NotImplementedError, match="simulation only"):
            strat.theory(PROB, 100, 0.0)
    ref = Accumulate(3).reference(PROB, 400)
    np.testing.assert_allclose(ref, (20 / 400) * np.cumsum(1 / np.arange(1, 4) ** 2))


def test_strategies_are_frozen_and_hashable() -> None:
    s = Weighted(0.5, 0.2)
    with pytest.raises(AttributeError):
        s.alpha = 0.3  # type: ignore[misc]
    assert {s, Weighted(0.5, 0.2)} == {s}
    assert Iterative(0.5, 3.0).rounds == 3 and isinstance(Iterative(0.5, 3.0).rounds, int)
