"""The command line says what it does: --version and the figures command's required output."""

from __future__ import annotations

import jax
import pytest

import simcollapse
from simcollapse import cli


def test_version_prints_package_jax_and_devices(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert f"simcollapse {simcollapse.__version__}" in out
    assert f"jax {jax.__version__}" in out
    assert jax.devices()[0].platform in out


def test_figures_needs_out_or_list(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["figures", "--quick"])
    assert stop.value.code == 2
    assert "--out" in capsys.readouterr().err
    usage = cli.make_parser()._subparsers._group_actions[0].choices["figures"].format_usage()
    assert "(--out DIR | --list)" in usage
