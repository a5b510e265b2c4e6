"""One cached-experiment runner: the key is the resolved config, the library version and the data
source, so an edited setting, a new version or new data never reads a stale result."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import simcollapse
from simcollapse.store import ResultStore, cached_run, file_fingerprint

CONFIG = {"model": "random_features", "n": 100, "m": 50, "lam": 1e-3, "p2s": [0.0, 0.1]}


def _runner(store: ResultStore, calls: list):
    def run(config: dict, source=None) -> pd.DataFrame:
        def compute() -> pd.DataFrame:
            calls.append(dict(config))
            return pd.DataFrame({"lam": [config["lam"]], "n": [config["n"]]})

        return cached_run(store, "mnist_random_features", config, compute, source=source)

    return run


def test_edited_config_value_is_never_read_stale(tmp_path: Path) -> None:
    calls: list = []
    run = _runner(ResultStore(tmp_path), calls)
    first = run(CONFIG)
    assert run(dict(CONFIG)).equals(first) and len(calls) == 1  # same config: read back
    for key, value in [("lam", 1e-2), ("n", 101), ("p2s", [0.0, 0.2])]:
        edited = {**CONFIG, key: value}
        out = run(edited)
        assert calls[-1] == edited  # computed, not read
        if key in out:
            assert out[key].iloc[0] == value
    assert len(calls) == 4


def test_version_and_data_source_are_in_the_key(tmp_path: Path, monkeypatch) -> None:
    calls: list = []
    run = _runner(ResultStore(tmp_path), calls)
    data = tmp_path / "corpus.txt"
    data.write_text("one story\n")
    run(CONFIG, source=file_fingerprint(data))
    run(CONFIG, source=file_fingerprint(data))
    assert len(calls) == 1
    data.write_text("another story\n")  # same path, new content
    run(CONFIG, source=file_fingerprint(data))
    assert len(calls) == 2
    monkeypatch.setattr(simcollapse._version, "__version__", "999.0")
    run(CONFIG, source=file_fingerprint(data))
    assert len(calls) == 3


@pytest.mark.parametrize("store", [None])
def test_without_a_store_it_just_computes(store) -> None:
    calls: list = []
    for _ in range(2):
        cached_run(store, "x", CONFIG, lambda: calls.append(1) or pd.DataFrame({"a": [1]}))
    assert len(calls) == 2
