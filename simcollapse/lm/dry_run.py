"""``simcollapse figures --dry-run`` for the language-model figures, and the older entry points.

Every figure is estimated by ``simcollapse.figures.dry_run``; the language-model figures say
their work as model flops (``lm.estimate.experiment_work``: 6 x parameters x tokens for training,
plus evaluation and the generator's sampling) priced at the model-flops rate ``lm.estimate``
measures on a GPT training step. ``lm_model_size`` draws the students of
``lm_synthetic_fraction`` (one store entry): counted once when both run. ``figure_estimates`` and
``print_estimates`` here are those of ``figures.dry_run`` with the older argument order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simcollapse._aliases import seed_keyword
from simcollapse.figures import dry_run

__all__ = ["figure_estimates", "print_estimates"]


@seed_keyword
def figure_estimates(
    figures: list[Any], mode: str, key: Any = 0, corpus: Path | None = None
) -> list[dict[str, Any]]:
    """One row per figure: name, seconds (None: not estimated, the reason in how) and how.

    ``dry_run.figure_estimates`` with the built-in digits (``key`` as there).

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> rows = figure_estimates([get("lm_synthetic_fraction"), get("lm_model_size")], "quick")
      >>> rows[1]["seconds"] < rows[0]["seconds"], rows[1]["how"].endswith("counted above (shared)")
      (True, True)
    """
    return dry_run.figure_estimates(figures, mode, key, corpus=corpus)


@seed_keyword
def print_estimates(
    figures: list[Any], mode: str, key: Any = 0, corpus: Path | None = None
) -> list[dict[str, Any]]:
    """``dry_run.print_estimates`` with the built-in digits: one row per figure and the total.

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> _ = print_estimates([get("lm_model_size")], "quick")  # doctest: +ELLIPSIS
      estimated times at the quick level on ...:
        lm_model_size  ...  8 students + generator, 6 x params x tokens; GPT model flops ... flop
        rate measured, GPT model flops: ... GFLOP/s on a GPT training step
        rate measured, drawing: ... s per figure
        total: ... (every figure estimated)
    """
    return dry_run.print_estimates(figures, mode, key, corpus=corpus)
