"""Corpus reading, splitting, tokenising and row packing; bad input gives clear errors."""

import numpy as np
import pytest

from simcollapse.lm.corpus import (
    ByteTokenizer,
    bpe_tokenizer,
    encode_rows,
    load_corpus,
    split_stories,
)
from simcollapse.lm.experiment import LMExperiment, prepare_data
from simcollapse.lm.grammar import default_grammar


def test_missing_corpus(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_corpus(tmp_path / "nope.txt")


@pytest.mark.parametrize("text", ["", "\n\n   \n"])
def test_empty_corpus(tmp_path, text):
    path = tmp_path / "empty.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match="holds no story"):
        load_corpus(path)


def test_lines_and_separator(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("one story\n\ntwo\n")
    assert load_corpus(path) == ["one story", "two"]
    path.write_text("a b\nc<|endoftext|>d\n<|endoftext|>  <|endoftext|>e")
    assert load_corpus(path, "<|endoftext|>") == ["a b\nc", "d", "e"]
    assert load_corpus(path) == ["a b\nc", "d", "e"]  # TinyStories' marker is found by itself
    assert load_corpus(path, "\n") == ["a b", "c<|endoftext|>d", "<|endoftext|>  <|endoftext|>e"]
    with pytest.raises(ValueError, match="separator"):
        load_corpus(path, "")


def test_context_longer_than_any_story_is_an_error():
    tok = ByteTokenizer()
    ids = tok.encode(["abc", "hello"])
    with pytest.raises(ValueError, match="longer than every story"):
        encode_rows(ids, 7, tok.bos_id, tok.eos_id)
    rows = encode_rows(ids, 6, tok.bos_id, tok.eos_id)  # "hello" + EOS fits exactly
    assert rows.tokens.shape == (2, 7)
    np.testing.assert_array_equal(rows.tokens[0], [256, 97, 98, 99, 257, 257, 257])
    np.testing.assert_array_equal(rows.n_valid, [4, 6])


def test_long_stories_are_truncated():
    tok = ByteTokenizer()
    rows = encode_rows(tok.encode(["abcdefgh"]), 4, tok.bos_id, tok.eos_id)
    np.testing.assert_array_equal(rows.tokens[0], [256, 97, 98, 99, 100])
    assert rows.n_valid[0] == 4


def test_bpe_tokenizer_round_trip_and_cache(tmp_path):
    stories = default_grammar().sample(300, key=0)
    tok = bpe_tokenizer(stories, vocab_size=400, cache_dir=tmp_path)
    cached = list(tmp_path.glob("bpe-400-*.json"))
    assert len(cached) == 1
    assert tok.vocab_size <= 400
    ids = tok.encode(stories[:20])
    assert [tok.decode(i) for i in ids] == stories[:20]
    assert np.mean([len(i) for i in ids]) < 0.6 * np.mean([len(s) for s in stories[:20]])
    again = bpe_tokenizer(stories, vocab_size=400, cache_dir=tmp_path)
    assert again.encode(stories[:5]) == tok.encode(stories[:5])
    with pytest.raises(ValueError, match="vocab_size"):
        bpe_tokenizer(stories, vocab_size=10)


def test_split_removes_duplicates_and_checks_sizes():
    stories = ["a", "b", "a", "c", "d", "b", "e"]
    s = split_stories(stories, 1, 2, None, key=0)
    assert len(s.test) == 1 and len(s.generator) == 2 and len(s.student) == 2
    assert sorted(s.test + s.generator + s.student) == ["a", "b", "c", "d", "e"]
    with pytest.raises(ValueError, match="distinct stories"):
        split_stories(stories, 3, 3, None, key=0)
    with pytest.raises(ValueError, match="n_test"):
        split_stories(stories, 0, 1, 1, key=0)


def _assert_disjoint(data):
    test, gen, student = (
        set(x) for x in (data.splits.test, data.splits.generator, data.splits.student)
    )
    assert not test & gen and not test & student and not gen & student
    assert len(gen) > 0 and len(student) > 0


def test_generator_and_student_real_data_do_not_overlap_grammar():
    exp = LMExperiment(n_test=50, n_generator=300, n_student=3000, grammar_plots=(1.0,))
    data = prepare_data(exp)
    _assert_disjoint(data)
    assert len(data.generator) == 300 and len(data.student) == 3000
    # the rows are those stories, in order
    tok = ByteTokenizer()
    assert (
        tok.decode(data.generator.tokens[0, 1 : data.generator.n_valid[0]])
        == (data.splits.generator[0])
    )


def test_generator_and_student_real_data_do_not_overlap_corpus(tmp_path):
    stories = default_grammar().sample(400, key=1)
    path = tmp_path / "stories.txt"
    path.write_text("\n".join(stories + stories[:100]) + "\n")  # with duplicates
    exp = LMExperiment(corpus=str(path), n_test=40, n_generator=60, n_student=None, bpe_vocab=300)
    data = prepare_data(exp)
    _assert_disjoint(data)
    assert len(data.splits.student) == len(set(stories)) - 100
    assert list(tmp_path.glob("bpe-300-*.json")), "the tokenizer is cached beside the data"
    assert np.isnan(data.entropy)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p2s": (0.0, 1.5)}, "p2"),
        ({"p2s": (-0.1,)}, "p2"),
        ({"sizes": ("huge",)}, "unknown model size"),
        ({"filter_frac": 1.0}, "filter_frac"),
        ({"top_p": 0.0}, "top_p"),
    ],
)
def test_bad_experiment_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LMExperiment(**kwargs)
