"""Ridge in the generation loops' fixed design: a polynomial in the resolvent, its two-point
deterministic equivalent, and Taylor coefficients of kappa (docs/theory.md, "Ridge in the fixed
design").

Every generation relabels the same n inputs X with fresh noise. With Ghat = X'X/n,
R = (Ghat + lam)^{-1}, A = R Ghat = I - lam R and B = R X'/n, the model of generation t is

    replace:     w_t = A w_{t-1} + B eps_t
    accumulate:  t w_t = (t - 1) w_{t-1} + A w_{t-1} + B eps_t      (all rows, loss averaged)

with w_0 = w1 (stacking t copies of X leaves the averaged Gram at Ghat). So
w_t = P_t(A) w1 + sum_{i <= t} Q_{t,i}(A) B eps_i, polynomials in A with nonnegative
coefficients. With P_t(1) = 1, P_t(A) - I = -lam R C_t(A), C_t = (1 - P_t)/(1 - A), and
B B' = R A/n:

    bias_t     = lam^2 w1' R C_t(A) Sigma C_t(A) R w1
    variance_t = sigma^2/n tr[Sigma R v_t(A)],         v_t(A) = A sum_i Q_{t,i}(A)^2

Both are moments of the resolvent at one penalty, tr[Sigma R A^k] and lam^2 w1' R A^j Sigma A^k
R w1, and sum_k z^k R A^k = R(l_z)/(1 - z) with l_z = lam/(1 - z): the moments are the Taylor
coefficients in z of tr[Sigma R(l_z)]/(1 - z) and of lam^2 w1' R(l_1) Sigma R(l_2) w1
/((1 - z_1)(1 - z_2)). Their deterministic equivalents (Gaussian inputs, proportional limit;
kappa(l) the root of l = kappa (1 - df_1(kappa)/n)):

    l R(l)                 ~ kappa (Sigma + kappa)^{-1}
    l1 l2 R(l1) Sigma R(l2) ~ kappa1 kappa2 (Sigma + kappa1)^{-1} Sigma (Sigma + kappa2)^{-1}
                               / (1 - tr[Sigma^2 (Sigma + kappa1)^{-1} (Sigma + kappa2)^{-1}]/n)

(the two-point equivalent: Bach 2023, Atanasov, Zavatone-Veth, Pehlevan 2024; at l1 = l2 it is
ridge's bias of Theorem 1). As lam/(l_z (1 - z)) = 1 the series are, with a_j = 1/(s_j + kappa):

    tr[Sigma R A^k]              ~ [z^k] (kappa(z)/lam) sum_j s_j a_j(z)
    lam^2 w1' R A^j Sigma A^k R w1 ~ [z1^j z2^k] kappa(z1) kappa(z2) N / (1 - D)
    N = sum_j s_j w1_j^2 a_j(z1) a_j(z2),   D = (1/n) sum_j s_j^2 a_j(z1) a_j(z2)

The Taylor coefficients of kappa(l_z) and a_j are solved order by order from the fixed-point
equation (``kappa_series``): exact power-series arithmetic, no differences or contours, and the
polynomials C_t, v_t have nonnegative coefficients, so no digits cancel however many
generations. The fresh design (a new
X every generation) has a Gram per generation, independent for replace and nested for
accumulate: products of resolvents of different matrices that this one-matrix calculus does
not cover, so ridge stays simulation only there.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.scipy.linalg import solve_triangular
from numpy.polynomial import polynomial as npoly

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.theory._common import exact_terms
from simcollapse.theory.fixed_points import (
    CHUNK_ELEMS,
    SpectralTable,
    ridge_kappa,
    spectral_table,
    table_size,
)

__all__ = [
    "MODES",
    "fixed_design_batch",
    "fixed_design_combine",
    "fixed_design_parts",
    "fixed_design_terms",
    "kappa_series",
    "loop_polynomials",
]

MODES = ("replace", "accumulate")


def loop_polynomials(mode: str, generations: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients in A of the bias and variance polynomials of generations 1..G.

    With M_s(A) the step of generation s and c_s the weight of its noise (replace: M_s = A,
    c_s = 1; accumulate: M_s = ((s - 1) + A)/s, c_s = 1/s)::

        P_t = prod_{s <= t} M_s,   Q_{t,i} = c_i prod_{i < s <= t} M_s
        C_t(A) = (1 - P_t(A))/(1 - A),   v_t(A) = A sum_{i <= t} Q_{t,i}(A)^2

    (P_t(1) = 1, so C_t is a polynomial: with P_t = sum_k p_k A^k, C_t = sum_k p_k
    (1 + ... + A^{k-1})). Every coefficient is >= 0.

    Args:
      mode: "replace" or "accumulate".  generations: G >= 1.

    Returns:
      (c, v): float64 arrays of shape (G, G) and (G, 2 G), row t - 1 holding the coefficients
      of A^0, A^1, ... of C_t and v_t.

    Example:
      >>> c, v = loop_polynomials("replace", 2)
      >>> c.tolist()  # 1, 1 + A
      [[1.0, 0.0], [1.0, 1.0]]
      >>> v.tolist()  # A, A (1 + A^2)
      [[0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
      >>> loop_polynomials("accumulate", 2)[0].tolist()  # 1, (1 - A (1 + A)/2)/(1 - A)
      [[1.0, 0.0], [1.0, 0.5]]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    c = np.zeros((generations, generations))
    v = np.zeros((generations, 2 * generations))
    p = np.array([1.0])
    q: list[np.ndarray] = []  # Q_{t,i}, i = 1..t
    for t in range(1, generations + 1):
        step = np.array([0.0, 1.0]) if mode == "replace" else np.array([(t - 1) / t, 1.0 / t])
        p = npoly.polymul(p, step)
        q = [npoly.polymul(qi, step) for qi in q]
        q.append(np.array([1.0 if mode == "replace" else 1.0 / t]))
        ct = np.cumsum(p[::-1])[::-1][1:]  # sum_{k > i} p_k
        squares = np.array([0.0])
        for qi in q:
            squares = npoly.polyadd(squares, npoly.polymul(qi, qi))
        vt = npoly.polymul([0.0, 1.0], squares)
        c[t - 1, : ct.size] = ct
        v[t - 1, : vt.size] = vt
    return c, v


def kappa_series(eigs: Array, n: Array, lam: Array, kappa: Array, orders: int) -> tuple[Array, ...]:
    """Taylor coefficients in z of kappa(lam/(1 - z)) and of a_j = 1/(s_j + kappa(.)).

    Ridge's fixed point kappa (1 - df_1(kappa)/n) = l, df_1 = sum_j s_j a_j, reads
    kappa - tr(Sigma)/n + (1/n) sum_j s_j^2 a_j = l. With a_j (s_j + kappa) = 1, the coefficient
    of z^m (m >= 1) at l = lam/(1 - z) = lam (1 + z + z^2 + ...) gives::

        a_{j,m} = -a_{j,0}^2 kappa_m + r_{j,m},    r_{j,m} = -a_{j,0} sum_{0<i<m} kappa_i a_{j,m-i}
        kappa_m (1 - df_2/n) = lam - (1/n) sum_j s_j^2 r_{j,m}

    df_2 = sum_j s_j^2 a_{j,0}^2 at kappa_0 = kappa(lam). One point (scalars n, lam, kappa).

    Args:
      eigs: spectrum (d,).  n, lam: scalars, lam > 0.  kappa: kappa(lam), scalar.
      orders: number of coefficients M (z^0 .. z^{M-1}).

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
        km = (lam - jnp.sum(s * s * r) / n) / shrink
        return kap.at[m].set(km), a.at[:, m].set(r - a0 * a0 * km)

    kap, a = jax.lax.fori_loop(1, orders, order, (kap, a))
    return kap, a, shrink


def _conv(x: Array, y: Array) -> Array:
    """Product of two truncated power series (same length)."""
    m = x.shape[-1]
    p, q = np.arange(m)[:, None], np.arange(m)[None, :]
    toeplitz = jnp.where(p >= q, x[(p - q) % m], 0.0)
    return toeplitz @ y


def _series_product(x: Array) -> Array:
    """The matrix (G^2, G^2) of multiplication by the truncated bivariate series x (G, G).

    Row (p, q), column (k, l): x[p - k, q - l] where k <= p and l <= q (lower triangular in the
    order p G + q), so that (x y)[p, q] = sum_kl x[p - k, q - l] y[k, l].
    """
    g = x.shape[-1]
    p, q, k, l = np.ix_(*(np.arange(g),) * 4)
    shifted = jnp.where((p >= k) & (q >= l), x[(p - k) % g, (q - l) % g], 0.0)
    return shifted.reshape(g * g, g * g)


def _unit(g: int) -> np.ndarray:
    """The series 1 as a flat (G^2,) vector."""
    out = np.zeros(g * g)
    out[0] = 1.0
    return out


def _point(problem: Problem, c: Array, v: Array, n: Array, lam: Array, kappa: Array) -> Array:
    """(bias, variance) of generations 1..G at one (n, lam): shape (2, G)."""
    g = c.shape[0]
    s, w2 = problem.eigs, problem.w1_sq
    kap, a, shrink = kappa_series(s, n, lam, kappa, 2 * g)
    trace = _conv(kap / lam, s @ a)  # [z^k]: tr[Sigma R A^k]
    variance = problem.sigma2 / n * (v @ trace)
    ag = a[:, :g]
    num = jnp.einsum("j,jp,jq->pq", s * w2, ag, ag)
    den = jnp.einsum("j,jp,jq->pq", s * s / n, ag, ag)
    one_minus = (-den).at[0, 0].set(shrink)  # the series 1 - D, its constant 1 - df_2/n
    inv = solve_triangular(_series_product(one_minus), _unit(g), lower=True)  # 1/(1 - D)
    p, q = np.arange(g)[:, None], np.arange(g)[None, :]
    times_kappa = jnp.where(p >= q, kap[(p - q) % g], 0.0)
    # [z1^j z2^k]: lam^2 w1' R A^j Sigma A^k R w1
    two_point = (_series_product(times_kappa @ num @ times_kappa.T) @ inv).reshape(g, g)
    bias = jnp.einsum("tj,jk,tk->t", c, two_point, c)
    return jnp.stack([bias, variance])


def fixed_design_batch(d: int, generations: int) -> int:
    """Points evaluated together: a power of two near CHUNK_ELEMS / (G^4 + 4 G d), the numbers
    one point holds (its bivariate series product and its Taylor coefficients), in [1, 256].

    Example:
      >>> fixed_design_batch(60, 10), fixed_design_batch(60, 40)
      (16, 1)
    """
    size = generations**4 + 4 * generations * d
    return int(min(256, 1 << (max(1, CHUNK_ELEMS // size).bit_length() - 1)))


def fixed_design_parts(
    problem: Problem, table: SpectralTable, n: Array, lam: Array, *, generations: int, mode: str
) -> tuple[Array, ...]:
    """The fixed design's ridge terms at flat points (B,) (lam > 0), jittable.

    At each point, with kappa = kappa(lam) and the polynomials C_t, v_t of ``loop_polynomials``
    (module docstring): bias_t = lam^2 w1' R C_t(A) Sigma C_t(A) R w1 and variance_t =
    sigma^2/n tr[Sigma R v_t(A)], each from the Taylor coefficients of its deterministic
    equivalent.

    Args:
      problem: the spectrum, teacher and noise (float64 for the theory's accuracy).
      table: ``spectral_table`` of the spectrum, for the kappa solve.
      n, lam: (B,) sample sizes and penalties (lam > 0).
      generations: G, static.  mode: "replace" or "accumulate", static.

    Returns:
      2 G + 1 arrays of shape (B,): bias of generations 1..G, variance of generations 1..G, and
      the status of kappa(lam) (NONFINITE where 1 - df_2/n <= 0).

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> from simcollapse.theory.fixed_points import spectral_table, table_size
      >>> prob = sc.Problem.power_law(40, alpha=1.5, source=1.2, sigma2=0.5)
      >>> parts_of = jax.jit(fixed_design_parts, static_argnames=("generations", "mode"))
      >>> with jax.enable_x64(True):
      ...     table = spectral_table(prob.eigs, table_size(1))
      ...     parts = parts_of(prob, table, jnp.array([80.0]), jnp.array([0.1]), generations=2,
      ...                      mode="replace")
      >>> [round(float(p[0]), 4) for p in parts[:4]]  # bias_1, bias_2, variance_1, variance_2
      [0.0639, 0.1272, 0.1288, 0.2014]
      >>> parts[4].tolist()  # converged
      [0]
    """
    c, v = (jnp.asarray(x, problem.eigs.dtype) for x in loop_polynomials(mode, generations))
    s = problem.eigs
    root = ridge_kappa(s, n, lam, table)
    batch = min(n.shape[0], fixed_design_batch(s.shape[-1], generations))
    parts = jax.lax.map(
        lambda xs: _point(problem, c, v, *xs), (n, lam, root.value), batch_size=batch
    )
    shrink = jax.vmap(lambda n, k: 1.0 - jnp.sum((s / (s + k)) ** 2) / n)(n, root.value)
    status = jnp.where(shrink > 0, root.status, Status.NONFINITE).astype(root.status.dtype)
    return (*parts[:, 0].T, *parts[:, 1].T, status)


def fixed_design_combine(parts: tuple[Any, ...], generations: int, xp: Any = jnp) -> ErrorTerms:
    """ErrorTerms of shape (P, G) from ``fixed_design_parts``' outputs (``xp``: jnp or numpy).

    total = bias + variance per point and generation, zeta 0, stderr 0, the status of each point
    repeated over the generations.

    Example:
      >>> import numpy as np
      >>> parts = tuple(np.array(v) for v in ([0.1, 0.2], [0.3, 0.4],  # bias of gen 1, 2
      ...                                     [0.01, 0.02], [0.03, 0.04],  # variance
      ...                                     [0, 0]))  # status, two points
      >>> out = fixed_design_combine(parts, 2, np)
      >>> out.total.shape, out.total.round(4).tolist(), out.status.tolist()
      ((2, 2), [[0.11, 0.33], [0.22, 0.44]], [[0, 0], [0, 0]])
    """
    bias = xp.stack(parts[:generations], axis=-1)
    variance = xp.stack(parts[generations : 2 * generations], axis=-1)
    return exact_terms(bias, variance, 0.0, parts[-1][:, None], xp)


def fixed_design_terms(
    problem: Problem, n: Array, lam: Array, generations: int, mode: str
) -> ErrorTerms:
    """Ridge (lam > 0) in the fixed design, generations 1..G, as a pure, jittable function.

    ``n`` and ``lam`` share a shape A (lam > 0 everywhere); the result has shape A + (G,):
    bias and variance as in the module docstring, zeta 0, stderr 0, the status of kappa(lam) at
    each point (NONFINITE where 1 - df_2/n <= 0 or a part is not finite). Concrete calls in
    ``theory.generations`` run the same parts in fixed-size chunks (one compilation per d).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.power_law(40, alpha=1.5, source=1.2, sigma2=0.5)
      >>> with jax.enable_x64(True):
      ...     out = fixed_design_terms(prob, jnp.array([80.0]), jnp.array([0.1]), 2, "replace")
      ...     ridge = sc.theory.ridge_terms(prob, jnp.array([80.0]), jnp.array([0.1]), 0.0)
      >>> bool(np.isclose(out.total[0, 0], ridge.total[0], rtol=1e-10))  # generation 1 = ridge
      True
    """
    shape = jnp.shape(n)
    s = problem.eigs
    flat = (jnp.ravel(n).astype(s.dtype), jnp.ravel(lam).astype(s.dtype))
    table = spectral_table(s, table_size(flat[0].shape[0]))
    parts = fixed_design_parts(problem, table, *flat, generations=generations, mode=mode)
    out = fixed_design_combine(parts, generations)
    return ErrorTerms(*(jnp.reshape(x, (*shape, generations)) for x in out))
