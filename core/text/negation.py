"""Negation counterfactuals: the same short text with its one negation added or taken away.

Review sets barely hold negated complaints ("not bad", "wasn't disappointed": 7 "not bad" in
SST-2's 67,349 rows), so a model learns "not" as a negative word and reads "the food was not
bad" as a complaint. Counterfactual data augmentation (Kaushik, Hovy & Lipton, ICLR 2020;
generated automatically as in Wang & Culotta, AAAI 2021) pairs a training text with a minimal
edit that flips its label, so the only thing that tells the two apart is the edit. Here the edit
is the negation: "the room was clean" (positive) gives "the room was not clean" (negative),
"is n't much fun" (negative) gives "is much fun" (positive), and a short phrase "bad" gives
"not bad".

The flip is only trusted where it is clean: short texts, one place to negate, no contrast
("but") and no second sentence that could carry the sentiment instead; anything else gives
None. Tokens are the project's lower-cased tokens with clitics split ("was n't").
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

# Verbs after which "not" negates what follows ("was not clean", "would not recommend").
NEGATABLE = frozenset({"is", "was", "are", "were", "am", "'re", "'m", "will", "would", "can",
                       "could", "should", "might", "must"})
# Those that also take the clitic ("was n't"); "will" and "can" change form ("wo n't").
CLITIC_OK = frozenset({"is", "was", "are", "were", "could", "would", "should", "must"})
# Any auxiliary: a second one means a second clause the edit may not reach.
AUXILIARIES = NEGATABLE | {"be", "been", "may", "does", "do", "did", "has", "have", "had"}
# "ca n't" -> "can", "wo n't" -> "will" when the negation is taken away.
CLITIC_STEMS = {"ca": "can", "wo": "will", "sha": "shall"}
NEGATORS = frozenset({"not", "n't", "never", "no"})
# Other words that negate: a text holding one is already negated in a way one "not" would
# not undo ("is nothing short of brilliant").
OTHER_NEGATIONS = frozenset({"nothing", "none", "nobody", "nowhere", "neither", "nor", "hardly",
                             "barely", "scarcely", "without", "lack", "lacks", "lacking"})
CONTRAST = frozenset({"but", "though", "although", "yet", "however", "while", "whereas",
                      "except", "unless", ";"})
BREAKS = frozenset({".", "!", "?", "-", "--", ":"})
# Words that make the flip unsafe: "there is" (existence, not a judgement), questions.
UNSAFE = frozenset({"there", "?"})


def negation_counterfactual(tokens: Sequence[str], max_tokens: int = 12,
                            phrase_tokens: int = 3) -> list[str] | None:
    """The text with its negation flipped, or None when one edit would not flip its meaning.

    ``phrase_tokens``: texts this short with no verb (SST-2's phrase rows: "bad", "a mess")
    are negated by a leading "not".
    """
    tokens = list(tokens)
    if not tokens or len(tokens) > max_tokens:
        return None
    if any(t in CONTRAST or t in UNSAFE or t in OTHER_NEGATIONS for t in tokens):
        return None
    if any(t in BREAKS for t in tokens[:-1]):
        return None
    auxiliaries = [i for i, t in enumerate(tokens) if t in AUXILIARIES or t in CLITIC_STEMS]
    negations = [i for i, t in enumerate(tokens) if t in NEGATORS]
    if len(negations) > 1 or len(auxiliaries) > 1:
        return None
    if negations:
        return _without_negation(tokens, negations[0])
    if auxiliaries:
        return _with_negation(tokens, auxiliaries[0])
    if len(tokens) <= phrase_tokens:
        return ["not", *tokens]
    return None


def _without_negation(tokens: list[str], at: int) -> list[str] | None:
    """Drop a negation that follows its auxiliary ("was n't" -> "was"); others stay."""
    before = tokens[at - 1] if at > 0 else ""
    if tokens[at] == "no" or not (before in AUXILIARIES or before in CLITIC_STEMS):
        return None
    return [*tokens[:at - 1], CLITIC_STEMS.get(before, before), *tokens[at + 1:]]


def _with_negation(tokens: list[str], at: int) -> list[str] | None:
    """Negate after the auxiliary, half the time as the clitic the way reviews write it."""
    if tokens[at] not in NEGATABLE or at == 0 or at + 1 >= len(tokens):
        return None  # a question ("is it good") or nothing to negate
    negation = "not"
    if tokens[at] in CLITIC_OK and zlib.crc32(" ".join(tokens).encode()) % 2:
        negation = "n't"
    return [*tokens[:at + 1], negation, *tokens[at + 1:]]
