"""The older spellings of simcollapse._aliases: each still works, gives what the new spelling
gives, and warns once with a FutureWarning naming the new spelling (the Python keyword seed=,
now key=, with a DeprecationWarning: tests/test_keys.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simcollapse import settings
from simcollapse._aliases import OLD_SPELLINGS
from simcollapse.cli import main
from simcollapse.sweep import Sweep
from simcollapse.sweep.toml_spec import parse_toml, read_toml, sweep_keywords


def test_every_old_spelling_names_its_replacement() -> None:
    assert set(OLD_SPELLINGS) == {
        "rp",
        "--model",
        "--spectrum",
        "[model] kind",
        "Sweep(model=...)",
        "seed=",
        "neural.TrainConfig",
    }
    with pytest.warns(FutureWarning, match="write 'random_projection'"):
        assert settings.get("rp") is settings.get("random_projection")


def test_sweep_model_keyword_warns_and_keeps_the_hash() -> None:
    new = Sweep(d=20, setting="random_projection", m=10, axes={"n": [50]})
    with pytest.warns(FutureWarning, match=r"write 'Sweep\(setting=...\)'"):
        old = Sweep(d=20, model="rp", m=10, axes={"n": [50]})
    assert old.hash == new.hash and old.setting == "random_projection"


def test_toml_model_table_warns_and_gives_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[problem]\nd = 20\n\n[model]\nkind = "rp"\nm = 10\n\n[axes]\nn = [50]\n')
    with pytest.warns(FutureWarning, match=r"write '\[setting\] kind'"):
        kw = sweep_keywords(parse_toml(*read_toml(path)), str(path), None)
    assert kw["setting"] == "random_projection" and kw["m"] == 10


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["--model", "rp", "--m", "10"], ["--setting", "random_projection", "--m", "10"]),
        (["--spectrum", "isotropic"], ["--family", "isotropic"]),
        (["--spectrum=isotropic"], ["--family", "isotropic"]),
    ],
)
def test_cli_old_flags_warn_and_agree(old, new, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["theory", "--d", "20", "--n", "40", "--p2", "0.1", "--json"]
    assert main([*common, *new]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main([*common, *old]) == 0
    got = capsys.readouterr()
    assert json.loads(got.out) == want
    # The CLI prints the FutureWarning as one line naming the new spelling.
    flag = old[0].split("=")[0]
    assert f"simcollapse theory: warning: {flag!r} is the 0.1 spelling of {new[0]!r}" in got.err


def test_an_old_spelling_warns_at_the_callers_line() -> None:
    """Not inside the package, nor in the code a dataclass generates for Sweep(model=...)."""
    import warnings

    import simcollapse as sc

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sc.Sweep(model="rp", d=10, m=5, axes={"n": [20]})
        sc.settings.get("rp")
    assert [w.filename for w in caught] == [__file__, __file__]


def test_the_two_layer_configs_older_name_warns_and_is_the_class() -> None:
    import simcollapse.neural as neural

    with pytest.warns(FutureWarning, match="write 'neural.TwoLayerConfig'"):
        assert neural.TrainConfig is neural.TwoLayerConfig
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        neural.NoSuchThing  # noqa: B018
