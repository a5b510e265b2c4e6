"""Neural experiments on real images: MNIST with random features and two-layer networks.

Strong Model Collapse (Dohmatob et al., ICLR 2025, arXiv 2410.04840), its experiments on images:
the collapse of scaling laws under real + synthetic training data, beyond Gaussian features.
The figures ``mnist_random_features`` and ``mnist_two_layer`` are registered by importing
``simcollapse.neural.figures``, and ``mnist_theory_vs_experiment`` (theory built from the data,
``mnist_theory``) by importing ``simcollapse.neural.theory_figure`` (kept separate so that the
models do not import matplotlib).
"""

from typing import Any

from simcollapse._aliases import warn_old
from simcollapse.neural.experiments import mse_and_accuracy, random_feature_sweep, two_layer_sweep
from simcollapse.neural.idx import IDXError, read_idx, write_idx
from simcollapse.neural.mnist import (
    Digits,
    MNISTFilesError,
    load_builtin,
    load_digits,
    load_idx_folder,
    one_hot,
)
from simcollapse.neural.mnist_theory import (
    mnist_data_problem,
    pixel_ridge_sweep,
    relative_gaps,
    theory_curves,
)
from simcollapse.neural.random_features import (
    RandomFeatureRidge,
    fit_random_features,
    random_feature_weights,
    rf_memory_bytes,
)
from simcollapse.neural.teacher import (
    MixedSplit,
    Teacher,
    draw_split,
    fit_teacher,
    mixed_targets,
    n_synthetic,
)
from simcollapse.neural.two_layer import TwoLayerConfig, TwoLayerFit, TwoLayerNet, train_two_layer

__all__ = [
    "Digits",
    "IDXError",
    "MNISTFilesError",
    "MixedSplit",
    "RandomFeatureRidge",
    "Teacher",
    "TwoLayerConfig",
    "TwoLayerFit",
    "TwoLayerNet",
    "draw_split",
    "fit_random_features",
    "fit_teacher",
    "load_builtin",
    "load_digits",
    "load_idx_folder",
    "mixed_targets",
    "mnist_data_problem",
    "n_synthetic",
    "one_hot",
    "pixel_ridge_sweep",
    "random_feature_sweep",
    "random_feature_weights",
    "relative_gaps",
    "read_idx",
    "rf_memory_bytes",
    "mse_and_accuracy",
    "theory_curves",
    "train_two_layer",
    "two_layer_sweep",
    "write_idx",
]


def __getattr__(name: str) -> Any:
    """``TrainConfig``, the older name of ``TwoLayerConfig`` (a warning names the new one)."""
    if name == "TrainConfig":
        warn_old("neural.TrainConfig")
        return TwoLayerConfig
    raise AttributeError(f"module 'simcollapse.neural' has no attribute {name!r}")
