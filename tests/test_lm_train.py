"""The trainer: a toy GPT really learns the grammar, resumes from checkpoints, mixes at p2."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from simcollapse.lm.compiled_steps import sample_batch
from simcollapse.lm.corpus import Rows
from simcollapse.lm.experiment import prepare_data
from simcollapse.lm.figures import quick_experiment
from simcollapse.lm.grammar import default_grammar
from simcollapse.lm.train import TrainConfig, train

# The quick figures' setting (one-plot grammar stories, nano model, the quick recipe), so every
# test in the process shares one compiled train step.
EXP = dataclasses.replace(quick_experiment(0), n_test=64, n_generator=50, n_student=2000)
RECIPE = dataclasses.replace(EXP.student_train, eval_every=32, checkpoint_every=30)


@pytest.fixture(scope="module")
def grammar_rows():
    data = prepare_data(EXP)
    g = default_grammar(EXP.grammar_plots)
    assert data.test.context == g.max_length + 1  # no story is truncated: the bound is exact
    cfg = EXP.model_config("nano", data.tokenizer.vocab_size, data.test.context)
    return g, cfg, data.student, data.test


@pytest.fixture(scope="module")
def trained(grammar_rows):
    _, cfg, real, test = grammar_rows
    return train(cfg, RECIPE, real, test, jax.random.key(0))


def _targets(rows: Rows) -> np.ndarray:
    mask = np.arange(rows.context)[None, :] < rows.n_valid[:, None]
    return rows.tokens[:, 1:][mask]


def test_toy_model_beats_unigram_and_stays_above_entropy(grammar_rows, trained):
    g, cfg, real, test = grammar_rows
    counts = np.bincount(_targets(real), minlength=cfg.vocab_size) + 1.0  # add-one smoothing
    unigram = -np.mean(np.log(counts / counts.sum())[_targets(test)])
    final = trained.history["test_loss"].iloc[-1]
    assert trained.history["step"].tolist() == [32, 64]
    assert final < unigram - 0.2, (final, unigram)
    assert final > g.entropy_per_token
    assert trained.history["test_loss"].is_monotonic_decreasing
    np.testing.assert_allclose(
        trained.history["tokens"].iloc[-1],
        RECIPE.steps * RECIPE.batch_size * real.n_valid.mean(),
        rtol=0.05,
    )


def test_interrupted_run_resumes_from_its_checkpoint(grammar_rows, trained, tmp_path):
    _, cfg, real, test = grammar_rows

    class Interrupt(Exception):
        pass

    done = []

    def stop_after_40(n):
        done.append(n)
        if len(done) == 40:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(
            cfg,
            RECIPE,
            real,
            test,
            jax.random.key(0),
            checkpoint_dir=tmp_path,
            progress=stop_after_40,
        )
    resumed = train(cfg, RECIPE, real, test, jax.random.key(0), checkpoint_dir=tmp_path)
    assert resumed.resumed_from == 30
    np.testing.assert_allclose(
        resumed.history["test_loss"], trained.history["test_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(resumed.history["tokens"], trained.history["tokens"])


def test_rows_are_synthetic_with_probability_p2():
    n, b = 50, 20000
    real = (jnp.zeros((n, 5), jnp.int32), jnp.full((n,), 3, jnp.int32))
    syn = (jnp.ones((n, 5), jnp.int32), jnp.full((n,), 4, jnp.int32))
    for p2 in (0.0, 0.3, 1.0):
        tokens, n_valid = sample_batch(jax.random.key(1), real, syn, p2, b)
        frac = float(jnp.mean(tokens[:, 0]))
        assert np.all((np.asarray(n_valid) == 4) == (np.asarray(tokens[:, 0]) == 1))
        assert abs(frac - p2) < 4 * np.sqrt(0.25 / b) + 1e-12


def test_bad_p2_and_missing_synthetic(grammar_rows):
    _, cfg, real, test = grammar_rows
    for p2 in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match="p2 must be"):
            train(cfg, RECIPE, real, test, jax.random.key(0), p2=p2)
    with pytest.raises(ValueError, match="needs synthetic rows"):
        train(cfg, RECIPE, real, test, jax.random.key(0), p2=0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, "steps"),
        ({"warmup_steps": 100}, "warmup_steps"),
        ({"lr": 0.0}, "lr"),
        ({"b2": 1.0}, "b2"),
        ({"min_lr_ratio": 2.0}, "min_lr_ratio"),
    ],
)
def test_bad_train_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{"steps": 100, **kwargs})


def test_corrupt_checkpoint_falls_back_to_the_previous_one(grammar_rows, trained, tmp_path):
    """A truncated newest checkpoint: one StoreWarning, resume from the one before, same run."""
    from simcollapse.store import StoreWarning

    _, cfg, real, test = grammar_rows
    recipe = dataclasses.replace(RECIPE, checkpoint_every=15)

    class Interrupt(Exception):
        pass

    def stop_after_40(n, done=[]):  # noqa: B006 - a counter across calls
        done.append(n)
        if len(done) == 40:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(cfg, recipe, real, test, jax.random.key(0), checkpoint_dir=tmp_path / "ck",
              progress=stop_after_40)  # fmt: skip
    for f in (tmp_path / "ck" / "30").rglob("*"):
        if f.is_file():
            f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 3])
    with pytest.warns(StoreWarning, match="step 30"):
        resumed = train(cfg, recipe, real, test, jax.random.key(0), checkpoint_dir=tmp_path / "ck")
    assert resumed.resumed_from == 15
    np.testing.assert_allclose(
        resumed.history["test_loss"], trained.history["test_loss"], rtol=1e-5
    )
