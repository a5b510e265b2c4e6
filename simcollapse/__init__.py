"""simcollapse: model collapse in scaling laws, theory and simulation side by side.

Implements the Strong Model Collapse paper (Dohmatob, Feng, Subramonian, Kempe, ICLR 2025,
arXiv 2410.04840): test error of models trained on a mix of real and synthetic data.
"""

from simcollapse import simulate, theory
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, FixedPoint, FixedPointError, Status

__version__ = "0.1.0"

__all__ = [
    "ErrorTerms",
    "FixedPoint",
    "FixedPointError",
    "Problem",
    "Status",
    "__version__",
    "simulate",
    "theory",
]
