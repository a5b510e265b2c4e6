"""One table over the registry: every setting passes the same checks (settings_conformance)."""

from __future__ import annotations

import pytest
import settings_conformance as conf

from simcollapse import settings

ALL = settings.names()
WITH_THEORY = [n for n in ALL if settings.get(n).theory_fn is not None]
# Theory against Monte Carlo costs most for the mixing loops: marked slow there.
FAST_THEORY = ("ridge", "random_projection", "iterative")


@pytest.mark.parametrize(
    "name",
    [n if n in FAST_THEORY else pytest.param(n, marks=pytest.mark.slow) for n in WITH_THEORY],
)
def test_theory_matches_monte_carlo(name: str) -> None:
    conf.assert_theory_matches_monte_carlo(settings.get(name))


@pytest.mark.parametrize("name", ALL)
def test_zero_p2_gives_zero_zeta(name: str) -> None:
    conf.assert_zero_p2_gives_zero_zeta(settings.get(name))


@pytest.mark.parametrize("name", ALL)
def test_one_round_or_generation_equals_ridge(name: str) -> None:
    conf.assert_ridge_case_equals_ridge(settings.get(name))


@pytest.mark.parametrize("name", ALL)
def test_theory_and_simulation_shapes(name: str) -> None:
    conf.assert_same_shapes(settings.get(name))


@pytest.mark.parametrize("name", ALL)
def test_bad_input_raises_value_error_naming_it(name: str) -> None:
    conf.assert_bad_input_names_parameter(settings.get(name))


def test_registry_lookup() -> None:
    assert settings.get("rp") is settings.get("random_projection")
    with pytest.raises(ValueError, match="known settings: ridge"):
        settings.get("nope")
    with pytest.raises(ValueError, match="is registered"):
        settings.register(settings.get("ridge"))


def test_strategy_fields_broadcast_and_equal_scalar_calls() -> None:
    import numpy as np

    import simcollapse as sc

    prob = sc.Problem.power_law(40, c2=0.5)
    many = sc.Weighted([0.2, 0.5], [0.1, 0.3]).theory(prob, [[100], [200]], 1e-3)
    assert many.total.shape == (2, 2)
    for i, n in enumerate((100, 200)):
        for j, (p2, alpha) in enumerate(((0.2, 0.1), (0.5, 0.3))):
            one = sc.Weighted(p2, alpha).theory(prob, n, 1e-3)
            np.testing.assert_allclose(many.total[i, j], one.total, rtol=1e-12)
    assert hash(sc.Unweighted([0.1, 0.2])) == hash(sc.Unweighted((0.1, 0.2)))
    with pytest.raises(ValueError, match="p2"):
        sc.Unweighted([0.1, 1.2])
