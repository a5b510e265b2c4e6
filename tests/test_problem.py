"""Problem constructors: normalisations and the documented relations between c^2 and Delta."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import simcollapse as sc


def test_power_law_normalisation() -> None:
    p = sc.Problem.power_law(500, alpha=1.3, source=1.7, c2=0.25, sigma2=0.1, signal=2.0)
    assert np.isclose(p.eigs.sum(), 500)
    assert np.isclose(p.signal, 2.0)
    assert np.isclose(p.c2, 0.25)
    assert np.all(np.diff(p.eigs) < 0)
    np.testing.assert_allclose(p.delta_sq, 0.25 / 500)


def test_teacher_shift_quality() -> None:
    p = sc.Problem.power_law(100, sigma2=0.5).with_teacher(400)
    np.testing.assert_allclose(p.c2, 0.5 * 100 / (400 - 100 - 1))
    np.testing.assert_allclose(p.delta_sq * p.eigs, 0.5 / 299)


def test_with_c2_rescales_shape() -> None:
    p = sc.Problem.power_law(100, sigma2=0.5).with_teacher(400).with_c2(2.0)
    np.testing.assert_allclose(p.c2, 2.0)
    np.testing.assert_allclose(p.delta_sq * p.eigs, p.delta_sq[0] * p.eigs[0])


def test_problem_is_a_pytree_that_vmaps() -> None:
    """A batch of problems (here: three noise levels) goes through vmap of the theory core."""
    base = sc.Problem.isotropic(50, c2=0.3)
    probs = [base.with_sigma2(s) for s in (0.1, 0.2, 0.4)]
    batch = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *probs)
    with jax.enable_x64(True):
        out = jax.vmap(lambda p: sc.theory.ridge_terms(p, jnp.array(200.0), jnp.array(0.0), 0.1))(
            batch
        )
    one = [sc.theory.ridge_error(p, 200, 0.0, 0.1).total for p in probs]
    np.testing.assert_allclose(np.asarray(out.total), one, rtol=1e-12)
