"""The story grammar: exact entropy against Monte Carlo, parsing, validation."""

import math

import numpy as np
import pytest

from simcollapse.lm.grammar import StoryGrammar, default_grammar

N_MC = 6000


@pytest.mark.parametrize("plot_probs", [(0.45, 0.35, 0.2), (1.0,), (0.0, 0.5, 0.5)])
def test_exact_entropy_matches_monte_carlo(plot_probs):
    """H(story) (enumerated tables) equals the mean of -log p(sample) within 3 standard errors."""
    g = default_grammar(plot_probs)
    stories = g.sample(N_MC, key=123)
    nll = -np.array([g.log_prob(s) for s in stories])
    assert np.all(np.isfinite(nll)), "the grammar gave zero probability to its own sample"
    se = nll.std(ddof=1) / math.sqrt(N_MC)
    assert abs(nll.mean() - g.entropy) < 3 * se
    lengths = np.array([len(s.encode()) for s in stories])
    se_len = lengths.std(ddof=1) / math.sqrt(N_MC)
    assert abs(lengths.mean() - g.mean_length) < 3 * se_len
    assert lengths.max() <= g.max_length
    assert g.entropy_per_token == pytest.approx(g.entropy / (g.mean_length + 1))


def test_a_few_thousand_sentences_and_ascii_one_line():
    g = default_grammar()
    assert 2000 <= g.n_sentences <= 10000
    for s in g.sample(200, key=0):
        assert s.isascii() and "\n" not in s


def test_log_prob_rejects_what_the_grammar_cannot_make():
    g = default_grammar()
    story = g.sample(1, key=5)[0]
    assert math.isfinite(g.log_prob(story))
    assert g.log_prob(story.replace(".", "!", 1)) == -math.inf
    assert g.log_prob(story[:-1]) == -math.inf
    assert g.log_prob("Hello world.") == -math.inf
    # K = 1 is impossible when plot_probs puts no mass on it
    one_plot = default_grammar((1.0,)).sample(1, key=1)[0]
    assert default_grammar((0.0, 1.0)).log_prob(one_plot) == -math.inf


def test_sampling_is_seeded():
    g = default_grammar()
    assert g.sample(20, key=3) == g.sample(20, key=3)
    assert g.sample(20, key=3) != g.sample(20, key=4)


@pytest.mark.parametrize("bad", [(), (0.5, 0.6), (-0.1, 1.1)])
def test_bad_plot_probs(bad):
    with pytest.raises(ValueError, match="plot_probs"):
        StoryGrammar(bad)


def test_bad_sample_size():
    with pytest.raises(ValueError, match="n must be"):
        default_grammar().sample(-1)
