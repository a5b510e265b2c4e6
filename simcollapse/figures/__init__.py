"""Figures: a registry of (tidy table, plot) pairs, and the command that writes them all."""

from simcollapse.figures.registry import (
    Figure,
    FigureContext,
    get,
    names,
    register,
    registry,
)

__all__ = ["Figure", "FigureContext", "get", "names", "register", "registry"]
