"""docs/extending.md runs: its Python blocks, in order, are one module that defines, checks at the
interpolation threshold, registers and sweeps a new setting."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from simcollapse import settings

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.slow
def test_the_guide_runs_end_to_end(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert len(blocks) >= 5
    namespace: dict[str, object] = {"__name__": "extending_guide"}
    try:
        exec(compile("\n".join(blocks), str(DOC), "exec"), namespace)
        table = namespace["table"]
        assert set(table.setting) == {"noisy_ridge"} and set(table.method) == {"theory", "simulate"}
        th = table[table.method == "theory"].set_index(["n", "tau2"]).total
        assert np.all(th.xs(1.0, level="tau2").to_numpy() > th.xs(0.0, level="tau2").to_numpy())
    finally:
        if "noisy_ridge" in settings.names():
            settings.unregister("noisy_ridge")
