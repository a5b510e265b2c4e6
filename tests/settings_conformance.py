"""The checks every registered setting must pass (used by the conformance table and by the test
that adds a setting). Each takes a Setting and raises AssertionError on failure.

Tolerance of theory against Monte Carlo: |theory - sim| <= 3 SE + 3% of the theory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.settings import LENGTH, OPTION, Setting

PROBLEM = sc.Problem.power_law(60, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
REPS = 48


def assert_theory_matches_monte_carlo(setting: Setting, reps: int = REPS) -> None:
    """Every example: theory within 3 SE + 3% of the Monte Carlo, at >= 3 points each."""
    assert setting.examples, f"{setting.name}: no examples to check"
    for params in setting.examples:
        th = setting.theory(PROBLEM, **params)
        mc = setting.simulate(PROBLEM, sc.MonteCarlo(7, reps), **params)
        assert np.asarray(th.total).size >= 3
        gap = np.abs(th.total - mc.total)
        tol = 3.0 * mc.stderr + 0.03 * np.abs(th.total)
        what = f"{setting.name}: theory {th.total}, sim {mc.total} +- {mc.stderr}"
        assert np.all(gap <= tol), what


def assert_fast_path_matches_theory(setting: Setting) -> None:
    """A declared fast path (solve once, recombine c2 and sigma2) gives the setting's own theory:
    a theory sweep over the first example's values and two c2 and sigma2 each, row by row
    against ``setting.theory`` at that row's problem, to 1e-9 relative."""
    if setting.fast_path is None:
        pytest.skip(f"{setting.name} declares no fast path")
    from simcollapse.sweep import Sweep, run_sweep  # noqa: PLC0415 - only this check sweeps

    example = setting.examples[0]
    axes = {k: sorted(set(np.ravel(v).tolist())) for k, v in example.items() if k in setting.axes}
    params = {k: v for k, v in example.items() if k not in axes}
    grid = {**axes, "c2": [0.25, 1.0], "sigma2": [0.1, 0.5]}
    spec = Sweep(d=PROBLEM.d, family="power_law", alpha=1.5, source=1.2, setting=setting.name,
                 params=params, axes=grid, method="theory")  # fmt: skip
    assert spec.fast_path is not None, f"{setting.name}: the sweep did not take the fast path"
    table = run_sweep(spec)
    for row in table.itertuples():
        prob = spec.problem(c2=row.c2, sigma2=row.sigma2)
        one = setting.theory(prob, **{k: getattr(row, k) for k in axes}, **spec.params)
        np.testing.assert_allclose(row.total, float(one.total), rtol=1e-9, err_msg=setting.name)


def assert_threshold_is_inf_not_an_error(setting: Setting) -> None:
    """lam = 0 at n = d (the interpolation threshold of ridge): the theory never raises; each
    point is CONVERGED (finite) or THRESHOLD (inf), as built-in ridge reports it."""
    if not setting.has_theory:
        pytest.skip(f"{setting.name} is simulation only")
    params = {**setting.examples[0], "n": [PROBLEM.d, 2 * PROBLEM.d], "lam": 0.0}
    others = {k: np.asarray(v).ravel()[0] for k, v in params.items() if k not in ("n", "lam")}
    params.update(others)
    if setting.reason_no_theory(setting.resolve(params)) is not None:
        pytest.skip(f"{setting.name} has no theory at {params}")
    out = setting.theory(PROBLEM, **params)  # throw=True: a failed point would raise
    status, total = np.asarray(out.status), np.asarray(out.total)
    assert np.all((status == sc.Status.CONVERGED) | (status == sc.Status.THRESHOLD)), status
    np.testing.assert_array_equal(np.isinf(total), status == sc.Status.THRESHOLD)
    assert np.all(np.isfinite(total[1])), f"{setting.name}: n = 2d must be finite"


# The parameter values that leave no synthetic rows: p2 = alpha = 0 (ridge, weighted, iterative),
# ratio = 0 with real_weight = 1 (golden_weighted).
NO_SYNTHETIC = {"p2": 0.0, "alpha": 0.0, "ratio": 0.0, "real_weight": 1.0}


def _one_size(params: Mapping[str, Any]) -> dict[str, Any]:
    """The example with one sample size and one width (``n``, ``m``: the first of each), every
    other value as it is: the same points but for their sizes, and one compiled simulation.

    A simulation compiles one program per distinct sample size and width, so the checks of
    p2 = 0 and of shapes compile once; the theory-against-Monte-Carlo check keeps every size.
    """
    return {k: np.full(np.shape(v), np.ravel(v)[0]) if k in ("n", "m") and np.ndim(v) else v
            for k, v in params.items()}  # fmt: skip


def _zero_p2(params: Mapping[str, Any]) -> dict[str, Any]:
    out = _one_size(params)
    for name, value in NO_SYNTHETIC.items():
        if name in out:
            out[name] = value
    return out


def assert_zero_p2_gives_zero_zeta(setting: Setting) -> None:
    """No synthetic rows: zeta = 0 in theory and simulation."""
    params = _zero_p2(setting.examples[0])
    mc = setting.simulate(PROBLEM, sc.MonteCarlo(3, 4), **params)
    np.testing.assert_array_equal(mc.zeta, 0.0)
    if setting.reason_no_theory(setting.resolve(params)) is None:
        np.testing.assert_allclose(setting.theory(PROBLEM, **params).zeta, 0.0, atol=1e-14)


def assert_ridge_case_equals_ridge(setting: Setting) -> None:
    """One round / generation (or alpha = p2) equals ridge: theory to 1e-10, draws to 1e-8.

    lam > 0 here; lam = 0 under each ``ols`` choice is checked in test_generation_designs.
    """
    if setting.ridge_case is None:
        pytest.skip(f"{setting.name} has no ridge case")
    ridge = sc.settings.get("ridge")
    n, lam = np.array([90, 150, 150]), np.array([1e-2, 1e-3, 1e-1])
    params, p2 = setting.ridge_case(n, lam)
    trail = (lambda a: np.asarray(a)[..., 0]) if setting.length else np.asarray
    mc = sc.MonteCarlo(5, 3)
    got = setting.simulate(PROBLEM, mc, **params)
    want = ridge.simulate(PROBLEM, mc, n=n, lam=lam, p2=p2)
    np.testing.assert_allclose(trail(got.total), want.total, rtol=1e-8)
    if setting.reason_no_theory(setting.resolve(params)) is None:
        th, ref = setting.theory(PROBLEM, **params), ridge.theory(PROBLEM, n=n, lam=lam, p2=p2)
        np.testing.assert_allclose(trail(th.total), ref.total, rtol=1e-10)


def assert_same_shapes(setting: Setting) -> None:
    """Theory and simulation return the same shapes; a LENGTH T adds a trailing axis of T."""
    params = _one_size(setting.examples[0])
    axes = [np.shape(params.get(a, 0.0)) for a in setting.axes]
    col = [[a] for a in np.atleast_1d(params["n"])] if np.ndim(params["n"]) else params["n"]
    params["n"] = np.asarray(col)  # a column: the grid becomes 2-D
    want = np.broadcast_shapes(*axes, np.shape(params["n"]))
    if setting.length:
        want = (*want, params.get(setting.length, 1))
    mc = setting.simulate(PROBLEM, sc.MonteCarlo(1, 2), **params)
    assert all(np.shape(v) == want for v in mc), (setting.name, [np.shape(v) for v in mc], want)
    if setting.reason_no_theory(setting.resolve(params)) is None:
        th = setting.theory(PROBLEM, **params)
        assert all(np.shape(v) == want for v in th), (setting.name, want)
    else:
        with pytest.raises(sc.SimulationOnly, match="simulation only"):
            setting.theory(PROBLEM, **params)


def bad_values(setting: Setting) -> list[tuple[str, Any]]:
    """One out-of-range value per bounded parameter."""
    out = []
    for p in setting.params:
        if p.low is not None:
            out.append((p.name, p.low - 1.0 if not p.integer else 0.5 + p.low))
        if p.high is not None:
            out.append((p.name, p.high + 1.0))
        if p.role == LENGTH:
            out.append((p.name, [2, 3]))
        if p.role == OPTION and isinstance(p.default, bool):
            out.append((p.name, "yes"))
    return out


def assert_bad_input_names_parameter(setting: Setting) -> None:
    """A value out of range, or an unknown parameter, raises a ValueError naming it."""
    base = dict(setting.examples[0])
    for name, value in bad_values(setting):
        with pytest.raises(ValueError, match=name):
            setting.simulate(PROBLEM, sc.MonteCarlo(0, 2), **{**base, name: value})
        if setting.has_theory:
            with pytest.raises(ValueError, match=name):
                setting.theory(PROBLEM, **{**base, name: value})
    with pytest.raises(ValueError, match="no_such_parameter"):
        setting.simulate(PROBLEM, sc.MonteCarlo(0, 2), **base, no_such_parameter=1.0)
