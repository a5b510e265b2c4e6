"""``simcollapse figures --dry-run``: the estimated time of each figure on this device.

The language-model figures are estimated from their experiments' model flops and the device's
measured model-flops rate (``lm.estimate``); ``lm_model_size`` reuses the students of
``lm_synthetic_fraction`` and costs only a redraw. The other figures have no throughput model yet
and are listed without an estimate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax

from simcollapse._aliases import seed_keyword
from simcollapse.lm.depth import depth_experiment
from simcollapse.lm.estimate import calibrate, experiment_seconds
from simcollapse.lm.figures import level_experiment

__all__ = ["figure_estimates", "print_estimates"]


def _lm_experiment(name: str, mode: str, key: Any, corpus: str | None) -> Any:
    if name == "lm_depth":
        return depth_experiment(mode, key, corpus)
    return level_experiment(mode, key, corpus)


@seed_keyword
def figure_estimates(
    figures: list[Any], mode: str, key: Any = 0, corpus: Path | None = None
) -> list[dict[str, Any]]:
    """One row per figure: name, seconds (None: no estimate) and how it was estimated.

    ``key`` (an int or a ``jax.random`` key) picks the experiments as ``level_experiment`` does.

    Args:
      figures: registered ``Figure`` objects.
      mode: the level, "quick", "default" or "full".
      key: picks the experiments (an int or a ``jax.random`` key).
      corpus: the text corpus of the language-model experiments (None: the story grammar).

    Returns:
      One dict per figure: name, seconds (float, or None) and how (a sentence). Only the
      language-model figures are estimated (the device's flops rate is measured once, on the
      first of them).

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> figure_estimates([get("pareto")], "quick")
      [{'name': 'pareto', 'seconds': None, 'how': 'no throughput model'}]
    """
    rate = None
    rows = []
    for fig in figures:
        if fig.group != "lm":
            rows.append({"name": fig.name, "seconds": None, "how": "no throughput model"})
            continue
        if fig.name == "lm_model_size":
            rows.append(
                {"name": fig.name, "seconds": 0.0, "how": "students of lm_synthetic_fraction"}
            )
            continue
        rate = rate or calibrate()
        exp = _lm_experiment(fig.name, mode, key, None if corpus is None else str(corpus))
        vocab = 258 if exp.corpus is None else exp.bpe_vocab
        est = experiment_seconds(exp, vocab, rate)
        how = (
            f"{est['students_count']} students + generator, 6 x params x tokens at "
            f"{rate / 1e9:.3g} GFLOP/s measured"
        )
        rows.append({"name": fig.name, "seconds": est["total"], "how": how})
    return rows


def _hms(seconds: float) -> str:
    h, rem = divmod(int(round(seconds)), 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


@seed_keyword
def print_estimates(
    figures: list[Any], mode: str, key: Any = 0, corpus: Path | None = None
) -> None:
    """Print ``figure_estimates`` as a table with the device and the known total.

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> print_estimates([get("pareto"), get("scaling_plateau")], "quick")  # doctest: +ELLIPSIS
      estimated times at the quick level on ...:
        pareto                      -  no throughput model
        scaling_plateau             -  no throughput model
        total of the estimated figures: 0m00s (2 figure(s) not estimated)
    """
    rows = figure_estimates(figures, mode, key, corpus)
    width = max(len(r["name"]) for r in rows)
    print(f"estimated times at the {mode} level on {jax.devices()[0].device_kind}:")
    for r in rows:
        t = "-" if r["seconds"] is None else _hms(r["seconds"])
        print(f"  {r['name']:<{width}}  {t:>12}  {r['how']}")
    known = sum(r["seconds"] for r in rows if r["seconds"] is not None)
    missing = sum(r["seconds"] is None for r in rows)
    print(f"  total of the estimated figures: {_hms(known)} ({missing} figure(s) not estimated)")
