"""Which tokens say little on their own in a corpus-level word list: punctuation and English
function words ("the", "and", "i", "at"). Negations and "but" are kept: they carry sentiment
("not", "never", "no", "but" turn a review around).

Used to filter the words that pushed reviews one way in a batch summary; the model itself
always reads every token.
"""

from __future__ import annotations

NEGATIONS = frozenset({
    "not", "no", "never", "nor", "none", "nothing", "nobody", "nowhere", "neither", "without",
    "but", "n't", "cannot", "can't", "cant", "don't", "dont", "doesn't", "doesnt", "didn't",
    "didnt", "isn't", "isnt", "wasn't", "wasnt", "aren't", "arent", "weren't", "werent",
    "won't", "wont", "wouldn't", "wouldnt", "shouldn't", "shouldnt", "couldn't", "couldnt",
    "haven't", "havent", "hasn't", "hasnt", "hadn't", "hadnt", "although", "though", "however",
})

FUNCTION_WORDS = frozenset({
    "a", "an", "the", "and", "or", "so", "if", "then", "than", "as", "of", "at", "by", "for",
    "with", "about", "against", "between", "into", "through", "during", "before", "after",
    "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under",
    "again", "further", "once", "here", "there", "when", "where", "why", "how", "all", "any",
    "both", "each", "few", "more", "most", "other", "some", "such", "only", "own", "same",
    "too", "very", "s", "t", "can", "will", "just", "should", "now", "d", "ll", "m", "o",
    "re", "ve", "y", "'s", "'re", "'ve", "'ll", "'d", "'m", "i", "me", "my", "myself", "we",
    "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves", "he", "him",
    "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them",
    "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these",
    "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
    "having", "do", "does", "did", "doing", "would", "could", "might", "must", "shall", "may",
    "while", "until", "because", "also", "still", "even", "it's", "i'm", "i've", "i'd",
    "i'll", "that's", "there's", "you're", "we're", "they're", "he's", "she's", "let's",
    "one", "get", "got", "<unk>", "<pad>",
}) - NEGATIONS


def is_content_word(token: str) -> bool:
    """False for punctuation-only tokens and function words; negations are content."""
    lowered = token.lower()
    if lowered in NEGATIONS:
        return True
    if not any(ch.isalnum() for ch in lowered):
        return False
    return lowered not in FUNCTION_WORDS
