"""The language-model collapse experiment: a generator, synthetic stories, students across p2.

Follows the paper's Section 5 (GPT-2 on BabiStories): a *generator* GPT is trained on a subset of
the real stories that is then held out of the students' data; it samples synthetic stories
(temperature and top-p configurable, 1 and 1 by default) and filters them for quality as the paper
does: the ``filter_frac`` of samples with the highest per-token perplexity under the generator (the
model trained on real stories) are dropped, and the fraction kept and the perplexity threshold are
recorded with every run; its test loss on real text is recorded as the synthetic data's quality.
*Students* of several sizes are then trained from scratch on the same token budget, each batch
row synthetic with probability p2, and their test loss on held-out real stories is logged against
tokens seen.

Every student run (size, p2, seed) is a point of a sweep: with a ``ResultStore`` a finished
run is cached as one parquet table and a rerun resumes where it stopped (an unfinished run
resumes from its orbax checkpoint). The tidy tables have one row per (run, evaluation).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd

from simcollapse.lm.corpus import (
    ByteTokenizer,
    RealSplits,
    Rows,
    Tokenizer,
    bpe_tokenizer,
    encode_rows,
    load_corpus,
    split_stories,
)
from simcollapse.lm.grammar import default_grammar
from simcollapse.lm.model import SIZES, GPTConfig
from simcollapse.lm.sample import generate
from simcollapse.lm.train import TrainConfig, evaluate, train
from simcollapse.store import (
    ResultStore,
    cached_run,
    config_hash,
    experiment_key,
    file_fingerprint,
)

__all__ = ["LMExperiment", "LMData", "prepare_data", "run_generator", "run_lm_experiment"]

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


@dataclasses.dataclass
class LMData:
    """Tokenised real data of an experiment.

    Attributes:
      splits: the three disjoint story sets.
      tokenizer: byte-level (grammar) or BPE (corpus).
      test, generator, student: their rows.
      entropy: the irreducible loss in nats/token (grammar), NaN for a user corpus.

    Example:
      >>> data = prepare_data(LMExperiment(n_test=8, n_generator=16, n_student=32, context=64))
      >>> type(data).__name__, type(data.tokenizer).__name__, data.entropy > 0
      ('LMData', 'ByteTokenizer', True)
    """

    splits: RealSplits
    tokenizer: Tokenizer
    test: Rows
    generator: Rows
    student: Rows
    entropy: float


def prepare_data(exp: LMExperiment) -> LMData:
    """Read or sample the real stories, split them, tokenise them, pack them into rows.

    The row context is ``min(exp.context, longest story + EOS)``, where the longest story is
    the grammar's longest possible one (so no grammar story is ever truncated and the entropy
    bound is exact) or the corpus's longest.

    Raises:
      FileNotFoundError / ValueError: a missing or empty corpus, too few stories.

    Example:
      >>> exp = LMExperiment(n_test=8, n_generator=16, n_student=32, context=64)
      >>> data = prepare_data(exp)
      >>> data.test.tokens.shape[0], data.generator.tokens.shape[0], data.student.tokens.shape[0]
      (8, 16, 32)
    """
    if exp.corpus is None:
        g = default_grammar(exp.grammar_plots)
        n_student = exp.n_student or 4000
        need = exp.n_test + exp.n_generator + n_student
        stories = g.sample(int(need * 1.05) + 16, seed=exp.data_seed)
        splits = split_stories(stories, exp.n_test, exp.n_generator, n_student, exp.data_seed)
        tok: Tokenizer = ByteTokenizer()
        entropy = g.entropy_per_token
    else:
        stories = load_corpus(exp.corpus, exp.separator)
        splits = split_stories(stories, exp.n_test, exp.n_generator, exp.n_student, exp.data_seed)
        tok = bpe_tokenizer(
            splits.generator + splits.student, exp.bpe_vocab, Path(exp.corpus).parent
        )
        entropy = float("nan")
    ids = {k: tok.encode(getattr(splits, k)) for k in ("test", "generator", "student")}
    if exp.corpus is None:  # the grammar's longest possible story: no truncation, fixed shape
        longest = default_grammar(exp.grammar_plots).max_length + 1
    else:
        longest = max(len(t) for v in ids.values() for t in v) + 1
    context = min(exp.context, longest)
    rows = {
        k: encode_rows(v, context, tok.bos_id, tok.eos_id, allow_long_context=True)
        for k, v in ids.items()
    }
    return LMData(splits, tok, rows["test"], rows["generator"], rows["student"], entropy)


def run_generator(
    exp: LMExperiment, data: LMData, store: ResultStore | None = None
) -> tuple[Rows, dict[str, float]]:
    """Train the generator on its real subset, sample, filter; cached in the store.

    Returns:
      (synthetic rows kept after the filter, info dict with generator_test_loss,
      synthetic_nll (mean per-token NLL of the kept samples under the generator),
      n_kept, kept_fraction (n_kept / samples drawn), perplexity_threshold (exp of the largest
      per-token NLL kept: every kept sample has a per-token perplexity at or below it), and
      mean_tokens).

    Example:
      >>> from simcollapse.lm import TrainConfig
      >>> steps = TrainConfig(steps=2, batch_size=4, warmup_steps=1)
      >>> exp = LMExperiment(n_test=8, n_generator=16, n_student=32, context=64, n_synthetic=8,
      ...                generator_size="nano", generator_train=steps)
      >>> synthetic, stats = run_generator(exp, prepare_data(exp))
      >>> synthetic.tokens.shape[0], stats["n_kept"]  # no quality filter: all 8 kept
      (8, 8)
    """
    key = exp.run_key("generator")

    def compute() -> pd.DataFrame:
        cfg = exp.model_config(exp.generator_size, data.tokenizer.vocab_size, data.test.context)
        k_train, k_sample = jax.random.split(jax.random.key(exp.data_seed))
        res = train(cfg, exp.generator_train, data.generator, data.test, k_train)
        test_loss = evaluate(cfg, res.params, data.test, exp.generator_train.eval_batch)
        stories, nll = generate(
            cfg,
            res.params,
            k_sample,
            exp.n_synthetic,
            data.test.context,
            data.tokenizer.bos_id,
            data.tokenizer.eos_id,
            temperature=exp.temperature,
            top_p=exp.top_p,
        )
        n_drop = int(np.floor(exp.filter_frac * len(stories)))
        kept = np.ones(len(stories), bool)
        if n_drop:
            kept[np.argsort(-nll, kind="stable")[:n_drop]] = False
        return pd.DataFrame(
            {
                "tokens": [np.asarray(s, np.int32) for s in stories],
                "nll": nll,
                "kept": kept,
                "generator_test_loss": test_loss,
            }
        )

    table = cached_run(store, "lm_generator", key, compute, source=exp.source())
    kept = table[table["kept"]]
    rows = encode_rows(
        [list(t) for t in kept["tokens"]],
        data.test.context,
        data.tokenizer.bos_id,
        data.tokenizer.eos_id,
        allow_long_context=True,
    )
    info = {
        "generator_test_loss": float(table["generator_test_loss"].iloc[0]),
        "synthetic_nll": float(kept["nll"].mean()),
        "n_kept": len(kept),
        "kept_fraction": len(kept) / len(table),
        "perplexity_threshold": float(np.exp(kept["nll"].max())),
        "mean_tokens": float(np.mean([len(t) for t in kept["tokens"]])),
    }
    return rows, info


def run_lm_experiment(
    exp: LMExperiment,
    store: ResultStore | None = None,
    *,
    progress: bool = False,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Run (or load) every student of the experiment.

    Args:
      exp: the settings.
      store: caches the generator and each student run; with it, a rerun resumes (unfinished
        runs from their orbax checkpoint under ``store.root/lm_checkpoints``). None: results
        are not kept.
      progress: show a tqdm bar over all student steps.
      on_run: called with each finished run's description (size, p2, seed).

    Returns:
      A tidy DataFrame, one row per (size, p2, seed, evaluation): size, layers, width, heads,
      n_params, p2, seed, step, tokens, train_loss, test_loss, entropy, excess_loss (test_loss
      - entropy; NaN for a user corpus), generator_test_loss, synthetic_nll, n_kept,
      kept_fraction, perplexity_threshold (the quality filter, see ``run_generator``),
      mean_tokens.

    Example:
      >>> from simcollapse.lm import quick_experiment
      >>> exp = quick_experiment()
      >>> len(exp.sizes) * len(exp.p2s) * len(exp.seeds)  # students to train: minutes on a CPU
      8
      >>> table = run_lm_experiment(exp, store=None)  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    data = prepare_data(exp)
    synthetic, info = run_generator(exp, data, store)
    runs = [(s, p2, seed) for s in exp.sizes for p2 in exp.p2s for seed in exp.seeds]
    bar = tqdm(total=len(runs) * exp.student_train.steps, desc="lm students", disable=not progress)
    tables = []
    for size, p2, seed in runs:
        cfg = exp.model_config(size, data.tokenizer.vocab_size, data.test.context)
        key = {**exp.run_key("student"), "size": size, "p2": float(p2), "seed": int(seed)}

        def compute(cfg=cfg, key=key, p2=p2, seed=seed, size=size) -> pd.DataFrame:
            ckpt = None
            if store is not None:
                ckpt = store.root / "lm_checkpoints" / config_hash(key)
            res = train(
                cfg,
                exp.student_train,
                data.student,
                data.test,
                jax.random.key(seed),
                synthetic=synthetic,
                p2=float(p2),
                checkpoint_dir=ckpt,
                progress=bar.update,
            )
            h = res.history.assign(
                size=size,
                layers=cfg.layers,
                width=cfg.width,
                heads=cfg.heads,
                n_params=res.n_params,
                p2=float(p2),
                seed=int(seed),
                entropy=data.entropy,
                **info,
            )
            if ckpt is not None:
                shutil.rmtree(ckpt, ignore_errors=True)
            return h

        if store is not None and store.has("lm_student", experiment_key(key, exp.source())):
            bar.update(exp.student_train.steps)
        table = cached_run(store, "lm_student", key, compute, source=exp.source())
        tables.append(table)
        if on_run is not None:
            on_run({"size": size, "p2": p2, "seed": seed})
    bar.close()
    out = pd.concat(tables, ignore_index=True)
    out["excess_loss"] = out["test_loss"] - out["entropy"]
    cols = [
        "size",
        "layers",
        "width",
        "heads",
        "n_params",
        "p2",
        "seed",
        "step",
        "tokens",
        "train_loss",
        "test_loss",
        "entropy",
        "excess_loss",
        "generator_test_loss",
        "synthetic_nll",
        "n_kept",
        "kept_fraction",
        "perplexity_threshold",
        "mean_tokens",
    ]
    return out[cols]
