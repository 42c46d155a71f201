"""Map model tokens back to the words a user sees, and remember which ones the model read.

Explanations are shown on the original text, so every score must land on a whitespace-separated
word of that text: sub-tokens and attached punctuation ("good," is two tokens) add up into one
word, HTML line breaks separate words like spaces do, and tokens cut by the model's length limit
(head + tail truncation drops the middle) leave their words marked as not read.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np

from core.errors import ReviewDataError
from core.text.encoder import truncate
from core.text.tokenizer import Tokenizer
from core.text.vocabulary import Vocabulary

# The same breaks the tokenizer blanks out (core.text.tokenizer cleans them to spaces), so a review
# scraped with "<br /><br />" shows words, not "movie.<br".
_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>|</?\s*p\s*>", re.IGNORECASE)
_WORD = re.compile(r"\S+")


def word_spans(text: str, strip_html: bool = True) -> list[tuple[int, int]]:
    """(start, end) of every whitespace-separated word, HTML breaks counted as whitespace."""
    if strip_html:
        text = _HTML_BREAK.sub(lambda m: " " * len(m.group(0)), text)
    return [match.span() for match in _WORD.finditer(text)]


@dataclass
class Alignment:
    """One review as the model reads it, tied to the words of the original text.

    ``ids`` is the model input (after truncation, never padded); ``input_word[i]`` is the word
    that input position ``i`` belongs to.
    """

    text: str
    spans: list[tuple[int, int]]
    tokens: list[str]
    ids: np.ndarray
    input_word: np.ndarray
    total_tokens: int

    @property
    def word_count(self) -> int:
        return len(self.spans)

    @property
    def words(self) -> list[str]:
        return [self.text[start:end] for start, end in self.spans]

    @property
    def read(self) -> np.ndarray:
        """[n_words] True where the model read at least one of the word's tokens."""
        mask = np.zeros(self.word_count, dtype=bool)
        mask[self.input_word] = True
        return mask

    def positions(self) -> list[np.ndarray]:
        """Model input positions of each word (empty for words the model did not read)."""
        order = np.argsort(self.input_word, kind="stable")
        cuts = np.searchsorted(self.input_word[order], np.arange(self.word_count + 1))
        return [order[cuts[w]:cuts[w + 1]] for w in range(self.word_count)]

    def word_scores(self, input_scores: np.ndarray) -> np.ndarray:
        """Sum per-position scores into words; NaN for words the model did not read."""
        scores = np.zeros(self.word_count, dtype=np.float64)
        np.add.at(scores, self.input_word, np.asarray(input_scores, dtype=np.float64))
        scores[~self.read] = np.nan
        return scores

    def prefix_ends(self) -> np.ndarray:
        """[n_words] number of input positions read once the word is read (0: not read)."""
        ends = np.zeros(self.word_count, dtype=np.int64)
        np.maximum.at(ends, self.input_word, np.arange(1, len(self.input_word) + 1))
        return ends


def align(text: str, tokenizer: Tokenizer, vocab: Vocabulary, max_length: int,
          truncation: str) -> Alignment:
    """Tokenize, encode and truncate exactly as training did, keeping the word of each token."""
    spans = word_spans(text, tokenizer.settings.strip_html)
    tokens = tokenizer.tokenize_with_spans(text)
    if not spans or not tokens:
        raise ReviewDataError("There is nothing to explain: type or paste a review first.")
    starts = [start for start, _ in spans]
    token_word = np.array([max(0, bisect.bisect_right(starts, start) - 1)
                           for _, start, _ in tokens], dtype=np.int64)
    ids = vocab.encode([token for token, _, _ in tokens])
    # Truncating the positions with the very function training used tells which tokens survive.
    kept = truncate(np.arange(len(ids)), max_length, truncation)
    return Alignment(text=text, spans=spans, tokens=[tokens[i][0] for i in kept],
                     ids=ids[kept], input_word=token_word[kept], total_tokens=len(ids))
