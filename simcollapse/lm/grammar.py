"""A probabilistic story grammar whose byte-level entropy is known exactly.

The built-in real data of the language-model experiment (paper Section 5, where GPT-2 models are
trained on TinyStories/BabiStories mixed with synthetic stories). Stories look like

    Zoe was a shy fox who lived in a barn. Zoe found a ball by the pond. Zoe gave the ball
    to an owl. In the end, Zoe was happy.

A story is: one intro sentence, ``K`` plot sentences (``K`` in {1, 2, 3} by default, drawn
independently of the rest) and one ending sentence. The intro picks a hero (name, adjective,
kind, home); the plot and ending sentences are drawn independently given the hero's name, each
from a small set of templates with uniformly drawn fillers.

Exact entropy. Every sentence ends in ". " (or "." at the very end) and no sentence contains a
full stop, so a story splits into its sentences in one way only; the first is the intro, the
last is the ending, ``K`` is the number in between, and the intro fixes the hero's name. Hence

    H(story) = H(intro) + H(K) + E[K] * E_name H(plot | name) + E_name H(ending | name),

where each sentence entropy is computed from the *string* distribution of that sentence (every
template and filler combination enumerated, equal strings merged), so the formula is exact for
the byte sequence, not just for the derivation. The per-token entropy of the byte stream a
model is trained on (each story followed by one end-of-story token) is

    h = H(story) / (E[len(story)] + 1)      (nats per token),

the irreducible loss: no model's expected token-averaged cross-entropy on stories drawn from the
grammar can go below it. ``log_prob`` parses a story back into its sentences and returns its
exact log-probability, so ``-mean(log_prob(sample))`` is a Monte Carlo estimate of H(story).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simcollapse._aliases import seed_keyword
from simcollapse.keys import as_seed

__all__ = ["StoryGrammar", "default_grammar"]

_NAMES = ("Lily", "Tom", "Mia", "Ben", "Sue", "Max", "Anna", "Jack", "Zoe", "Sam", "Ella", "Leo")
_ADJECTIVES = ("little", "happy", "brave", "shy", "kind", "curious")
_KINDS = ("girl", "boy", "cat", "dog", "bunny", "bird", "fox", "bear")
_HOMES = ("a town", "the woods", "a house", "a barn", "a tree", "the park")
_OBJECTS = ("ball", "kite", "stone", "box", "car", "hat", "doll", "map")
_SPOTS = ("pond", "hill", "river", "garden", "road", "bridge")
_FRIENDS = ("a frog", "a duck", "an owl", "a mouse", "a pup", "a crab")
_FEELINGS = ("happy", "sad", "scared", "proud", "sleepy", "excited")
_WEATHER = ("rain", "snow", "get dark")

# Plot templates: (template, probability). ``{n}`` is the hero's name, ``{o}`` an object,
# ``{s}`` a spot, ``{f}`` a friend, ``{e}`` a feeling, ``{w}`` a weather.
_PLOTS = (
    ("{n} found a {o} by the {s}.", 0.25),
    ("{n} played with {f}.", 0.2),
    ("{n} gave the {o} to {f}.", 0.15),
    ("It began to {w}, so {n} ran home.", 0.1),
    ("{n} felt {e}.", 0.2),
    ("{f} helped {n} cross the {s}.", 0.1),
)
_ENDINGS = (
    ("In the end, {n} was {e}.", 0.5),
    ("In the end, {n} and {f} were friends.", 0.3),
    ("In the end, {n} went to bed with the {o}.", 0.2),
)
_K_PROBS = (0.45, 0.35, 0.2)  # default P(K = 1), P(K = 2), P(K = 3)


def _fillers(template: str) -> list[dict[str, str]]:
    """Every filler assignment of a template's slots other than the name (uniform)."""
    slots = {"o": _OBJECTS, "s": _SPOTS, "f": _FRIENDS, "e": _FEELINGS, "w": _WEATHER}
    used = [k for k in slots if "{" + k + "}" in template]
    return [
        dict(zip(used, combo, strict=True))
        for combo in itertools.product(*(slots[k] for k in used))
    ]


def _sentence_table(
    templates: Sequence[tuple[str, float]], name: str, capitalise: bool = True
) -> dict[str, float]:
    """The string distribution of one sentence given the hero's name (equal strings merged)."""
    table: dict[str, float] = {}
    for template, weight in templates:
        fills = _fillers(template)
        for fill in fills:
            text = template.format(n=name, **fill)
            if capitalise:
                text = text[0].upper() + text[1:]
            table[text] = table.get(text, 0.0) + weight / len(fills)
    return table


def _entropy(probs: Sequence[float]) -> float:
    p = np.asarray(probs, dtype=np.float64)
    return float(-np.sum(p * np.log(p)))


def _mean_len(table: dict[str, float]) -> float:
    return float(sum(p * len(s.encode()) for s, p in table.items()))


@dataclasses.dataclass(frozen=True)
class StoryGrammar:
    """The built-in story grammar (see the module docstring for its structure and entropy).

    Attributes:
      plot_probs: P(K = 1), P(K = 2), ...: the distribution of the number of plot sentences
        (non-negative, summing to 1). ``(1.0,)`` gives short one-plot stories (the quick
        figures use them: shorter rows train faster on a CPU).

    Every other probability is fixed; a grammar object caches its enumerated sentence tables.
    Use ``default_grammar()`` for the shared default instance.

    Example:
      >>> g = default_grammar()
      >>> stories = g.sample(3, key=0)
      >>> round(g.entropy_per_token, 3)                                     # doctest: +SKIP
      0.158

    Raises:
      ValueError: if ``plot_probs`` is empty, negative, or does not sum to 1.
    """

    plot_probs: tuple[float, ...] = _K_PROBS

    def __post_init__(self) -> None:
        p = np.asarray(self.plot_probs, dtype=np.float64)
        if p.ndim != 1 or p.size == 0 or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
            raise ValueError(
                f"plot_probs must be a non-empty tuple of non-negative numbers summing to 1, "
                f"got {self.plot_probs!r}"
            )

    @functools.cached_property
    def _intros(self) -> dict[str, tuple[float, str]]:
        """intro string -> (probability, hero name)."""
        table: dict[str, tuple[float, str]] = {}
        combos = list(itertools.product(_ADJECTIVES, _KINDS, _NAMES, _HOMES))
        a_an = {a: ("an" if a[0] in "aeiou" else "a") for a in _ADJECTIVES}
        for adj, kind, name, home in combos:
            text = f"{name} was {a_an[adj]} {adj} {kind} who lived in {home}."
            if text in table:
                raise AssertionError(f"intro {text!r} is produced twice")  # pragma: no cover
            table[text] = (1.0 / len(combos), name)
        return table

    @functools.cached_property
    def _plots(self) -> dict[str, dict[str, float]]:
        return {n: _sentence_table(_PLOTS, n) for n in _NAMES}

    @functools.cached_property
    def _endings(self) -> dict[str, dict[str, float]]:
        return {n: _sentence_table(_ENDINGS, n) for n in _NAMES}

    # ---------------------------------------------------------------- exact quantities
    @property
    def n_sentences(self) -> int:
        """How many distinct sentences the grammar can produce."""
        plots = {s for t in self._plots.values() for s in t}
        ends = {s for t in self._endings.values() for s in t}
        return len(self._intros) + len(plots) + len(ends)

    @functools.cached_property
    def entropy(self) -> float:
        """H(story) in nats: exact entropy of one story's byte string (module docstring)."""
        h_intro = _entropy([p for p, _ in self._intros.values()])
        h_k = _entropy([q for q in self.plot_probs if q > 0])
        mean_k = sum((k + 1) * p for k, p in enumerate(self.plot_probs))
        # The hero's name is uniform over _NAMES (marginal of the uniform intro).
        h_plot = np.mean([_entropy(list(t.values())) for t in self._plots.values()])
        h_end = np.mean([_entropy(list(t.values())) for t in self._endings.values()])
        return float(h_intro + h_k + mean_k * h_plot + h_end)

    @functools.cached_property
    def mean_length(self) -> float:
        """E[len(story)] in bytes, exactly (sentences joined by single spaces)."""
        intro = np.mean([len(s.encode()) for s in self._intros])
        mean_k = sum((k + 1) * p for k, p in enumerate(self.plot_probs))
        plot = np.mean([_mean_len(t) for t in self._plots.values()])
        end = np.mean([_mean_len(t) for t in self._endings.values()])
        return float(intro + mean_k * (plot + 1) + end + 1)  # one space before each sentence

    @functools.cached_property
    def max_length(self) -> int:
        """The longest story the grammar can produce, in bytes."""
        intro = max(len(s.encode()) for s in self._intros)
        plot = max(len(s.encode()) for t in self._plots.values() for s in t)
        end = max(len(s.encode()) for t in self._endings.values() for s in t)
        k_max = max(k + 1 for k, q in enumerate(self.plot_probs) if q > 0)
        return intro + k_max * (plot + 1) + end + 1

    @property
    def entropy_per_token(self) -> float:
        """Irreducible loss in nats per byte token: H(story) / (E[len] + 1), the +1 the EOS."""
        return self.entropy / (self.mean_length + 1.0)

    # ---------------------------------------------------------------- sampling and scoring
    @seed_keyword
    def sample(self, n: int, key: Any = 0) -> list[str]:
        """Draw ``n`` independent stories.

        Args:
          n: how many stories (>= 0).
          key: an int or a ``jax.random`` key (NumPy draws, seeded by ``keys.as_seed(key)``),
            or a NumPy Generator (drawn from as it is).

        Returns:
          A list of ``n`` story strings (ASCII, one line each).

        Raises:
          ValueError: if ``n`` is negative or not an integer.
        """
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        rng = key if isinstance(key, np.random.Generator) else np.random.default_rng(as_seed(key))
        out = []
        for _ in range(int(n)):
            adj = _ADJECTIVES[rng.integers(len(_ADJECTIVES))]
            kind = _KINDS[rng.integers(len(_KINDS))]
            name = _NAMES[rng.integers(len(_NAMES))]
            home = _HOMES[rng.integers(len(_HOMES))]
            a_an = "an" if adj[0] in "aeiou" else "a"
            parts = [f"{name} was {a_an} {adj} {kind} who lived in {home}."]
            k = 1 + rng.choice(len(self.plot_probs), p=self.plot_probs)
            for _ in range(k):
                parts.append(self._draw(_PLOTS, name, rng))
            parts.append(self._draw(_ENDINGS, name, rng))
            out.append(" ".join(parts))
        return out

    @staticmethod
    def _draw(templates: Sequence[tuple[str, float]], name: str, rng: np.random.Generator) -> str:
        weights = np.array([w for _, w in templates])
        template = templates[rng.choice(len(templates), p=weights / weights.sum())][0]
        fills = _fillers(template)
        text = template.format(n=name, **fills[rng.integers(len(fills))])
        return text[0].upper() + text[1:]

    def log_prob(self, story: str) -> float:
        """Exact log-probability (nats) of a story string; ``-inf`` if the grammar cannot make it.

        The story is split at ". " into sentences, which is unambiguous because no sentence
        contains a full stop; each sentence is looked up in its enumerated string table.
        """
        if not story.endswith("."):
            return -math.inf
        sentences = [s + "." for s in story[:-1].split(". ")]
        k = len(sentences) - 2
        if not 1 <= k <= len(self.plot_probs) or sentences[0] not in self._intros:
            return -math.inf
        if self.plot_probs[k - 1] == 0.0:
            return -math.inf
        p_intro, name = self._intros[sentences[0]]
        total = math.log(p_intro) + math.log(self.plot_probs[k - 1])
        for s in sentences[1:-1]:
            p = self._plots[name].get(s, 0.0)
            if p == 0.0:
                return -math.inf
            total += math.log(p)
        p_end = self._endings[name].get(sentences[-1], 0.0)
        return total + math.log(p_end) if p_end > 0.0 else -math.inf


@functools.lru_cache(maxsize=8)
def default_grammar(plot_probs: tuple[float, ...] = _K_PROBS) -> StoryGrammar:
    """The shared built-in grammar (its sentence tables are enumerated once per ``plot_probs``)."""
    return StoryGrammar(tuple(float(q) for q in plot_probs))
