"""The joint_law figure's claims, checked on its committed default-level table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simcollapse.figures.joint_law import joint_law_checks

TABLE = Path(__file__).resolve().parents[1] / "figures" / "joint_law.csv"


def test_joint_law_claims_hold_on_the_committed_table() -> None:
    checks = joint_law_checks(pd.read_csv(TABLE))
    failed = {name: value for name, (value, holds) in checks.items() if not holds}
    assert not failed, failed


def test_joint_law_claims_can_fail() -> None:
    table = pd.read_csv(TABLE)
    bad = table.assign(fitted=table.total * 2.0, status="not_identifiable")
    checks = joint_law_checks(bad)
    assert not checks["median_abs_log_residual"][1] and not checks["fit_ok"][1]
