import os
import subprocess
import sys

import pytest

from core.text.tokenizer import Tokenizer, TokenizerSettings


def test_negations_and_sentiment_punctuation_are_kept():
    tokens = Tokenizer().tokenize("Our service maid paid NO attention!!! I don't like it :(")
    assert tokens == ["our", "service", "maid", "paid", "no", "attention", "!!!", "i", "don't",
                      "like", "it", ":("]


def test_html_line_breaks_are_removed():
    assert Tokenizer().tokenize("Great film.<br /><br />Loved it") == \
        ["great", "film", ".", "loved", "it"]


def test_spans_point_into_the_original_text():
    text = "Loved it.<br />NOT bad"
    pieces = Tokenizer().tokenize_with_spans(text)
    assert [(t, text[s:e]) for t, s, e in pieces] == [
        ("loved", "Loved"), ("it", "it"), (".", "."), ("not", "NOT"), ("bad", "bad")]


@pytest.mark.parametrize("kind", ["words", "treebank", "tweet"])
def test_every_tokenizer_agrees_with_its_spans(kind):
    tokenizer = Tokenizer(TokenizerSettings(kind=kind))
    text = 'He said "wow" -- it wasn\'t good... 10/10 :)'
    assert [t for t, _, _ in tokenizer.tokenize_with_spans(text)] == tokenizer.tokenize(text)


def test_case_is_kept_when_asked():
    assert Tokenizer(TokenizerSettings(lowercase=False)).tokenize("Great") == ["Great"]


def test_tokenizers_need_no_downloaded_nltk_data(tmp_path):
    code = ("from core.text.tokenizer import Tokenizer, TokenizerSettings\n"
            "for kind in ('words', 'treebank', 'tweet'):\n"
            "    tokenizer = Tokenizer(TokenizerSettings(kind=kind))\n"
            "    print(tokenizer.tokenize(\"I wasn't impressed.\"))\n")
    env = dict(os.environ, NLTK_DATA=str(tmp_path), HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("impressed") == 3


def test_words_tokens_and_spans_match_nltks_regexp_tokenizer():
    # The "words" pattern is compiled with the standard library for speed; saved models were
    # trained on nltk's RegexpTokenizer with the same pattern, so both must split alike.
    from nltk.tokenize import RegexpTokenizer

    from core.text.tokenizer import _WORDS_PATTERN
    reference = RegexpTokenizer(_WORDS_PATTERN)
    text = ("It wasn't THAT bad... 7/10 :-) but the well-known star's 2nd film?! "
            "Naïve, café-style\tplot; 100% boring :( — “meh” ;) <3 a-b-c--d 'quoted'")
    tokenizer = Tokenizer()
    assert tokenizer.tokenize(text) == reference.tokenize(text.lower())
    assert tokenizer.spans(text) == list(reference.span_tokenize(text))
