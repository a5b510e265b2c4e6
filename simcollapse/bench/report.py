"""Tables and the throughput plot for benchmark result files."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import seaborn as sns

from simcollapse.figures.style import new_figure


def _key(case: dict[str, Any]) -> str:
    return json.dumps(
        {"suite": case["suite"], "name": case["name"], "params": case["params"]},
        sort_keys=True,
        default=str,
    )


def _short(params: dict[str, Any]) -> str:
    keep = ("size", "params", "context", "batch", "d", "n", "m", "points", "reps", "dtype")
    return " ".join(f"{k}={params[k]}" for k in keep if k in params)


def frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per case: suite, case, params, median, throughput, ratio, GFLOP/s, peak share."""
    rows = []
    for c in result["cases"]:
        rows.append(
            {
                "suite": c["suite"],
                "case": c["name"],
                "params": _short(c["params"]),
                "median_s": c["median_s"],
                "compile_s": c["compile_s"],
                "throughput": c["throughput"],
                "unit": c["work_unit"] + "/s",
                "ratio_vs_baseline": c["ratio"],
                "gflops": c["gflops"],
                "fraction_of_peak": c["fraction_of_peak"],
            }
        )
    return pd.DataFrame(rows)


def markdown_table(result: dict[str, Any]) -> str:
    """The run's cases as a Markdown table, headed by the device, load and command."""
    m = result["machine"]
    head = (
        f"{m['device_kind']} ({m['backend']}, {m['device_count']} device(s)), "
        f"{result['created']}, load average {m['load_average'][0]:.2f} at the start; "
        f"`{' '.join(result['command'])}`\n\n"
    )
    df = frame(result)
    if df.empty:
        return head + "(no cases)"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [
            ""
            if v is None or (isinstance(v, float) and v != v)
            else f"{v:.4g}"
            if isinstance(v, float)
            else str(v)
            for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines)


def summary_table(result: dict[str, Any]) -> str:
    """The run's cases as a fixed-width table."""
    df = frame(result)
    if df.empty:
        return "(no cases)"
    return df.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def compare_table(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Cases present in both files: medians, and speed-up of B over A (A median / B median)."""
    ia = {_key(c): c for c in a["cases"]}
    rows = []
    for c in b["cases"]:
        other = ia.get(_key(c))
        if other is None:
            continue
        rows.append(
            {
                "suite": c["suite"],
                "case": c["name"],
                "params": _short(c["params"]),
                "A_median_s": other["median_s"],
                "B_median_s": c["median_s"],
                "B_speedup": other["median_s"] / c["median_s"],
                "A_ratio": other["ratio"],
                "B_ratio": c["ratio"],
            }
        )
    head = (
        f"A: {a['machine']['device_kind']} ({a['machine']['backend']}), {a['created']}\n"
        f"B: {b['machine']['device_kind']} ({b['machine']['backend']}), {b['created']}\n"
    )
    if not rows:
        return head + "(no case in common)"
    df = pd.DataFrame(rows)
    return head + df.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def plot_throughput(results: list[dict[str, Any]], path: str) -> None:
    """Theory throughput (points/s) against grid size, one line per device and case."""

    rows = []
    for r in results:
        device = f"{r['machine']['device_kind']} ({r['machine']['backend']})"
        for c in r["cases"]:
            if c["work_unit"] == "points" and "points" in c["params"]:
                rows.append(
                    {
                        "device": device,
                        "case": f"{c['suite']}/{c['name']} d={c['params'].get('d')}",
                        "points": c["params"]["points"],
                        "points per second": c["throughput"],
                    }
                )
    fig, ax = new_figure()
    if rows:
        df = pd.DataFrame(rows)
        sns.lineplot(
            df, x="points", y="points per second", hue="case", style="device", marker="o", ax=ax
        )
        ax.set(xscale="log", yscale="log", title="theory throughput against grid size")
        ax.legend(fontsize="x-small")
    fig.savefig(path)
