import pytest

from core.errors import ReviewDataError
from core.text.vocabulary import PAD_INDEX, UNK_INDEX, Vocabulary


def test_build_caps_size_and_drops_rare_tokens():
    vocab = Vocabulary.build([["a", "b", "a", "c"], ["a", "b", "d"]], max_size=4, min_count=2)
    assert vocab.itos == ["<pad>", "<unk>", "a", "b"]


def test_encode_maps_unknown_and_never_returns_empty():
    vocab = Vocabulary.build([["good", "good"]], min_count=1)
    assert vocab.encode(["good", "zzz"]).tolist() == [2, UNK_INDEX]
    assert vocab.encode([]).tolist() == [UNK_INDEX]
    assert PAD_INDEX == 0


def test_round_trip_and_bad_dicts():
    vocab = Vocabulary.build([["x", "y", "x"]], min_count=1)
    assert Vocabulary.from_dict(vocab.to_dict()).itos == vocab.itos
    with pytest.raises(ReviewDataError):
        Vocabulary.from_dict({"tokens": ["x", "y"]})
    with pytest.raises(ReviewDataError):
        Vocabulary.from_dict({"tokens": ["<pad>", "<unk>", "a", "a"]})
