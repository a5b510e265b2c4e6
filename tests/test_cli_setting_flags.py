"""Every setting's parameters become flags of `simcollapse theory` and `simulate` without
breaking the command line: a parameter named like a flag of the command (--seed, --reps, --json,
a problem flag), or like another setting's parameter of another kind, gets its own flag
prefixed with the setting's name."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from noisy_ridge import SETTING as NOISY
from noisy_ridge import kernel, terms

from simcollapse import settings
from simcollapse.cli import main
from simcollapse.settings import OPTION, Param


def renamed(name: str, old: str, new: Param) -> settings.Setting:
    """The noisy-ridge example with parameter ``old`` replaced by ``new`` (same position)."""
    params = tuple(new if p.name == old else p for p in NOISY.params)
    return settings.Setting.from_terms(name, NOISY.doc, params, terms, kernel)


@pytest.fixture
def clashing() -> Iterator[None]:
    seed = Param("seed", "recombine", low=0.0, default=0.0, doc="extra noise, named like a flag")
    reps = Param("reps", "recombine", low=0.0, default=0.0, doc="extra noise, named like a flag")
    settings.register(NOISY, replace=True)
    settings.register(renamed("clash_seed", "tau2", seed))
    settings.register(renamed("clash_reps", "tau2", reps))
    yield
    for name in ("noisy_ridge", "clash_seed", "clash_reps"):
        settings.unregister(name)


def test_a_parameter_named_like_a_command_flag_gets_its_settings_prefix(
    clashing: None, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--d", "20", "--n", "40", "--p2", "0.5", "--json"]
    assert main(["theory", "--setting", "noisy_ridge", *common, "--tau2", "0,1"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main(["theory", "--setting", "clash_seed", *common, "--seed", "0,1"]) == 0
    assert [r["total"] for r in json.loads(capsys.readouterr().out)] == [r["total"] for r in want]
    # simulate has its own --seed and --reps: the settings' parameters get prefixed flags
    sim = ["simulate", "--setting", "clash_reps", *common, "--reps", "2", "--seed", "3"]
    assert main([*sim, "--clash-reps-reps", "0,1"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2  # the setting's axis, beside --reps 2


def test_a_parameter_of_another_kind_under_a_taken_name_gets_its_own_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ols = Param("ols", OPTION, default="fast", choices=("fast", "slow"), doc="not ridge's ols")
    mine = dataclasses.replace(renamed("other_ols", "tau2", ols), terms_fn=None,
                               no_theory="simulation only here")  # fmt: skip
    settings.register(mine)
    try:
        with pytest.raises(SystemExit) as done:
            main(["--version"])
        assert done.value.code in (0, None)
        with pytest.raises(SystemExit):
            main(["theory", "--help"])
        text = capsys.readouterr().out
        assert "--other-ols-ols" in text and "--ols" in text  # ridge's keeps its flag
    finally:
        settings.unregister("other_ols")
