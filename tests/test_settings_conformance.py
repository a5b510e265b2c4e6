"""One table over the registry: every setting passes the same checks (settings_conformance)."""

from __future__ import annotations

import pytest
import settings_conformance as conf

from simcollapse import settings

ALL = settings.names()
WITH_THEORY = [n for n in ALL if settings.get(n).has_theory]


@pytest.mark.parametrize("name", WITH_THEORY)
def test_theory_matches_monte_carlo(name: str) -> None:
    conf.assert_theory_matches_monte_carlo(settings.get(name))


@pytest.mark.parametrize("name", WITH_THEORY)
def test_a_fast_path_gives_the_settings_own_theory(name: str) -> None:
    conf.assert_fast_path_matches_theory(settings.get(name))


@pytest.mark.parametrize("name", WITH_THEORY)
def test_lam_zero_at_n_equals_d_is_a_threshold_not_an_error(name: str) -> None:
    conf.assert_threshold_is_inf_not_an_error(settings.get(name))


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
    with pytest.warns(FutureWarning, match="'rp' is the 0.1 spelling of 'random_projection'"):
        assert settings.get("rp") is settings.get("random_projection")
    with pytest.raises(ValueError, match="known settings: ridge"):
        settings.get("nope")
    with pytest.raises(ValueError, match="is registered"):
        settings.register(settings.get("ridge"))
