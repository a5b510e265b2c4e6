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

import shutil
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from simcollapse.lm.corpus import Rows, encode_rows
from simcollapse.lm.data import LMData, prepare_data
from simcollapse.lm.experiment_config import PAPER_P2S as PAPER_P2S
from simcollapse.lm.experiment_config import LMExperiment
from simcollapse.lm.sample import generate
from simcollapse.lm.students import train_students
from simcollapse.lm.train import evaluate, train
from simcollapse.store import ResultStore, cached_run, config_hash, experiment_key

__all__ = ["LMExperiment", "LMData", "prepare_data", "run_generator", "run_lm_experiment"]

# The columns of ``run_lm_experiment``'s table, in order.
STUDENT_COLUMNS = (
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
)


def _generator_samples(exp: LMExperiment, data: LMData) -> pd.DataFrame:
    """Train the generator, sample ``exp.n_synthetic`` stories, mark the ones the filter keeps.

    Returns:
      One row per sample: tokens, nll (per token, under the generator), kept, and the
      generator's test loss on real text.
    """
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


def _synthetic_rows(data: LMData, table: pd.DataFrame) -> tuple[Rows, dict[str, float]]:
    """The kept samples of the generator's table as rows, and the summary ``run_generator``
    returns beside them."""
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
    table = cached_run(
        store, "lm_generator", key, lambda: _generator_samples(exp, data), source=exp.source()
    )
    return _synthetic_rows(data, table)


def _student_table(exp, cfg, res, size, p2, seed, data, info) -> pd.DataFrame:
    """One student's evaluations as the tidy rows of ``run_lm_experiment``."""
    return res.history.assign(
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


def _side_by_side_students(
    exp: LMExperiment,
    data: LMData,
    generated: tuple[Rows, dict[str, float]],
    store: ResultStore | None,
    bar: Any,
    runs: list[tuple[str, float, int]],
    source: dict[str, Any] | str,
) -> None:
    """Train the runs of one size that the store lacks side by side (``train_students``) and
    store each as its own run, so the cache and the one-at-a-time path read the same entries."""

    synthetic, info = generated
    size = runs[0][0]
    keys = {
        r: {**exp.run_key("student"), "size": size, "p2": float(r[1]), "seed": int(r[2])}
        for r in runs
    }
    todo = [
        r
        for r in runs
        if store is None or not store.has("lm_student", experiment_key(keys[r], source))
    ]
    if len(todo) < 2 or store is None:
        return
    cfg = exp.model_config(size, data.tokenizer.vocab_size, data.test.context)
    ckpt = store.root / "lm_checkpoints" / config_hash({"students": [keys[r] for r in todo]})
    results = train_students(
        cfg,
        exp.student_train,
        data.student,
        data.test,
        [jax.random.key(seed) for _, _, seed in todo],
        [p2 for _, p2, _ in todo],
        synthetic=synthetic,
        checkpoint_dir=ckpt,
        progress=None,  # counted when each stored run is read back below
    )
    for (_, p2, seed), res in zip(todo, results, strict=True):
        table = _student_table(exp, cfg, res, size, p2, seed, data, info)
        cached_run(store, "lm_student", keys[(size, p2, seed)], lambda t=table: t, source=source)
    shutil.rmtree(ckpt, ignore_errors=True)


def _cached_student(
    exp: LMExperiment,
    data: LMData,
    generated: tuple[Rows, dict[str, float]],
    store: ResultStore | None,
    bar: Any,
    run: tuple[str, float, int],
    source: dict[str, Any] | str,
) -> pd.DataFrame:
    """Train (or load) one student run (size, p2, seed); its evaluations as a tidy table.

    ``source`` is ``exp.source()``, computed once per experiment (it hashes the corpus file).

    An unfinished run resumes from its orbax checkpoint under ``store.root/lm_checkpoints``,
    removed once the run is stored.
    """
    size, p2, seed = run
    synthetic, info = generated
    cfg = exp.model_config(size, data.tokenizer.vocab_size, data.test.context)
    key = {**exp.run_key("student"), "size": size, "p2": float(p2), "seed": int(seed)}

    def compute() -> pd.DataFrame:
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
        h = _student_table(exp, cfg, res, size, p2, seed, data, info)
        if ckpt is not None:
            shutil.rmtree(ckpt, ignore_errors=True)
        return h

    if store is not None and store.has("lm_student", experiment_key(key, source)):
        bar.update(exp.student_train.steps)
    return cached_run(store, "lm_student", key, compute, source=source)


def run_lm_experiment(
    exp: LMExperiment,
    store: ResultStore | None = None,
    *,
    progress: bool = False,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    side_by_side: bool | None = None,
) -> pd.DataFrame:
    """Run (or load) every student of the experiment.

    Args:
      exp: the settings.
      store: caches the generator and each student run; with it, a rerun resumes (unfinished
        runs from their orbax checkpoint under ``store.root/lm_checkpoints``). None: results
        are not kept.
      progress: show a tqdm bar over all student steps.
      on_run: called with each finished run's description (size, p2, seed).
      side_by_side: train the (p2, seed) runs of each size together in one compiled program
        (``lm.students.train_students``, chunked by a memory budget, checkpointed per chunk);
        needs a store, where each run is kept as its own entry. Each run equals its one-at-a-time
        training up to float rounding. None: on an accelerator only (on a CPU these small
        models are compute-bound and measured no faster side by side; see the ``students``
        benchmark suite).

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

    data = prepare_data(exp)
    generated = run_generator(exp, data, store)
    runs = [(s, p2, seed) for s in exp.sizes for p2 in exp.p2s for seed in exp.seeds]
    bar = tqdm(total=len(runs) * exp.student_train.steps, desc="lm students", disable=not progress)
    source = exp.source()
    if side_by_side is None:
        side_by_side = jax.default_backend() != "cpu"
    if side_by_side:
        for size in exp.sizes:
            mine = [r for r in runs if r[0] == size]
            _side_by_side_students(exp, data, generated, store, bar, mine, source)
    tables = []
    for size, p2, seed in runs:
        run = (size, p2, seed)
        tables.append(_cached_student(exp, data, generated, store, bar, run, source))
        if on_run is not None:
            on_run({"size": size, "p2": p2, "seed": seed})
    bar.close()
    out = pd.concat(tables, ignore_index=True)
    out["excess_loss"] = out["test_loss"] - out["entropy"]
    return out[list(STUDENT_COLUMNS)]
