"""Theory on concrete inputs runs in fixed-size chunks: same numbers, one compiled kernel per d."""

import jax
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.theory import _points, random_projection, ridge
from simcollapse.theory._points import chunk_points, table_nodes

PROB = sc.Problem.power_law(d=120, alpha=1.5, source=1.5, c2=0.5, sigma2=1.0)


def _grid(points: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = np.exp(rng.uniform(np.log(20.0), np.log(1e5), points))
    m = np.exp(rng.uniform(np.log(10.0), np.log(1e4), points))
    lam = np.where(rng.random(points) < 0.2, 0.0, np.exp(rng.uniform(-9.0, 1.0, points)))
    return n, m, lam


@pytest.mark.parametrize("points", [1, 7, chunk_points(120) + 3])
def test_chunked_ridge_equals_one_program(points):
    n, _, lam = _grid(points, points)
    p2 = np.array([0.0, 0.3, 1.0])[:, None]
    chunked = sc.theory.ridge_error(PROB, n, lam, p2, throw=False)
    with jax.enable_x64(True):
        whole = ridge._ridge_terms_jit(PROB, n, lam, p2)
    for got, want in zip(chunked, whole, strict=True):
        assert got.shape == (3, points)
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("points", [1, 7, chunk_points(120) + 3])
def test_chunked_rp_equals_one_program(points):
    n, m, lam = _grid(points, 100 + points)
    chunked = sc.theory.rp_error(PROB, n, m, lam, 0.25, throw=False)
    with jax.enable_x64(True):
        whole = random_projection._rp_terms_jit(PROB, n, m, lam, 0.25)
    for got, want in zip(chunked, whole, strict=True):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-300)


def test_any_number_of_points_reuses_one_kernel():
    prob = sc.Problem.isotropic(57, c2=0.2)  # a d no other test uses
    before = ridge._ridge_parts_jit._cache_size()
    for points in (1, 5, 300, 2 * chunk_points(57) + 1):
        out = sc.theory.ridge_error(prob, np.geomspace(10, 1e4, points), 1e-3, 0.1)
        assert out.total.shape == (points,)
    assert ridge._ridge_parts_jit._cache_size() == before + 1


def test_empty_grid():
    out = sc.theory.ridge_error(PROB, np.zeros((0,)) + 10.0, 0.1, 0.1)
    assert out.total.shape == (0,)


def test_sizes_depend_on_d_only():
    for d in (1, 100, 1000, 10**4, 10**6):
        c, t = chunk_points(d), table_nodes(d)
        assert c & (c - 1) == 0 and t & (t - 1) == 0
        assert 16 <= c <= 4096 and 256 <= t <= 4096


@pytest.mark.parametrize("setting", ["ridge", "rp"])
def test_chunk_with_a_root_off_the_table_equals_one_program(setting):
    # lam far above the spectrum puts the root above the table: that chunk takes the Newton loop
    n, m, lam = _grid(9, 7)
    lam[4] = 1e12
    with jax.enable_x64(True):
        if setting == "ridge":
            chunked = sc.theory.ridge_error(PROB, n, lam, 0.4, throw=False)
            whole = ridge._ridge_terms_jit(PROB, n, lam, 0.4)
        else:
            chunked = sc.theory.rp_error(PROB, n, m, lam, 0.4, throw=False)
            whole = random_projection._rp_terms_jit(PROB, n, m, lam, 0.4)
    assert np.all(chunked.status == sc.Status.CONVERGED)
    for got, want in zip(chunked, whole, strict=True):
        # atol: at lam = 1e12 the response term is a difference of O(1) terms, zero to rounding
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-15)


def test_table_built_once_per_spectrum():
    probs = [sc.Problem.isotropic(61, c2=c2) for c2 in (0.1, 0.2, 0.3)]  # one spectrum
    key = _points._digest(np.asarray(probs[0].eigs))
    tables = []
    for prob in probs:
        sc.theory.ridge_error(prob, np.geomspace(10, 1e4, 5), 1e-3, 0.1)
        tables.append(_points._tables[key])
    assert tables[0] is tables[1] is tables[2]
    assert tables[0].t.shape == (_points.table_nodes(61),)
