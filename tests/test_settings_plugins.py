"""A setting from an installed package (entry-point group ``simcollapse.settings``): found by
``settings.names()``, run from the CLI (in this process and in a fresh one), from a TOML sweep and
from the store; a broken plugin is one warning naming it."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest

from simcollapse import settings
from simcollapse.cli import main
from simcollapse.sweep import Sweep, run_sweep

HERE = pathlib.Path(__file__).resolve().parent
ENTRY_POINTS = """\
[simcollapse.settings]
plugin_ridge = sc_plugin_demo:make
broken_plugin = sc_plugin_demo:no_such_name
"""


def install(site: pathlib.Path) -> None:
    """An installed distribution as pip leaves it: the module and its .dist-info folder."""
    source = (HERE / "noisy_ridge.py").read_text().replace('"noisy_ridge"', '"plugin_ridge"')
    (site / "sc_plugin_demo.py").write_text(source + "\n\ndef make():\n    return SETTING\n")
    info = site / "sc_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sc-plugin-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    folder = tmp_path / "site"
    folder.mkdir()
    install(folder)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in ("plugin_ridge",):
        if name in settings.names():
            settings.unregister(name)
    sys.modules.pop("sc_plugin_demo", None)


def test_installed_setting_runs_from_cli_toml_sweep_and_store(
    site: pathlib.Path, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.warns(RuntimeWarning, match="'broken_plugin'") as caught:
        added = settings.load_plugins(reload=True)
    assert added == ("plugin_ridge",) and len(caught) == 1
    assert "plugin_ridge" in settings.names()

    args = ["--setting", "plugin_ridge", "--d", "30", "--n", "100", "--p2", "0.5", "--tau2", "0,1"]
    assert main(["theory", *args, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["tau2"] for r in rows] == [0.0, 1.0] and rows[1]["variance"] > rows[0]["variance"]

    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[problem]\nd = 30\n\n[setting]\nkind = "plugin_ridge"\np2 = 0.5\n\n'
        '[run]\nmethod = "both"\nreps = 4\n\n[axes]\nn = [60, 120]\ntau2 = [0.0, 1.0]\n'
    )
    out = tmp_path / "results"
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    (written,) = out.glob("*.parquet")  # the sweep's table; its chunks sit in the store below
    assert any(p.parent != out for p in out.rglob("*.parquet")), "no chunk in the store"
    table = pd.read_parquet(written)
    assert set(table.setting) == {"plugin_ridge"} and len(table) == 8
    # The store serves the same rows back to a Python sweep over the same grid.
    again = run_sweep(Sweep(d=30, setting="plugin_ridge", axes={"n": [60, 120], "tau2": [0, 1]},
                            params={"p2": 0.5}, method="both", reps=4), out)  # fmt: skip
    key = ["method", "n", "tau2"]
    pd.testing.assert_series_equal(
        again.sort_values(key).total.reset_index(drop=True),
        table.sort_values(key).total.reset_index(drop=True),
    )


def test_a_fresh_process_finds_the_installed_setting(site: pathlib.Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    cmd = [sys.executable, "-m", "simcollapse", "theory", "--setting", "plugin_ridge",
           "--d", "20", "--n", "20,40", "--lam", "0", "--p2", "0.3", "--json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert str(rows[0]["status"]).upper() == "THRESHOLD" and rows[1]["total"] > 0
    assert "broken_plugin" in done.stderr  # one warning naming it, never a crash
