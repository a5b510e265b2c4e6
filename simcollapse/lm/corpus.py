"""Real text for the language-model experiment: reading a corpus, splitting it, tokenising it.

Two sources of real stories (paper Section 5 trains on TinyStories/BabiStories):

* a user corpus: a plain-text file, one story per line, or stories separated by a marker the
  user names (``separator``; ``<|endoftext|>`` is recognised by itself), read by
  ``load_corpus``; it is tokenised with a byte-level BPE tokenizer (the ``tokenizers``
  package) trained on the real training split only and cached beside the data
  (``bpe_tokenizer``);
* the built-in story grammar (``grammar.py``), tokenised byte by byte (``ByteTokenizer``), so the
  per-token entropy of the stream is known exactly.

``split_stories`` makes three disjoint sets of *distinct* stories: a test set, the generator's
real subset (held out from the students) and the students' real pool. ``encode_rows`` turns
stories into fixed-length rows ``[BOS, tokens..., EOS, pad...]`` with the count of valid targets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from simcollapse._aliases import seed_keyword
from simcollapse.keys import as_seed

__all__ = [
    "END_OF_TEXT",
    "BPETokenizer",
    "ByteTokenizer",
    "RealSplits",
    "Rows",
    "Tokenizer",
    "bpe_tokenizer",
    "encode_rows",
    "load_corpus",
    "split_stories",
]


#: The story separator of the TinyStories text files; ``load_corpus`` splits on it when it is there.
END_OF_TEXT = "<|endoftext|>"


class Tokenizer(Protocol):
    """What the experiment needs from a tokenizer.

    A structural protocol: ``ByteTokenizer`` and ``BPETokenizer`` satisfy it; ``encode`` maps
    stories to token ids (without BOS and EOS), ``decode`` maps ids back to text.

    Attributes:
      vocab_size: the number of token ids, BOS and EOS included.
      bos_id, eos_id: the ids that begin and end a row.

    Example:
      >>> tok: Tokenizer = ByteTokenizer()
      >>> tok.encode(["hi"]), tok.decode(tok.encode(["hi"])[0]), (tok.bos_id, tok.eos_id)
      ([[104, 105]], 'hi', (256, 257))
    """

    vocab_size: int
    bos_id: int
    eos_id: int

    def encode(self, stories: Sequence[str]) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


class ByteTokenizer:
    """UTF-8 bytes as tokens 0..255, plus BOS = 256 and EOS = 257 (vocabulary 258).

    Example:
      >>> tok = ByteTokenizer()
      >>> ids = tok.encode(["héllo"])[0]
      >>> tok.vocab_size, len(ids), tok.decode(ids + [tok.eos_id])
      (258, 6, 'héllo')
    """

    vocab_size = 258
    bos_id = 256
    eos_id = 257

    def encode(self, stories: Sequence[str]) -> list[list[int]]:
        return [list(s.encode("utf-8")) for s in stories]

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(int(i) for i in ids if int(i) < 256).decode("utf-8", errors="replace")


class BPETokenizer:
    """A trained ``tokenizers.Tokenizer`` (byte-level BPE) with ``<|bos|>``/``<|eos|>`` specials.

    Example:
      >>> from simcollapse.lm import default_grammar
      >>> tok = bpe_tokenizer(default_grammar().sample(200, key=0), vocab_size=300)
      >>> isinstance(tok, BPETokenizer), tok.vocab_size <= 300, tok.eos_id != tok.bos_id
      (True, True, True)
      >>> story = "the cat sat."
      >>> tok.decode(tok.encode([story])[0]) == story
      True
    """

    def __init__(self, tokenizer: object) -> None:
        self._tok = tokenizer
        self.vocab_size = int(tokenizer.get_vocab_size())
        self.bos_id = int(tokenizer.token_to_id("<|bos|>"))
        self.eos_id = int(tokenizer.token_to_id("<|eos|>"))

    def encode(self, stories: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(list(stories), add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        keep = [int(i) for i in ids if int(i) not in (self.bos_id, self.eos_id)]
        return self._tok.decode(keep)


def load_corpus(path: str | os.PathLike[str], separator: str | None = None) -> list[str]:
    """Read the stories of a plain-text corpus.

    Args:
      path: a UTF-8 text file.
      separator: the marker between stories (e.g. ``"<|endoftext|>"``); None: ``END_OF_TEXT``
        (``"<|endoftext|>"``, as in the TinyStories text files) if the file holds it, else one
        story per line. Each story is stripped of surrounding white space; empty stories are
        dropped.

    Returns:
      The stories, in file order.

    Raises:
      FileNotFoundError: if ``path`` does not exist or is not a file.
      ValueError: if ``separator`` is the empty string, the file is binary or not UTF-8, or it
        holds no story.

    Example:
      >>> import pathlib, tempfile
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "stories.txt"
      >>> _ = path.write_text("Once there was a cat.\\n\\nThe end came soon.\\n")
      >>> load_corpus(path)
      ['Once there was a cat.', 'The end came soon.']
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"corpus file {str(p)!r} does not exist (or is not a file)")
    if separator is not None and separator == "":
        raise ValueError("separator must be a non-empty string or None (one story per line)")
    text = _read_text(p)
    if separator is None and END_OF_TEXT in text:
        separator = END_OF_TEXT
    pieces = text.splitlines() if separator is None else text.split(separator)
    stories = [s.strip() for s in pieces if s.strip()]
    if not stories:
        how = "one story per line" if separator is None else f"separator {separator!r}"
        raise ValueError(f"corpus file {str(p)!r} holds no story ({how}); it is empty")
    return stories


def _read_text(path: Path) -> str:
    """The file as UTF-8 text; a binary or non-UTF-8 file is refused, naming the file."""
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(
            f"corpus file {str(path)!r} is not a text file (a NUL byte at byte {nul}); "
            "give a UTF-8 text file of stories"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"corpus file {str(path)!r} is not UTF-8 text (byte {err.start}: {err.reason}); "
            "give a UTF-8 text file of stories"
        ) from None


@dataclasses.dataclass(frozen=True)
class RealSplits:
    """Three disjoint sets of distinct real stories.

    Attributes:
      test: held-out real stories, on which every model's loss is measured.
      generator: the generator's real training subset (never shown to the students).
      student: the students' real pool.

    Example:
      >>> splits = split_stories([f"s{i}." for i in range(6)], 2, 2, 2, key=0)
      >>> type(splits).__name__, len(set(splits.test) | set(splits.generator) | set(splits.student))
      ('RealSplits', 6)
    """

    test: list[str]
    generator: list[str]
    student: list[str]


@seed_keyword
def split_stories(
    stories: Sequence[str], n_test: int, n_generator: int, n_student: int | None, key: Any
) -> RealSplits:
    """Deduplicate, shuffle (seeded) and cut stories into test / generator / student sets.

    Duplicates are dropped first so the three sets share no story text.

    Args:
      stories: the real stories.
      n_test: size of the test set (>= 1).
      n_generator: size of the generator's subset (>= 1).
      n_student: size of the students' pool (>= 1); None: every remaining story.
      key: the shuffle's randomness, an int or a ``jax.random`` key (NumPy's permutation,
        seeded by ``keys.as_seed(key)``).

    Returns:
      A ``RealSplits``.

    Raises:
      ValueError: if a size is out of range or there are too few distinct stories.

    Example:
      >>> stories = [f"story {i}." for i in range(10)] + ["story 0."]  # one duplicate
      >>> splits = split_stories(stories, n_test=2, n_generator=3, n_student=None, key=0)
      >>> type(splits).__name__, len(splits.test), len(splits.generator), len(splits.student)
      ('RealSplits', 2, 3, 5)
    """
    for name, v in (("n_test", n_test), ("n_generator", n_generator), ("n_student", n_student)):
        if v is not None and (not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    unique = list(dict.fromkeys(stories))
    order = np.random.default_rng(as_seed(key)).permutation(len(unique))
    shuffled = [unique[i] for i in order]
    need = n_test + n_generator + (1 if n_student is None else n_student)
    if len(shuffled) < need:
        raise ValueError(
            f"the corpus has {len(shuffled)} distinct stories, fewer than the {need} needed "
            f"(n_test={n_test}, n_generator={n_generator}, n_student={n_student})"
        )
    a, b = n_test, n_test + n_generator
    c = len(shuffled) if n_student is None else b + n_student
    return RealSplits(test=shuffled[:a], generator=shuffled[a:b], student=shuffled[b:c])


def bpe_tokenizer(
    train_stories: Sequence[str],
    vocab_size: int = 4096,
    cache_dir: str | os.PathLike[str] | None = None,
) -> BPETokenizer:
    """Train (or load from cache) a byte-level BPE tokenizer on the real training split.

    The tokenizer is saved as ``bpe-<vocab>-<hash of the stories>.json`` in ``cache_dir``
    (normally the corpus's folder), so a second run with the same split loads it.

    Args:
      train_stories: the stories it is trained on (the real training split only).
      vocab_size: target vocabulary size, in [260, 1_000_000].
      cache_dir: where to cache it; None or an unwritable folder: not cached (a warning).

    Returns:
      A ``BPETokenizer``.

    Raises:
      ValueError: if ``vocab_size`` is out of range or ``train_stories`` is empty.

    Example:
      >>> from simcollapse.lm import default_grammar
      >>> stories = default_grammar().sample(200, key=0)
      >>> tok = bpe_tokenizer(stories, vocab_size=300)
      >>> len(tok.encode(stories[:1])[0]) < len(stories[0].encode())  # fewer tokens than bytes
      True
    """
    from tokenizers import Tokenizer as HFTokenizer  # noqa: PLC0415 - optional extra
    from tokenizers import decoders, models, pre_tokenizers, trainers  # noqa: PLC0415 - optional extra

    if not isinstance(vocab_size, (int, np.integer)) or not 260 <= vocab_size <= 1_000_000:
        raise ValueError(f"vocab_size must be an integer in [260, 1000000], got {vocab_size!r}")
    if len(train_stories) == 0:
        raise ValueError("train_stories is empty; a tokenizer needs text to train on")
    digest = hashlib.sha256("\n".join(train_stories).encode()).hexdigest()[:16]
    cache = None if cache_dir is None else Path(cache_dir) / f"bpe-{vocab_size}-{digest}.json"
    if cache is not None and cache.is_file():
        return BPETokenizer(HFTokenizer.from_file(str(cache)))
    tok = HFTokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=int(vocab_size),
        special_tokens=["<|bos|>", "<|eos|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(train_stories), trainer)
    if cache is not None:
        try:
            tmp = cache.with_suffix(f".tmp{os.getpid()}")
            tok.save(str(tmp))
            os.replace(tmp, cache)
        except OSError as err:
            warnings.warn(f"could not cache the tokenizer at {cache}: {err}", stacklevel=2)
    return BPETokenizer(tok)


@dataclasses.dataclass(frozen=True)
class Rows:
    """Stories as fixed-length token rows.

    Attributes:
      tokens: int32 array (n, context + 1): ``[BOS, story tokens..., EOS, EOS padding...]``;
        a model reads ``tokens[:, :-1]`` and predicts ``tokens[:, 1:]``.
      n_valid: int32 array (n,): how many targets of each row count (story tokens + EOS, at most
        ``context``); later targets are padding and are masked out of every loss.

    Example:
      >>> rows = encode_rows([[5, 6], [7]], context=3, bos_id=0, eos_id=1)
      >>> type(rows).__name__, rows.tokens.shape, rows.n_valid.tolist()
      ('Rows', (2, 4), [3, 2])
    """

    tokens: np.ndarray
    n_valid: np.ndarray

    @property
    def context(self) -> int:
        return int(self.tokens.shape[1] - 1)

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


def encode_rows(
    token_lists: Sequence[Sequence[int]],
    context: int,
    bos_id: int,
    eos_id: int,
    *,
    allow_long_context: bool = False,
) -> Rows:
    """Pack tokenised stories one per row, truncating those longer than the context.

    Args:
      token_lists: the stories' token ids (without BOS/EOS).
      context: model context (number of predicted positions per row), >= 1.
      bos_id: id of the begin-of-story token.
      eos_id: id of the end-of-story token (also used as padding).
      allow_long_context: permit a context longer than every story (rows then are partly
        padding); by default that is an error, since it usually means a wrong unit or setting.

    Returns:
      ``Rows``.

    Raises:
      ValueError: if ``token_lists`` is empty, ``context`` < 1, or ``context`` exceeds the longest
        story plus its EOS token (and ``allow_long_context`` is False).

    Example:
      >>> rows = encode_rows([[5, 6, 7], [8]], context=4, bos_id=0, eos_id=1)
      >>> rows.tokens.tolist(), rows.n_valid.tolist()
      ([[0, 5, 6, 7, 1], [0, 8, 1, 1, 1]], [4, 2])
    """
    if not isinstance(context, (int, np.integer)) or context < 1:
        raise ValueError(f"context must be an integer >= 1, got {context!r}")
    if len(token_lists) == 0:
        raise ValueError("no stories to encode (token_lists is empty)")
    longest = max(len(t) for t in token_lists) + 1
    if context > longest and not allow_long_context:
        raise ValueError(
            f"context={context} is longer than every story: the longest has {longest} tokens "
            f"including its end-of-story token; use a context in [1, {longest}]"
        )
    n = len(token_lists)
    tokens = np.full((n, context + 1), eos_id, dtype=np.int32)
    tokens[:, 0] = bos_id
    n_valid = np.empty(n, dtype=np.int32)
    for i, t in enumerate(token_lists):
        body = list(t)[:context]
        tokens[i, 1 : 1 + len(body)] = body
        n_valid[i] = min(len(body) + 1, context)
    return Rows(tokens=tokens, n_valid=n_valid)
