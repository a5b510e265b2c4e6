"""Bad input to the mixing strategies: a ValueError naming the argument, the value and the range."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import mixing as sim
from simcollapse.theory.generations import accumulate_reference, replace_error, replace_ols_error
from simcollapse.theory.iterative import isotropic_iterative_error, iterative_error
from simcollapse.theory.weighted import weighted_error

PROB = sc.Problem.isotropic(20, c2=0.1)


def build(name: str, **params: object):
    """The setting's parameters checked as a call would: resolve() at n = 100, lam = 0."""
    return lambda: sc.settings.get(name).resolve({"n": 100, "lam": 0.0, **params})


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (build("weighted", p2=0.5, alpha=1.5), r"alpha must hold values in \[0, 1\]; got 1.5"),
        (build("weighted", p2=0.5, alpha=-0.1), r"alpha must hold values in \[0, 1\]; got -0.1"),
        (
            build("weighted", p2=0.5, alpha=float("nan")),
            r"alpha must be finite \(no NaN or inf\), got nan",
        ),
        (build("weighted", p2=1.2, alpha=0.5), r"p2 must hold values in \[0, 1\]; got 1.2"),
        (build("weighted", p2=0.0, alpha=0.3), r"alpha must be 0 where p2 = 0"),
        (build("weighted", p2=1.0, alpha=0.3), r"alpha must be 1 where p2 = 1"),
        (build("ridge", p2=-0.5), r"p2 must hold values in \[0, 1\]; got -0.5"),
        (build("iterative", p2=0.5, rounds=0), r"rounds must hold integers in \[1, inf\); got 0"),
        (
            build("iterative", p2=0.5, rounds=2.5),
            r"rounds must hold integers in \[1, inf\); got 2.5",
        ),
        (build("iterative", p2=0.5, reuse_real="yes"), r"reuse_real must be True or False"),
        (build("replace", generations=0), r"generations must hold integers in \[1, inf\); got 0"),
        (
            build("accumulate", generations=-3),
            r"generations must hold integers in \[1, inf\); got -3",
        ),
        (
            build("accumulate_subsample", generations=True),
            r"generations must be a number, got True",
        ),
        (
            build("accumulate_subsample", generations=3, sample_size=0),
            r"sample_size must hold integers in \[1, inf\); got 0",
        ),
    ],
)
def test_settings_reject_bad_parameters(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


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


def test_simulation_only_settings_say_so() -> None:
    for name, params in (("accumulate", dict(lam=1e-2, generations=3)),  # ridge: no formula
                         ("accumulate_subsample", dict(lam=0.0, generations=3)),
                         ("iterative", dict(lam=0.0, p2=0.5, rounds=3,
                                            reuse_real=True))):  # fmt: skip
        with pytest.raises(NotImplementedError, match="simulation only"):
            sc.settings.get(name).theory(PROB, n=100, **params)
    ref = accumulate_reference(PROB, 400, 3)
    np.testing.assert_allclose(ref, (20 / 400) * np.cumsum(1 / np.arange(1, 4) ** 2))
