"""What a sweep stopped by Ctrl-C tells the user: how much is stored, and how to resume."""

from __future__ import annotations

import os

from simcollapse.sweep.run import chunk_key, chunk_path, plan, plan_id_of, sweep_folder, sweep_key
from simcollapse.sweep.spec import Sweep

__all__ = ["resume_note"]


def resume_note(spec: Sweep, out: str | os.PathLike[str], memory_budget: int | None) -> str:
    """One line: the chunks of ``spec`` stored under ``out`` and that the same command resumes.

    Example:
      >>> spec = Sweep(d=10, axes={"n": [20, 40]}, method="theory")
      >>> resume_note(spec, "/nonexistent", None)[:32]
      'interrupted: 0 of 1 chunk(s) sto'
    """
    chunks = plan(spec, memory_budget)
    folder = sweep_folder(out, spec)
    base = sweep_key(spec, plan_id_of(chunks))
    stored = sum(chunk_path(folder, c, chunk_key(base, c)).exists() for c in chunks)
    return (
        f"interrupted: {stored} of {len(chunks)} chunk(s) stored under {folder}; "
        "run the same command again to resume"
    )
