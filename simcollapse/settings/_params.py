"""Parameter declarations shared by several settings (one place for each range)."""

from __future__ import annotations

from simcollapse.settings.base import LENGTH, RECOMBINE, SOLVE, Param

N = Param("n", SOLVE, low=1, integer=True, doc="training rows (per round / generation)")
M = Param("m", SOLVE, low=1, integer=True, doc="random-projection width")
LAM = Param("lam", SOLVE, low=0.0, default=0.0, doc="ridge penalty")
P2 = Param("p2", RECOMBINE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction")
P2_SOLVE = Param("p2", SOLVE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction")
ROUNDS = Param("rounds", LENGTH, low=1, integer=True, default=1, doc="rounds T of refitting")
GENERATIONS = Param(
    "generations", LENGTH, low=1, integer=True, default=1, doc="generations G of the loop"
)
