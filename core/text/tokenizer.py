"""Turning review text into tokens, with character spans so explanations map back to words.

Uses nltk tokenizers that need no downloaded data (there may be no internet).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import ReviewDataError

# Words (contractions such as "don't" and "wasn't" kept whole, so negation stays one
# visible word), numbers, emoticons, runs of ! or ?, ellipses, and any other single symbol.
_WORDS_PATTERN = r"""(?x)
      \w+(?:['’\-]\w+)*
    | [:;=8][\-o\*']?[\)\]\(\[dDpP/\\|]
    | [!?]+
    | \.{2,}
    | [^\s\w]
"""
# Compiled with the standard library: nltk's RegexpTokenizer now runs every pattern through
# the third-party `regex` engine with a timeout (a guard against caller-supplied patterns
# that backtrack badly), which made tokenizing 5x slower (~500 vs ~100 us an IMDB review).
# This pattern is ours and matches in linear time, so it needs no such guard.
_WORDS = re.compile(_WORDS_PATTERN, re.UNICODE | re.MULTILINE | re.DOTALL)


# The same with English clitics split off as the Penn Treebank does ("didn't" -> "did" "n't",
# "it's" -> "it" "'s"): the negation "n't" becomes one token shared by every verb, as it is in
# treebank-tokenized corpora (SST-2 has "does n't"), instead of one rare word per verb that a
# model trained on such data never saw ("didn't" was <unk> for the SST-2 model).
_CLITIC = r"(?:n['’]t|['’](?:s|re|ll|ve|d|m))\b"
_WORDS_SPLIT = re.compile(r"(?x) \w+?(?=" + _CLITIC + r") | " + _CLITIC + " | "
                          + _WORDS_PATTERN.replace("(?x)", ""),
                          re.UNICODE | re.MULTILINE | re.DOTALL | re.IGNORECASE)


def _word_spans(text: str, pattern: re.Pattern[str] = _WORDS) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>|</?\s*p\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class TokenizerSettings:
    """Saved with a model so prediction tokenizes exactly as training did."""

    kind: str = "words"
    lowercase: bool = True
    strip_html: bool = True
    split_clitics: bool = False  # "words" only; models saved before it existed read False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TokenizerSettings":
        try:
            settings = cls(kind=str(data["kind"]), lowercase=bool(data["lowercase"]),
                           strip_html=bool(data["strip_html"]),
                           split_clitics=bool(data.get("split_clitics", False)))
        except (KeyError, TypeError) as error:
            raise ReviewDataError(f"Tokenizer settings are malformed ({error}).") from None
        if settings.kind not in ("words", "treebank", "tweet"):
            raise ReviewDataError(f"Unknown tokenizer '{settings.kind}'.")
        return settings


class Tokenizer:
    """Splits text into tokens and their (start, end) character spans in the original text."""

    def __init__(self, settings: TokenizerSettings | None = None) -> None:
        self.settings = settings or TokenizerSettings()
        kind = self.settings.kind
        self._impl: Any = None  # "words" needs no object: it is the module's _WORDS pattern
        if kind == "treebank":
            from nltk.tokenize import NLTKWordTokenizer  # nltk is slow to import: only here

            self._impl = NLTKWordTokenizer()
        elif kind == "tweet":
            from nltk.tokenize import TweetTokenizer

            self._impl = TweetTokenizer(preserve_case=True, reduce_len=False)
        elif kind != "words":
            raise ReviewDataError(f"Unknown tokenizer '{kind}'.")

    def _clean(self, text: str) -> str:
        """Same-length cleaning (HTML breaks become spaces) so spans stay valid."""
        if self.settings.strip_html:
            text = _HTML_BREAK.sub(lambda m: " " * len(m.group(0)), text)
        return text

    def spans(self, text: str) -> list[tuple[int, int]]:
        cleaned = self._clean(text)
        if self.settings.kind == "words":
            return _word_spans(cleaned, _WORDS_SPLIT if self.settings.split_clitics else _WORDS)
        try:
            if self.settings.kind == "treebank":
                return list(self._impl.span_tokenize(cleaned))
            from nltk.tokenize.util import align_tokens

            return align_tokens(self._impl.tokenize(cleaned), cleaned)
        except (ValueError, LookupError):
            # Rare quote rewrites cannot be aligned; fall back to the regex tokenizer.
            return _word_spans(cleaned)

    def tokenize_with_spans(self, text: str) -> list[tuple[str, int, int]]:
        result = []
        for start, end in self.spans(text):
            token = text[start:end]
            if self.settings.lowercase:
                token = token.lower()
            result.append((token, start, end))
        return result

    def tokenize(self, text: str) -> list[str]:
        if self.settings.kind == "words":
            # Hot path (training and batch analysis): no spans, lower-case the text once.
            if self.settings.strip_html:
                text = _HTML_BREAK.sub(" ", text)
            pattern = _WORDS_SPLIT if self.settings.split_clitics else _WORDS
            return pattern.findall(text.lower() if self.settings.lowercase else text)
        return [token for token, _, _ in self.tokenize_with_spans(text)]
