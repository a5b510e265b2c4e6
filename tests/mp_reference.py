"""Arbitrary-precision reference of ridge (Theorem 1) and random projections (Theorem 2).

Every sum is taken in mpmath at DPS digits, so the cancellations that float64 meets near the
thresholds (1 - df_2/n ~ 1e-150 at n = d, lam = 1e-300) and the ranges it cannot hold cost
nothing here. Fixed points are found by bisection in log t (monotone equations), then the
error terms are the formulas of docs/theory.md written out as they stand.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

DPS = 350  # 1 - df_2/n ~ 1e-150 at n = d, lam = 1e-300: 350 digits leave 200 beyond it
STEPS = 130  # bisection halvings in log t: width ~ 4000 / 2^130 ~ 3e-36


def _bisect(positive, lo: mp.mpf, hi: mp.mpf) -> mp.mpf:
    """exp of the boundary in y = log t between positive(exp(y)) False at lo, True at hi."""
    for _ in range(STEPS):
        mid = (lo + hi) / 2
        if positive(mp.exp(mid)):
            hi = mid
        else:
            lo = mid
    return mp.exp((lo + hi) / 2)


def _df(s: list, t: mp.mpf) -> tuple[mp.mpf, mp.mpf]:
    r = [x / (x + t) for x in s]
    return mp.fsum(r), mp.fsum(x * x for x in r)


def ridge_total(eigs, w1_sq, delta_sq, sigma2, n, lam, p2) -> float:
    """E_test of Theorem 1 at one point; inf on the threshold n = d, lam = 0."""
    with mp.workdps(DPS):
        s = [mp.mpf(float(x)) for x in eigs]
        w = [mp.mpf(float(x)) for x in w1_sq]
        dl = [mp.mpf(float(x)) for x in delta_sq]
        n, lam, p2, sigma2 = (mp.mpf(float(x)) for x in (n, lam, p2, sigma2))
        d = len(s)
        if lam == 0 and n == d:
            return float("inf")
        if lam == 0 and n > d:
            k = mp.mpf(0)
        else:
            top = mp.log(lam + mp.fsum(s) / n) + 1
            low = mp.mpf(-1600)
            k = _bisect(lambda t: t * (1 - _df(s, t)[0] / n) > lam, low, top)
        f2 = _df(s, k)[1]
        shrink = 1 - f2 / n
        g = (f2 / n) / shrink
        u2 = [1 / (x + k) ** 2 for x in s]
        bias = k * k * mp.fsum(x * a * b for x, a, b in zip(s, w, u2, strict=True)) / shrink
        d3 = mp.fsum(x**3 * a * b for x, a, b in zip(s, dl, u2, strict=True))
        d1 = k * k * mp.fsum(x * a * b for x, a, b in zip(s, dl, u2, strict=True))
        c2 = mp.fsum(x * a for x, a in zip(s, dl, strict=True))
        zeta = p2 * p2 * (d3 + d1 * g) + (1 - p2) * p2 * c2 * g
        return float(bias + sigma2 * g + zeta)


def rp_total(eigs, w1_sq, delta_sq, sigma2, n, m, lam, p2) -> float:
    """E_test of Theorem 2 at one point with lam > 0 (the ridgeless limits are not written)."""
    assert lam > 0
    with mp.workdps(DPS):
        s = [mp.mpf(float(x)) for x in eigs]
        w = [mp.mpf(float(x)) for x in w1_sq]
        dl = [mp.mpf(float(x)) for x in delta_sq]
        n, m, lam, p2, sigma2 = (mp.mpf(float(x)) for x in (n, m, lam, p2, sigma2))
        d = len(s)
        q = min(m, n)
        low = mp.mpf(-1600)
        if q < d:
            low = mp.log(_bisect(lambda t: _df(s, t)[0] < q, low, mp.log(mp.fsum(s) / q) + 1))
        target = lam * d / m

        def above(t: mp.mpf) -> bool:
            f1 = _df(s, t)[0]
            return f1 < q and t * (1 - f1 / m) * (1 - f1 / n) > target

        top = mp.log(mp.exp(low) + 4 * target + 2 * mp.fsum(s) / q) + 1
        t = _bisect(above, low, top)
        f1, f2 = _df(s, t)
        df2c = (f2 + (f1 * f1 - 2 * f1 * f2) / m) / (1 - f2 / m)
        gam = df2c / n
        ratio = (f1 - f2) / (m - f2)

        def epop(v: list) -> mp.mpf:
            return mp.fsum(
                t * t * x * a / (x + t) ** 2 + t * x * x * a / (x + t) ** 2 * ratio
                for x, a in zip(s, v, strict=True)
            )

        c2 = mp.fsum(x * a for x, a in zip(s, dl, strict=True))
        clean = (epop(w) + (sigma2 + (1 - p2) * p2 * c2) * gam) / (1 - gam)
        first = mp.fsum(x * a / (x + t) for x, a in zip(s, dl, strict=True))
        resp = c2 - 2 * t * first + epop(dl) / (1 - gam)
        return float(clean + p2 * p2 * resp)


def problem_arrays(prob) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    return (
        np.asarray(prob.eigs),
        np.asarray(prob.w1_sq),
        np.asarray(prob.delta_sq),
        float(prob.sigma2),
    )
