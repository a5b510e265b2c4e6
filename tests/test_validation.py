"""Bad input gives a ValueError naming the parameter and the allowed range."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.results import FixedPointError, Status

PROB = sc.Problem.isotropic(20, c2=0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n=100, lam=0.0, p2=1.5), r"p2 .*\[0, 1\]"),
        (dict(n=100, lam=0.0, p2=-0.1), r"p2 .*\[0, 1\]"),
        (dict(n=100, lam=-1e-3, p2=0.1), r"lam .*\[0, inf\)"),
        (dict(n=0, lam=0.0, p2=0.1), r"n .*\[1, inf\)"),
        (dict(n=100, lam=np.nan, p2=0.1), r"lam must be finite"),
        (dict(n=100, lam=0.0, p2=np.array([0.1, np.nan])), r"p2 must be finite"),
        (dict(n=np.ones(3) * 100, lam=np.zeros(2), p2=0.1), r"do not broadcast"),
    ],
)
def test_ridge_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sc.theory.ridge_error(PROB, **kwargs)
    with pytest.raises(ValueError, match=match):
        sc.simulate.ridge_error(PROB, key=0, reps=2, **kwargs)


def test_rp_bad_width() -> None:
    with pytest.raises(ValueError, match=r"m .*\[1, inf\)"):
        sc.theory.rp_error(PROB, 100, 0, 0.0, 0.1)
    with pytest.raises(ValueError, match=r"m .*integers"):
        sc.simulate.rp_error(PROB, 100, 10.5, 0.0, 0.1, key=0, reps=2)


def test_simulation_needs_integer_sizes_and_reps() -> None:
    with pytest.raises(ValueError, match=r"n must hold integers"):
        sc.simulate.ridge_error(PROB, 100.5, 0.0, 0.1, key=0, reps=2)
    with pytest.raises(ValueError, match=r"reps"):
        sc.simulate.ridge_error(PROB, 100, 0.0, 0.1, key=0, reps=0)
    with pytest.raises(ValueError, match=r"dtype"):
        sc.simulate.ridge_error(PROB, 100, 0.0, 0.1, key=0, reps=2, dtype="float16")


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        (dict(eigs=[1.0, 0.0], w1_sq=[1.0, 1.0], delta_sq=[0.0, 0.0]), r"eigs .*\(0, inf\)"),
        (dict(eigs=[1.0, -2.0], w1_sq=[1.0, 1.0], delta_sq=[0.0, 0.0]), r"eigs"),
        (dict(eigs=[1.0, 1.0], w1_sq=[1.0], delta_sq=[0.0, 0.0]), r"same length"),
        (dict(eigs=[1.0, 1.0], w1_sq=[1.0, -1.0], delta_sq=[0.0, 0.0]), r"w1_sq"),
        (dict(eigs=[1.0, np.nan], w1_sq=[1.0, 1.0], delta_sq=[0.0, 0.0]), r"finite"),
        (dict(eigs=[[1.0]], w1_sq=[[1.0]], delta_sq=[[0.0]]), r"1-D"),
    ],
)
def test_problem_rejects_bad_arrays(arrays: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sc.Problem(**arrays, sigma2=1.0)


def test_problem_rejects_bad_scalars() -> None:
    with pytest.raises(ValueError, match=r"sigma2"):
        sc.Problem([1.0], [1.0], [0.0], sigma2=-1.0)
    with pytest.raises(ValueError, match=r"c2"):
        sc.Problem.isotropic(10, c2=-0.1)
    with pytest.raises(ValueError, match=r"n0 .*\(11, inf\)"):
        sc.Problem.isotropic(10).with_teacher(11)
    with pytest.raises(ValueError, match=r"d must hold integers"):
        sc.Problem.power_law(0)


def test_corollary1_rejects_phi_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match=r"phi .*\(0, 1\)"):
        sc.theory.isotropic_ridgeless_error(1.0, 0.1, 1.0, 1.0)


def test_unconverged_fixed_point_is_flagged_not_silent() -> None:
    """A solve cut short reports MAX_STEPS; ridge_error raises on it unless throw=False."""
    import jax
    import jax.numpy as jnp

    from simcollapse.theory import fixed_points, ridge

    with jax.enable_x64(True):
        eigs = jnp.asarray(PROB.eigs)
        fp = fixed_points.solve_monotone(
            lambda k: k * (1 - fixed_points.df1(eigs, k) / 10.0) - 1e-3,
            jnp.zeros(1),
            jnp.ones(1) * 5.0,
            jnp.ones(1) * 5.0,
            jnp.zeros(1, bool),
            lambda k: k,
            max_steps=2,
        )
    assert int(fp.status[0]) == Status.MAX_STEPS and int(fp.steps[0]) == 2

    original = ridge._ridge_parts_jit

    def broken(*args):  # the kernel's parts with every fixed point marked unconverged
        *parts, status = original(*args)
        return (*parts, status + Status.MAX_STEPS)

    ridge._ridge_parts_jit = broken
    try:
        with pytest.raises(FixedPointError, match="did not converge at 2 of 2 points"):
            sc.theory.ridge_error(PROB, np.array([10.0, 30.0]), 1e-3, 0.1)
        out = sc.theory.ridge_error(PROB, np.array([10.0, 30.0]), 1e-3, 0.1, throw=False)
        assert not out.converged.any()
    finally:
        ridge._ridge_parts_jit = original
