"""The real data of the language-model experiment: stories read or sampled, split, tokenised.

The stories come from a user corpus (BPE tokens) or the built-in story grammar (byte tokens,
with its exact entropy per token as the irreducible loss), are split into three disjoint sets
(test, generator, student) and packed into rows of one context.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

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
from simcollapse.lm.experiment_config import LMExperiment
from simcollapse.lm.grammar import default_grammar

__all__ = ["LMData", "prepare_data"]


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
        stories = g.sample(int(need * 1.05) + 16, key=exp.data_seed)
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
