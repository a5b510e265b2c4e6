"""Checkpoints of a GPT run: resume from the newest one that restores, save as training goes.

With a checkpoint folder, parameters, optimiser state, PRNG key, step, tokens seen and the loss
log are saved with orbax every ``checkpoint_every`` steps, and ``train`` restarts from the latest
checkpoint it finds there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from simcollapse.store import quarantine

__all__ = ["resume", "save_checkpoint"]


def _open_newest(checkpoint_dir: str | os.PathLike[str], target: dict[str, Any]) -> tuple[Any, Any]:
    """(orbax CheckpointManager, the newest checkpoint that restores, or None).

    Two checkpoints are kept; one that fails to restore (truncated, half-copied) is moved out of
    the folder (``quarantine``: one StoreWarning) and the one before it is tried, then a fresh
    start.
    """
    import orbax.checkpoint as ocp  # noqa: PLC0415 - optional extra

    folder = os.path.abspath(checkpoint_dir)
    options = ocp.CheckpointManagerOptions(max_to_keep=2)
    manager = ocp.CheckpointManager(folder, options=options)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    for step in sorted(manager.all_steps(), reverse=True):
        try:
            return manager, manager.restore(step, args=ocp.args.StandardRestore(abstract))
        except Exception as err:  # noqa: BLE001 - any failure: fall back to an older one
            manager.close()
            why = f"checkpoint of step {step} does not restore: {str(err).splitlines()[0][:200]}"
            quarantine(Path(folder) / str(step), why, f"{folder}.step{step}.corrupt")
            manager = ocp.CheckpointManager(folder, options=options)
    return manager, None


def resume(
    checkpoint_dir: str | os.PathLike[str], state: dict[str, Any], log: dict[str, np.ndarray]
) -> tuple[Any, dict[str, Any], dict[str, np.ndarray]]:
    """Open the checkpoint folder and restore the newest checkpoint of a run, if any.

    Args:
      checkpoint_dir: the run's orbax checkpoint folder.
      state: the fresh run's state (params, opt, key, step, tokens): the structure to restore.
      log: the fresh run's loss log (step, tokens, train_loss, test_loss arrays).

    Returns:
      (orbax CheckpointManager, state, log): the restored state (its "step" is where training
      goes on) and log, or the fresh ones when no checkpoint restores.

    Example:
      >>> import tempfile
      >>> folder = tempfile.mkdtemp()
      >>> state = {"params": np.zeros(3, np.float32), "step": np.array(0)}
      >>> log = {"step": np.zeros(2, np.int32), "train_loss": np.zeros(2, np.float32)}
      >>> manager, fresh, _ = resume(folder, state, log)  # an empty folder: the fresh state
      >>> fresh is state
      True
      >>> save_checkpoint(manager, 10, {"params": np.ones(3, np.float32), "step": np.array(10),
      ...     "log": {"step": np.array([5, 10], np.int32), "train_loss": np.array([2.5, 2.0],
      ...                                                                       np.float32)}})
      >>> manager.close()
      >>> manager, state, log = resume(folder, state, log)  # goes on from step 10
      >>> int(state["step"]), state["params"].tolist(), log["train_loss"].tolist()
      (10, [1.0, 1.0, 1.0], [2.5, 2.0])
      >>> manager.close()
    """
    manager, restored = _open_newest(checkpoint_dir, {**state, "log": log})
    if restored is None:
        return manager, state, log
    state = {k: restored[k] for k in state}
    log = {k: np.asarray(v) for k, v in restored["log"].items()}
    return manager, state, log


def save_checkpoint(manager: Any, step: int, snapshot: dict[str, Any]) -> None:
    """Save ``snapshot`` (the state and the loss log) as the checkpoint of ``step``, and wait.

    Args:
      manager: the orbax CheckpointManager of ``resume`` (two checkpoints are kept).
      step: the training step the snapshot was taken at.
      snapshot: the state (params, opt, key, step, tokens) and "log", arrays as leaves.

    Example:
      >>> import tempfile
      >>> state = {"params": np.zeros(2, np.float32), "step": np.array(0)}
      >>> manager, state, log = resume(tempfile.mkdtemp(), state, {"step": np.zeros(1)})
      >>> for step in (1, 2, 3):
      ...     save_checkpoint(manager, step, {**state, "step": np.array(step), "log": log})
      >>> list(manager.all_steps())  # the newest two
      [2, 3]
      >>> manager.close()
    """
    import orbax.checkpoint as ocp  # noqa: PLC0415 - optional extra

    manager.save(step, args=ocp.args.StandardSave(snapshot))
    manager.wait_until_finished()
