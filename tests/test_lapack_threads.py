"""The CPU Monte Carlo's LAPACK thread rule: one thread for small factorisations, in the call."""

import jax
import numpy as np
import pytest
from threadpoolctl import threadpool_info

import simcollapse as sc
from simcollapse.simulate import engine
from simcollapse.simulate.lapack_threads import SINGLE_THREAD_MAX, lapack_threads

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu", reason="the rule is for the CPU")


def scipy_lapack_threads() -> int:
    """Threads of SciPy's OpenBLAS, the library XLA's CPU eigh calls."""
    (lib,) = [i for i in threadpool_info() if "scipy.libs" in i["filepath"]]
    return lib["num_threads"]


@cpu_only
def test_small_factorisations_run_on_one_thread_and_the_limit_ends_with_the_call():
    with lapack_threads(8):
        pass  # loads the library
    before = scipy_lapack_threads()
    with lapack_threads(SINGLE_THREAD_MAX):
        assert scipy_lapack_threads() == 1
    assert scipy_lapack_threads() == before


@cpu_only
def test_large_factorisations_keep_every_thread():
    with lapack_threads(8):
        pass
    before = scipy_lapack_threads()
    with lapack_threads(SINGLE_THREAD_MAX + 1):
        assert scipy_lapack_threads() == before


def test_the_thread_limit_changes_no_number(monkeypatch):
    """The same draws with the limit switched off give the same errors to rounding."""
    from simcollapse.simulate import driver

    prob = sc.Problem.power_law(16, c2=0.5, sigma2=0.5)
    args = (prob, 64, [1e-3, 0.1], [0.0, 0.5])
    limited = sc.simulate.ridge_error(*args, key=3, reps=4, estimator="plain")
    monkeypatch.setattr(driver, "lapack_threads", lambda size: lapack_threads(10**9))
    free = sc.simulate.ridge_error(*args, key=3, reps=4, estimator="plain")
    np.testing.assert_allclose(limited.total, free.total, rtol=1e-12)


def test_gram_equals_the_product_it_replaces():
    x = jax.random.normal(jax.random.key(0), (37, 5))
    with jax.enable_x64(True):
        x64 = np.asarray(x, np.float64)
        np.testing.assert_allclose(engine.gram(jax.numpy.asarray(x64)), x64.T @ x64, rtol=1e-13)
    np.testing.assert_allclose(engine.gram(x), np.asarray(x).T @ np.asarray(x), rtol=1e-5)
