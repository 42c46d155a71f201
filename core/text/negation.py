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

The wide edit (``adverbs`` given) also teaches the other negators: the added negation is
sometimes "never", "hardly", "barely" or "rarely" (chosen from the text's own hash, so every
negator is seen), also before the verb of a pronoun subject with no auxiliary ("it works" ->
"it rarely works") and before a short phrase ("hardly original"); and a text negated by one
of those, by "seldom"/"scarcely", by "no" + noun ("paid no attention") or by a leading "not"
("not bad") is given without it.

The determiner edit (``determiner_counterfactual``) teaches "no" + noun the other way round: a
text with one "a", "an" or "some" before a word and no other negation gets "no" in its place,
label flipped ("there was a problem" -> "there was no problem", "a mess" -> "no mess", "it's a great
film" -> "it's no great film"), only where "no" negates the whole text: at its start, after a
copula, "have" or "with" (not "ruins a terrific film"). Quantities that only look like one ("a
bit", "a lot", "a few", "some of") are left alone.
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

# The wide edit: negating adverbs it adds (each only where the vocabulary holds it) ...
ADVERB_NEGATORS = ("never", "hardly", "barely", "rarely")
# ... and those it takes away.
REMOVABLE_ADVERBS = frozenset({"never", "hardly", "barely", "rarely", "seldom", "scarcely"})
# Negations the wide edit still leaves alone ("nothing short of", "without a hitch").
WIDE_OTHER_NEGATIONS = OTHER_NEGATIONS - REMOVABLE_ADVERBS
# After these the negator is part of a fixed phrase whose rest would not read alone:
# "hardly ever", "barely any", "never again"; "not only", "not even"; "no longer", "no doubt".
ADVERB_BOUND = frozenset({"ever", "any", "anything", "anyone", "anybody", "again"})
HEDGES = frozenset({"almost", "nearly"})  # "almost never fails" is no "almost fails"
# The determiner edit: these become "no" ...
DETERMINERS = frozenset({"a", "an", "some"})
# ... unless the next word makes a quantity or fixed phrase of them ("a bit slow" is no
# "no bit slow"; "some of", "a couple of") ...
DETERMINER_BOUND = frozenset({"bit", "lot", "lots", "little", "few", "couple", "while", "kind",
                              "sort", "number", "tad", "whole", "half", "second", "third",
                              "minute", "moment", "day", "year", "time", "times", "of", "more",
                              "other", "way", "must", "matter", "degree", "level", "long",
                              "far", "deal"})
# Where "no" negates the whole text, not just an object a verb judges ("ruins a terrific
# film" is no "ruins no terrific film"): at the start of a phrase ("a mess" -> "no mess"),
# after a copula ("is a disaster" -> "is no disaster"), "have" or "with".
DETERMINER_SITES = frozenset({"is", "was", "are", "were", "'s", "'re", "am", "'m", "be",
                              "been", "has", "have", "had", "having", "with"})
NOT_BOUND = frozenset({"only", "just", "even", "once", "least", "always"})
NO_BOUND = frozenset({"one", "longer", "more", "less", "better", "worse", "sooner", "doubt",
                      "wonder", "matter", "way", "thanks", "end", "match", "problem"})
# "has" / "have" / "had" take a negation only before another auxiliary ("has n't been").
PERFECT = frozenset({"has", "have", "had"})
SUBJECTS = frozenset({"i", "we", "you", "they", "he", "she", "it"})
# Words after a subject pronoun that are not its verb ("it all", "they both", "it too").
NOT_VERBS = frozenset({"all", "both", "too", "also", "still", "just", "only", "even", "and",
                       "or", "itself", "myself", "ourselves", "themselves", "yourself"})


def negation_counterfactual(tokens: Sequence[str], max_tokens: int = 12,
                            phrase_tokens: int = 3,
                            adverbs: Sequence[str] = ()) -> list[str] | None:
    """The text with its negation flipped, or None when one edit would not flip its meaning.

    ``phrase_tokens``: texts this short with no verb (SST-2's phrase rows: "bad", "a mess")
    are negated by a leading "not". ``adverbs``: the wide edit, adding these negators as well
    as "not" (see the module docstring); empty: "not" / "n't" only.
    """
    tokens = list(tokens)
    if not tokens or len(tokens) > max_tokens:
        return None
    if adverbs:
        return _wide_counterfactual(tokens, phrase_tokens, tuple(adverbs))
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


def determiner_counterfactual(tokens: Sequence[str], max_tokens: int = 12) -> list[str] | None:
    """The text with its one "a" / "an" / "some" turned into "no", or None where that would
    not flip it cleanly: a second determiner, any negation, contrast, a question, a second
    sentence, or a determiner bound into a quantity or exclamation (see the module docstring).
    """
    tokens = list(tokens)
    if not tokens or len(tokens) > max_tokens:
        return None
    if any(t in CONTRAST or t == "?" or t in NEGATORS or t in OTHER_NEGATIONS
           or t in REMOVABLE_ADVERBS for t in tokens):
        return None
    if any(t in BREAKS for t in tokens[:-1]):
        return None
    sites = [i for i, t in enumerate(tokens) if t in DETERMINERS]
    if len(sites) != 1:
        return None
    at = sites[0]
    after = tokens[at + 1] if at + 1 < len(tokens) else ""
    if not after.isalpha() or after in DETERMINER_BOUND:
        return None
    if at > 0 and tokens[at - 1] not in DETERMINER_SITES:
        return None
    return [*tokens[:at], "no", *tokens[at + 1:]]


def _wide_counterfactual(tokens: list[str], phrase_tokens: int,
                         adverbs: tuple[str, ...]) -> list[str] | None:
    """The wide edit: any one negator taken away, or "not" or an adverb added."""
    if any(t in CONTRAST or t == "?" or t in WIDE_OTHER_NEGATIONS for t in tokens):
        return None
    if any(t in BREAKS for t in tokens[:-1]):
        return None
    negations = [i for i, t in enumerate(tokens) if t in NEGATORS or t in REMOVABLE_ADVERBS]
    groups = _verb_groups(tokens)
    if len(negations) > 1 or len(groups) > 1:
        return None
    if negations:  # taking a negation away also holds for "there" ("there were no problems")
        return _wide_without(tokens, negations[0], phrase_tokens)
    if "there" in tokens:
        return None
    choice = zlib.crc32(" ".join(tokens).encode())
    if groups:
        return _wide_with(tokens, groups[0], choice, adverbs)
    if tokens[0] in SUBJECTS:  # a clause, not a phrase: "it works" is no "not it works"
        return _before_verb(tokens, choice, adverbs)
    if len(tokens) <= phrase_tokens:  # "hardly original", "never boring" as well as "not bad"
        return [_negator(choice, adverbs, clitic=False), *tokens]
    return None


def _verb_groups(tokens: list[str]) -> list[list[int]]:
    """Runs of auxiliaries, a negation inside a run allowed: "could n't be" is one verb, so
    "could n't be happier" has one place to negate; "was clean and it had" has two."""
    groups: list[list[int]] = []
    last = -2
    for index, token in enumerate(tokens):
        if not (token in AUXILIARIES or token in CLITIC_STEMS):
            continue
        between = tokens[last + 1:index]
        if groups and index - last <= 2 and all(t in NEGATORS or t in REMOVABLE_ADVERBS
                                                for t in between):
            groups[-1].append(index)
        else:
            groups.append([index])
        last = index
    return groups


def _wide_without(tokens: list[str], at: int, phrase_tokens: int) -> list[str] | None:
    """The text without its one negator, or None where the rest would not read alone."""
    word = tokens[at]
    after = tokens[at + 1] if at + 1 < len(tokens) else ""
    if word in REMOVABLE_ADVERBS:
        if after in ADVERB_BOUND or (at > 0 and tokens[at - 1] in HEDGES):
            return None
        return [*tokens[:at], *tokens[at + 1:]]
    if word == "no":  # "paid no attention" -> "paid attention"; not "No doubt", "no longer"
        if at == 0 or not after.isalpha() or after in NO_BOUND:
            return None
        return [*tokens[:at], *tokens[at + 1:]]
    if after in NOT_BOUND:
        return None
    if at == 0 and word == "not":  # a phrase: "not bad" -> "bad"
        return tokens[1:] if 1 < len(tokens) <= phrase_tokens + 1 else None
    return _without_negation(tokens, at)


def _wide_with(tokens: list[str], group: list[int], choice: int,
               adverbs: tuple[str, ...]) -> list[str] | None:
    """Negate after the verb group's first auxiliary with "not", "n't" or an adverb."""
    at = group[0]
    first = tokens[at]
    if not (first in NEGATABLE or (first in PERFECT and len(group) > 1)):
        return None
    if at == 0 or at + 1 >= len(tokens):
        return None
    negation = _negator(choice, adverbs, clitic=first in CLITIC_OK or first in PERFECT)
    return [*tokens[:at + 1], negation, *tokens[at + 1:]]


def _negator(choice: int, adverbs: tuple[str, ...], clitic: bool) -> str:
    """Half "not" (or "n't" where the verb takes it), half the adverbs, from the text's hash."""
    slot = choice % 8
    if slot >= 4:
        return adverbs[(slot - 4) % len(adverbs)]
    return "n't" if clitic and (choice >> 3) % 2 else "not"


def _before_verb(tokens: list[str], choice: int, adverbs: tuple[str, ...]) -> list[str] | None:
    """A pronoun subject's verb with no auxiliary: "it works" -> "it rarely works".

    Only after a leading pronoun, where the next word is the verb: a noun subject's verb
    cannot be told from a noun without a tagger ("the app crashes", "the best films")."""
    if len(tokens) < 2:
        return None
    verb = tokens[1]
    if not verb.isalpha() or verb in NOT_VERBS or verb.endswith("ly"):
        return None
    return [tokens[0], adverbs[choice % len(adverbs)], *tokens[1:]]
