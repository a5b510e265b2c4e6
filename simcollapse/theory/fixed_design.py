"""Ridge in the generation loops' fixed design: a polynomial in the resolvent, its two-point
deterministic equivalent, and Taylor coefficients of kappa (docs/theory.md, "Ridge in the fixed
design").

Every generation relabels the same n inputs X with fresh noise. With Ghat = X'X/n,
R = (Ghat + lam)^{-1}, A = R Ghat = I - lam R and B = R X'/n, the model of generation t is

    replace:     w_t = A w_{t-1} + B eps_t
    accumulate:  t w_t = (t - 1) w_{t-1} + A w_{t-1} + B eps_t      (all rows, loss averaged)

with w_0 = w1 (stacking t copies of X leaves the averaged Gram at Ghat). So
w_t = P_t(A) w1 + sum_{i <= t} Q_{t,i}(A) B eps_i, polynomials in A, hence in x = lam R:

    bias_t     = w1' b_t(x) Sigma b_t(x) w1,           b_t(x) = P_t(1 - x) - 1
    variance_t = sigma^2/n tr[Sigma R v_t(x)],         v_t(x) = (1 - x) sum_i Q_{t,i}(1 - x)^2

(B B' = R Ghat R/n and Ghat R = 1 - x). Both need moments of the resolvent at one penalty:
tr[Sigma R x^k] and w1' x^j Sigma x^k w1, which are Taylor coefficients in eta of
tr[Sigma R(l)] and lam^2 w1' R(l1) Sigma R(l2) w1 at l = lam (1 + eta) (R(l) = R (1 + eta x)^{-1}).
Their deterministic equivalents (Gaussian inputs, proportional limit; kappa(l) the root of
l = kappa (1 - df_1(kappa)/n)):

    l R(l)                 ~ kappa (Sigma + kappa)^{-1}
    l1 l2 R(l1) Sigma R(l2) ~ kappa1 kappa2 (Sigma + kappa1)^{-1} Sigma (Sigma + kappa2)^{-1}
                               / (1 - tr[Sigma^2 (Sigma + kappa1)^{-1} (Sigma + kappa2)^{-1}]/n)

(the two-point equivalent: Bach 2023, Atanasov, Zavatone-Veth, Pehlevan 2024; at l1 = l2 it is
ridge's bias of Theorem 1). The Taylor coefficients of kappa(lam (1 + eta)) and of
1/(s_j + kappa) are solved order by order from the fixed-point equation (``kappa_series``): exact
power-series arithmetic, no differentiation by differences or contours. The fresh design (a new
X every generation) has independent Grams per generation, products of resolvents of different
matrices that this one-matrix calculus does not cover: it stays simulation only for ridge.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.scipy.signal import convolve2d
from numpy.polynomial import polynomial as npoly

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.theory._common import exact_terms
from simcollapse.theory.fixed_points import CHUNK_ELEMS, ridge_kappa

__all__ = ["MODES", "fixed_design_terms", "kappa_series", "loop_polynomials"]

MODES = ("replace", "accumulate")


def loop_polynomials(mode: str, generations: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients in x = lam R of the bias and variance polynomials of generations 1..G.

    With M_s(A) the step of generation s and c_s the weight of its noise (replace: M_s = A,
    c_s = 1; accumulate: M_s = ((s - 1) + A)/s, c_s = 1/s), A = 1 - x::

        P_t = prod_{s <= t} M_s,   Q_{t,i} = c_i prod_{i < s <= t} M_s
        b_t(x) = P_t(1 - x) - 1,   v_t(x) = (1 - x) sum_{i <= t} Q_{t,i}(1 - x)^2

    Args:
      mode: "replace" or "accumulate".  generations: G >= 1.

    Returns:
      (b, v): float64 arrays of shape (G, G + 1) and (G, 2 G), row t - 1 holding the coefficients
      of x^0, x^1, ... of b_t and v_t.

    Example:
      >>> b, v = loop_polynomials("replace", 2)
      >>> b.tolist()  # (1 - x) - 1, (1 - x)^2 - 1
      [[0.0, -1.0, 0.0], [0.0, -2.0, 1.0]]
      >>> v.tolist()  # (1 - x), (1 - x) (1 + (1 - x)^2)
      [[1.0, -1.0, 0.0, 0.0], [2.0, -4.0, 3.0, -1.0]]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    b = np.zeros((generations, generations + 1))
    v = np.zeros((generations, 2 * generations))
    p = np.array([1.0])
    q: list[np.ndarray] = []  # Q_{t,i}, i = 1..t
    for t in range(1, generations + 1):
        step = np.array([1.0, -1.0]) if mode == "replace" else np.array([1.0, -1.0 / t])
        p = npoly.polymul(p, step)
        q = [npoly.polymul(qi, step) for qi in q]
        q.append(np.array([1.0 if mode == "replace" else 1.0 / t]))
        bt = npoly.polysub(p, [1.0])
        squares = np.array([0.0])
        for qi in q:
            squares = npoly.polyadd(squares, npoly.polymul(qi, qi))
        vt = npoly.polymul([1.0, -1.0], squares)
        b[t - 1, : bt.size] = bt
        v[t - 1, : vt.size] = vt
    return b, v


def kappa_series(eigs: Array, n: Array, lam: Array, kappa: Array, orders: int) -> tuple[Array, ...]:
    """Taylor coefficients in eta of kappa(lam (1 + eta)) and of a_j = 1/(s_j + kappa(.)).

    Ridge's fixed point kappa (1 - df_1(kappa)/n) = l, df_1 = sum_j s_j a_j, reads
    kappa - tr(Sigma)/n + (1/n) sum_j s_j^2 a_j = l. With a_j (s_j + kappa) = 1, the coefficient
    of eta^m (m >= 1) at l = lam (1 + eta) gives::

        a_{j,m} = -a_{j,0}^2 kappa_m + r_{j,m},    r_{j,m} = -a_{j,0} sum_{0<i<m} kappa_i a_{j,m-i}
        kappa_m (1 - df_2/n) = lam [m = 1] - (1/n) sum_j s_j^2 r_{j,m}

    df_2 = sum_j s_j^2 a_{j,0}^2 at kappa_0 = kappa(lam). One point (scalars n, lam, kappa).

    Args:
      eigs: spectrum (d,).  n, lam: scalars, lam > 0.  kappa: kappa(lam), scalar.
      orders: number of coefficients M (eta^0 .. eta^{M-1}).

    Returns:
      (kap, a, shrink): kap (M,), a (d, M), shrink = 1 - df_2/n.

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np
      >>> with jax.enable_x64(True):  # isotropic, n = 2d: kappa(l) = (l - 1/2 + sqrt(...))/2
      ...     l = 0.5
      ...     k0 = (l - 0.5 + np.sqrt((l - 0.5) ** 2 + 4 * l)) / 2
      ...     kap, a, shrink = kappa_series(jnp.ones(4), 8.0, l, k0, 3)
      >>> d1 = l * (1 + (l + 1.5) / np.sqrt((l - 0.5) ** 2 + 4 * l)) / 2  # lam kappa'(lam)
      >>> bool(np.isclose(kap[1], d1, rtol=1e-12))
      True
    """
    s = eigs
    a0 = 1.0 / (s + kappa)
    shrink = 1.0 - jnp.sum(s * s * a0 * a0) / n
    idx = jnp.arange(orders)
    kap = jnp.zeros(orders, s.dtype).at[0].set(kappa)
    a = jnp.zeros((s.shape[-1], orders), s.dtype).at[:, 0].set(a0)

    def order(m: Array, state: tuple[Array, Array]) -> tuple[Array, Array]:
        kap, a = state
        weights = jnp.where((idx >= 1) & (idx < m), kap, 0.0)
        r = -a0 * (a[:, (m - idx) % orders] @ weights)
        km = (jnp.where(m == 1, lam, 0.0) - jnp.sum(s * s * r) / n) / shrink
        return kap.at[m].set(km), a.at[:, m].set(r - a0 * a0 * km)

    kap, a = jax.lax.fori_loop(1, orders, order, (kap, a))
    return kap, a, shrink


def _conv(x: Array, y: Array) -> Array:
    """Product of two truncated power series (same length)."""
    m = x.shape[-1]
    p, q = np.arange(m)[:, None], np.arange(m)[None, :]
    toeplitz = jnp.where(p >= q, x[(p - q) % m], 0.0)
    return toeplitz @ y


def _point(problem: Problem, b: Array, v: Array, n: Array, lam: Array, kappa: Array) -> Array:
    """(bias, variance) of generations 1..G at one (n, lam): shape (2, G)."""
    g = b.shape[0]
    s, w2 = problem.eigs, problem.w1_sq
    kap, a, shrink = kappa_series(s, n, lam, kappa, 2 * g)
    alt = (-1.0) ** np.arange(2 * g)  # 1/(1 + eta)
    # tr[Sigma R(lam (1 + eta))] = (kappa/lam)/(1 + eta) sum_j s_j a_j; [eta^k]: (-1)^k tr[S R x^k]
    trace = _conv(_conv(kap / lam, alt), s @ a)
    variance = problem.sigma2 / n * (v @ (alt * trace))
    # lam^2 w1' R(l1) Sigma R(l2) w1 ~ u(eta1) u(eta2) N / (1 - D), u = kappa/(1 + eta).
    ag = a[:, :g]
    num = jnp.einsum("j,jp,jq->pq", s * w2, ag, ag)
    den = jnp.einsum("j,jp,jq->pq", s * s / n, ag, ag)
    off = den.at[0, 0].set(0.0) / shrink  # 1/(1 - D) = sum_m D'^m / shrink^(m+1)
    unit = jnp.zeros((g, g), s.dtype).at[0, 0].set(1.0)
    inv = (
        jax.lax.fori_loop(0, 2 * g - 2, lambda _, e: unit + convolve2d(off, e)[:g, :g], unit)
        / shrink
    )
    u = _conv(kap[:g], alt[:g])
    p, q = np.arange(g)[:, None], np.arange(g)[None, :]
    tu = jnp.where(p >= q, u[(p - q) % g], 0.0)
    two_point = convolve2d(tu @ num @ tu.T, inv)[:g, :g]
    # w1' x^j Sigma x^k w1 = (-1)^(j+k) [eta1^(j-1) eta2^(k-1)] of the two-point series.
    bt = b[:, 1:] * alt[1 : g + 1]
    bias = jnp.einsum("tj,jk,tk->t", bt, two_point, bt)
    return jnp.stack([bias, variance])


def fixed_design_terms(
    problem: Problem, n: Array, lam: Array, generations: int, mode: str
) -> ErrorTerms:
    """Ridge (lam > 0) in the fixed design, generations 1..G, as a pure, jittable function.

    ``n`` and ``lam`` share a shape A (lam > 0 everywhere); the result has shape A + (G,):
    bias and variance as in the module docstring, zeta 0, stderr 0, the status of kappa(lam) at
    each point (NONFINITE where 1 - df_2/n <= 0 or a part is not finite).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.power_law(40, alpha=1.5, source=1.2, sigma2=0.5)
      >>> with jax.enable_x64(True):
      ...     out = fixed_design_terms(prob, jnp.array([80.0]), jnp.array([0.1]), 2, "replace")
      ...     ridge = sc.theory.ridge_terms(prob, jnp.array([80.0]), jnp.array([0.1]), 0.0)
      >>> bool(np.isclose(out.total[0, 0], ridge.total[0], rtol=1e-10))  # generation 1 = ridge
      True
    """
    b, v = (jnp.asarray(c, problem.eigs.dtype) for c in loop_polynomials(mode, generations))
    shape = jnp.shape(n)
    s = problem.eigs
    flat_n = jnp.ravel(n).astype(s.dtype)
    flat_lam = jnp.ravel(lam).astype(s.dtype)
    root = ridge_kappa(s, flat_n, flat_lam)
    per_point = 4 * generations * (s.shape[-1] + generations * generations)
    batch = int(max(1, min(flat_n.shape[0], CHUNK_ELEMS // per_point)))
    parts = jax.lax.map(
        lambda xs: _point(problem, b, v, *xs), (flat_n, flat_lam, root.value), batch_size=batch
    )
    shrink = jax.vmap(lambda n, k: 1.0 - jnp.sum((s / (s + k)) ** 2) / n)(flat_n, root.value)
    status = jnp.where(shrink > 0, root.status, Status.NONFINITE)[:, None]
    out = exact_terms(parts[:, 0], parts[:, 1], 0.0, status)
    return ErrorTerms(*(jnp.reshape(x, (*shape, generations)) for x in out))
