"""The settings of the language-model collapse experiment and the store keys they give.

Every student run (size, p2, seed) is a point of a sweep: its store key holds only the settings
the run depends on (``LMExperiment.run_key``), so growing the grid keeps every stored run valid.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from simcollapse.lm.model import SIZES, GPTConfig
from simcollapse.lm.optimizer import TrainConfig
from simcollapse.store import file_fingerprint

__all__ = ["PAPER_P2S", "LMExperiment"]

PAPER_P2S = (0.0, 0.001, 0.01, 0.1, 0.5, 1.0)


@dataclasses.dataclass(frozen=True)
class LMExperiment:
    """Settings of one language-model collapse experiment.

    Attributes:
      corpus: a user corpus file; None: the built-in story grammar (byte tokens).
      grammar_plots: the grammar's distribution of the number of plot sentences.
      separator: story separator of the corpus; None: "<|endoftext|>" if the file holds it,
        else one story per line.
      bpe_vocab: BPE vocabulary size for a user corpus.
      n_test, n_generator, n_student: sizes of the three disjoint real sets (``n_student``
        None: every remaining story of a corpus).
      context: the longest row; clipped to the longest real story + EOS.
      sizes: student sizes, names of ``model.SIZES`` (layers, width, heads).
      generator_size: the generator's size (a name of ``model.SIZES``).
      p2s: synthetic fractions, each in [0, 1].
      seeds: student seeds (jax.random keys); the data and the generator use ``data_seed``.
      data_seed: seed of the grammar sample, the splits and the generator.
      student_train, generator_train: optimisation settings (the students' ``steps`` x
        ``batch_size`` rows is the common token budget).
      n_synthetic: synthetic stories sampled (before filtering).
      temperature, top_p: generator sampling settings.
      filter_frac: fraction of samples dropped, highest generator perplexity first, in [0, 1).
      dropout, positions, bf16: model options shared by every model.

    Example:
      >>> exp = LMExperiment(n_test=8, n_generator=16, n_student=32, context=64, sizes=("nano",))
      >>> exp.corpus is None, exp.sizes, exp.p2s == PAPER_P2S
      (True, ('nano',), True)
      >>> LMExperiment(p2s=(1.5,))
      Traceback (most recent call last):
          ...
      ValueError: p2 must be in [0, 1], got p2=1.5 in p2s=(1.5,)
    """

    corpus: str | None = None
    grammar_plots: tuple[float, ...] = (0.45, 0.35, 0.2)
    separator: str | None = None
    bpe_vocab: int = 4096
    n_test: int = 128
    n_generator: int = 200
    n_student: int | None = 3000
    context: int = 512
    sizes: tuple[str, ...] = ("toy", "tiny")
    generator_size: str = "toy"
    p2s: tuple[float, ...] = PAPER_P2S
    seeds: tuple[int, ...] = (0,)
    data_seed: int = 0
    student_train: TrainConfig = TrainConfig()
    generator_train: TrainConfig = TrainConfig()
    n_synthetic: int = 1000
    temperature: float = 1.0
    top_p: float = 1.0
    filter_frac: float = 0.0
    dropout: float = 0.0
    positions: str = "rope"
    bf16: bool = False

    def __post_init__(self) -> None:
        if len(self.p2s) == 0:
            raise ValueError("p2s must hold at least one synthetic fraction")
        for p2 in self.p2s:
            if not isinstance(p2, (int, float)) or not 0.0 <= p2 <= 1.0:
                raise ValueError(f"p2 must be in [0, 1], got p2={p2!r} in p2s={self.p2s!r}")
        for name in (*self.sizes, self.generator_size):
            if name not in SIZES:
                raise ValueError(f"unknown model size {name!r}; known sizes: {', '.join(SIZES)}")
        if len(self.sizes) == 0 or len(self.seeds) == 0:
            raise ValueError("sizes and seeds must each hold at least one entry")
        if not 0.0 <= self.filter_frac < 1.0:
            raise ValueError(f"filter_frac must be in [0, 1), got {self.filter_frac!r}")
        if not isinstance(self.n_synthetic, int) or self.n_synthetic < 1:
            raise ValueError(f"n_synthetic must be an integer >= 1, got {self.n_synthetic!r}")
        if not isinstance(self.context, int) or self.context < 2:
            raise ValueError(f"context must be an integer >= 2, got {self.context!r}")
        if not isinstance(self.temperature, (int, float)) or self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature!r}")
        if not isinstance(self.top_p, (int, float)) or not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")

    def key(self) -> dict[str, Any]:
        """A JSON-like description (for the result store's hash).

        The corpus enters the cache key through ``source``.
        """
        d = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    def source(self) -> dict[str, Any] | str:
        """The data source for the cache key: the corpus file's fingerprint (path and SHA-256,
        so an edited corpus makes the stored runs stale), or the built-in grammar."""
        if self.corpus is not None and Path(self.corpus).is_file():
            return file_fingerprint(self.corpus)
        return "grammar"

    def run_key(self, part: str) -> dict[str, Any]:
        """The store key of a part: only the settings it depends on, so growing the grid
        (more sizes, p2 values or seeds) keeps every stored run valid.

        Args:
          part: "generator" (data + generator settings) or "student" (that, plus the students'
            recipe; the run's own size, p2 and seed are added by the caller).
        """
        key = self.key()
        for grid in ("sizes", "p2s", "seeds"):
            key.pop(grid)
        if part == "generator":
            key.pop("student_train")
        return {"part": part, **key}

    def model_config(self, size: str, vocab_size: int, context: int) -> GPTConfig:
        layers, width, heads = SIZES[size]
        return GPTConfig(
            vocab_size=vocab_size,
            layers=layers,
            width=width,
            heads=heads,
            context=context,
            dropout=self.dropout,
            positions=self.positions,  # type: ignore[arg-type]
            bf16=self.bf16,
        )
