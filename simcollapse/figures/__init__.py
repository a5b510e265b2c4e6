"""Figures: a registry of (tidy table, plot) pairs, and the command that writes them all."""

from simcollapse.figures.claims import Claim, evaluate_folder
from simcollapse.figures.registry import (
    MODES,
    NEW,
    Figure,
    FigureContext,
    get,
    lookup,
    names,
    register,
    registry,
)

__all__ = [
    "MODES",
    "NEW",
    "Claim",
    "Figure",
    "FigureContext",
    "evaluate_folder",
    "get",
    "lookup",
    "names",
    "register",
    "registry",
]
