import numpy as np
import pytest

from core.config import TrainConfig
from core.io.table import ReviewTable
from core.predict.predictor import Predictor
from core.text.negation import (
    ADVERB_NEGATORS,
    determiner_counterfactual,
    negation_counterfactual,
)
from core.text.tokenizer import Tokenizer, TokenizerSettings
from core.text.vocabulary import Vocabulary
from core.training.dataset import EncodedSplit, prepare_data
from core.training.negation_pairs import negation_pairs, wants_negation_pairs, wide_adverbs
from core.training.pipeline import train_model

TOKENIZE = Tokenizer(TokenizerSettings(split_clitics=True)).tokenize


def flipped(text: str) -> str | None:
    result = negation_counterfactual(TOKENIZE(text))
    return None if result is None else " ".join(result)


@pytest.mark.parametrize("text, expected", [
    ("The food wasn't bad.", "the food was bad ."),
    ("It is not worth it", "it is worth it"),
    ("I can't complain", "i can complain"),
    ("bad", "not bad"),
    ("a total mess", "not a total mess"),
    ("I didn't hate it", "i did hate it"),
])
def test_the_one_negation_is_added_or_taken_away(text, expected):
    assert flipped(text) == expected


def test_a_negation_goes_after_the_verb_as_not_or_the_clitic():
    for text in ("the room was clean", "the staff were friendly", "this phone is great"):
        words = flipped(text).split()
        negation = words.index("not") if "not" in words else words.index("n't")
        assert words[negation - 1] in ("was", "were", "is")
        assert words[:negation] + words[negation + 1:] == text.split()


@pytest.mark.parametrize("text", [
    "Great location, but the staff didn't care.",  # contrast: the edit may not carry it
    "Is it any good?",  # a question
    "There is a pool.",  # existence, no judgement
    "The room was clean. The staff were rude.",  # a second sentence
    "The bed was not comfortable and I could not sleep",  # two negations
    "The room was clean and it had a view",  # two verbs
    "no complaints",  # 'no' + noun: taking it away does not flip cleanly
    "our service maid paid no attention to cleaning the room at all today",  # too long
    "great clean room with view",  # no verb and longer than a phrase
    "It is nothing short of brilliant",  # negated already, by a word 'not' would not undo
])
def test_texts_whose_flip_would_not_be_clean_give_none(text):
    assert flipped(text) is None


def wide(text: str) -> str | None:
    result = negation_counterfactual(TOKENIZE(text), adverbs=ADVERB_NEGATORS)
    return None if result is None else " ".join(result)


@pytest.mark.parametrize("text, expected", [
    ("The app rarely crashes.", "the app crashes ."),
    ("The guide was hardly helpful", "the guide was helpful"),
    ("The heater barely works", "the heater works"),
    ("The face unlock seldom works", "the face unlock works"),
    ("scarcely worth a mention", "worth a mention"),
    ("We will never go back", "we will go back"),
    ("There were no problems", "there were problems"),  # 'there' may lose a negation
    ("The waiter paid no attention to us", "the waiter paid attention to us"),
    ("not bad", "bad"),  # a phrase's leading 'not'
    ("I couldn't be happier", "i could be happier"),  # 'could n't be': one verb
    ("The food wasn't bad.", "the food was bad ."),  # the narrow edit's removals hold
    ("I can't complain", "i can complain"),
])
def test_the_wide_edit_takes_any_one_negator_away(text, expected):
    assert wide(text) == expected


@pytest.mark.parametrize("text", [
    "The map hardly ever loads",  # 'hardly ever': 'ever loads' would not read alone
    "There was barely any wait",
    "Never again",
    "It almost never fails",  # 'almost fails' is no flip of 'almost never fails'
    "no complaints",  # a leading 'no' is an idiom as often as not ('No doubt', 'No way')
    "The app no longer works",
    "He is no match for her",
    "It is not only funny",  # 'not only' adds, it does not negate
    "The film is not even close",
    "It is nothing short of brilliant",  # negations it does not edit stay refused
    "The room was not clean and the bed was hardly comfortable",  # two negations
    "The room was clean and it had a view",  # two verbs
    "It hardly works, but the price is right",  # contrast
    "Was it never good?",  # a question
    "There is a pool.",  # adding a negation to existence stays refused
    "It works. The screen broke.",  # a second sentence
])
def test_the_wide_edit_still_refuses_unsafe_texts(text):
    assert wide(text) is None


def test_the_wide_edit_adds_every_negator_after_the_verb_deterministically():
    texts = [f"the {thing} was {word}" for thing in ("room", "staff", "food", "view", "bed")
             for word in ("clean", "great", "lovely", "friendly", "fine", "quiet")]
    seen = set()
    for text in texts:
        words = wide(text).split()
        assert wide(text) == " ".join(words)  # the same text, the same negator
        assert words[2] == "was" and words[:3] + words[4:] == text.split()
        seen.add(words[3])
    assert seen == {"not", "n't", *ADVERB_NEGATORS}


def test_the_wide_edit_negates_a_pronouns_verb_and_modal_groups():
    assert wide("It works").split()[1] in ADVERB_NEGATORS
    loved = wide("I loved it").split()
    assert loved[1] in ADVERB_NEGATORS and loved[:1] + loved[2:] == ["i", "loved", "it"]
    assert wide("It really works") is None  # an adverb, not the verb, follows the pronoun
    # a noun's verb is not told apart: the text is negated as a phrase
    assert wide("the app crashes").split()[1:] == ["the", "app", "crashes"]
    phrases = {wide(word).split()[0] for word in ("bad", "boring", "original", "funny",
                                                  "dull", "clever", "a mess", "a gem")}
    assert "not" in phrases and phrases & set(ADVERB_NEGATORS)  # "hardly original" too
    could = wide("It could be better").split()
    assert could[:2] == ["it", "could"] and could[3:] == ["be", "better"]
    assert could[2] in ("not", "n't", *ADVERB_NEGATORS)
    assert flipped("It could be better") is None  # the narrow edit: two auxiliaries


def test_wide_pairs_add_only_the_adverbs_the_vocabulary_spells():
    vocab = Vocabulary.build([["the", "room", "was", "clean", "not", "n't", "never",
                               "hardly"]] * 2)
    assert wide_adverbs(vocab) == ("never", "hardly")
    texts = [["the", "room", "was", "clean"], ["the", "room", "was", "hardly", "clean"]]
    split = EncodedSplit([vocab.encode(t) for t in texts], np.array([1, 0]), np.array([3, 4]))
    pairs = negation_pairs(split, vocab, edit="wide")
    words = [[vocab.lookup(i) for i in ids] for ids in pairs.ids]
    assert words[0][3] in ("not", "n't", "never", "hardly")
    assert words[1] == ["the", "room", "was", "clean"] and pairs.labels.tolist() == [0, 1]


def test_an_edit_no_run_can_ask_for_is_refused():
    vocab = Vocabulary.build([["the", "room", "was", "clean", "not"]] * 2)
    split = EncodedSplit([vocab.encode(["the", "room", "was", "clean"])], np.array([1]),
                         np.array([0]))
    with pytest.raises(ValueError, match="wide_add"):
        negation_pairs(split, vocab, edit="auto")  # a config value the trainer settles first
    assert len(negation_pairs(split, vocab)) == 1  # narrow: 'hardly' is not taken away


def test_wide_add_keeps_each_not_pair_and_adds_the_adverb_one_beside_it():
    things, words = ["room", "staff", "food", "view", "bed"], ["clean", "great", "fine"]
    texts = [["the", thing, "was", word] for thing in things for word in words]
    texts.append(["the", "room", "was", "hardly", "clean"])  # the 'not' edit refuses it
    vocab = Vocabulary.build([[*things, *words, "the", "was", "not", "n't",
                               *ADVERB_NEGATORS]] * 2)
    split = EncodedSplit([vocab.encode(t) for t in texts], np.zeros(len(texts), np.int64),
                         np.arange(len(texts)))
    narrow = negation_pairs(split, vocab)
    added = negation_pairs(split, vocab, edit="wide_add")
    by_row: dict[int, list[list[str]]] = {}
    for ids, row in zip(added.ids, added.rows):
        by_row.setdefault(int(row), []).append([vocab.lookup(i) for i in ids])
    for ids, row in zip(narrow.ids, narrow.rows):  # every 'not' pair is kept, first
        assert by_row[int(row)][0] == [vocab.lookup(i) for i in ids]
    extra = [flips[1] for flips in by_row.values() if len(flips) == 2]
    assert extra and all(flip[3] in ADVERB_NEGATORS for flip in extra)
    assert by_row[len(texts) - 1] == [["the", "room", "was", "clean"]]
    assert len(added) == len(narrow) + len(extra) + 1


@pytest.mark.parametrize(("text", "expected"), [
    ("the room was a disaster", "the room was no disaster"),
    ("a mess", "no mess"),
    ("there was a problem with the tv", "there was no problem with the tv"),
    ("we had some issues", "we had no issues"),
    ("served with an awful sauce .", "served with no awful sauce ."),
])
def test_the_determiner_edit_puts_no_where_it_negates_the_whole_text(text, expected):
    assert " ".join(determiner_counterfactual(text.split()) or []) == expected


@pytest.mark.parametrize("text", [
    "the film ruins a terrific story",  # 'no' would negate the object, not the verdict
    "a bit slow", "some of the jokes land", "what a mess",  # quantities and exclamations
    "a mess and a bore",  # two determiners
    "it was not a disaster", "there was hardly a problem",  # already negated
    "a nice room but a rude host", "was it a good film ?", "a mess . fun though",
    "the room was clean",  # nothing to turn into 'no'
])
def test_the_determiner_edit_refuses_texts_it_would_not_flip_cleanly(text):
    assert determiner_counterfactual(text.split()) is None


def test_determiner_pairs_keep_one_edit_a_text_and_reach_texts_without_a_verb():
    things = ["room", "staff", "food", "view", "bed", "pool", "bar", "lift"]
    texts = [["the", thing, "was", "a", "delight"] for thing in things]  # both edits apply
    texts.append(["a", "delight", "of", "a", "hotel", "with", "views"])  # neither applies
    texts.append(["breakfast", "with", "a", "view"])  # only the determiner edit applies
    vocab = Vocabulary.build([[*things, "the", "was", "a", "delight", "not", "no", "of",
                               "hotel", "with", "views", "breakfast", "view"]] * 2)
    split = EncodedSplit([vocab.encode(t) for t in texts], np.ones(len(texts), np.int64),
                         np.arange(len(texts)))
    pairs = negation_pairs(split, vocab, edit="determiner")
    flips = {int(row): [vocab.lookup(i) for i in ids] for ids, row in zip(pairs.ids, pairs.rows)}
    assert len(pairs) == len(flips) == len(texts) - 1  # one pair a text, none for row 8
    assert flips[9] == ["breakfast", "with", "no", "view"]
    edits = {tuple(flips[row][2:4]) for row in range(len(things))}
    assert edits == {("was", "no"), ("was", "not")}  # the text's hash picks either edit
    assert pairs.labels.tolist() == [0] * len(pairs)
    without_no = Vocabulary.build([[*things, "the", "was", "a", "delight", "not"]] * 2)
    split = EncodedSplit([without_no.encode(t) for t in texts[:len(things)]],
                         np.ones(len(things), np.int64), np.arange(len(things)))
    unspelled = negation_pairs(split, without_no, edit="determiner")
    assert {without_no.lookup(int(ids[3])) for ids in unspelled.ids} == {"not"}


def test_pairs_flip_the_label_and_leave_out_edits_the_vocabulary_cannot_spell():
    vocab = Vocabulary.build([["the", "room", "was", "clean", "not", "bad"]] * 2)
    split = EncodedSplit([vocab.encode(["the", "room", "was", "clean"]), vocab.encode(["bad"]),
                          vocab.encode(["room", "and", "clean", "room", "here"])],
                         np.array([1, 0, 1]), np.array([10, 11, 12]))
    pairs = negation_pairs(split, vocab)
    assert [vocab.lookup(i) for i in pairs.ids[1]] == ["not", "bad"]
    assert pairs.labels.tolist() == [0, 1] and pairs.rows.tolist() == [10, 11]
    no_not = Vocabulary.build([["the", "room", "was", "clean", "bad"]] * 2)
    split.ids = [no_not.encode(["bad"])]
    assert len(negation_pairs(EncodedSplit(split.ids, np.array([0]), np.array([1])),
                              no_not)) == 0


def test_a_long_review_gives_its_sentence_that_leans_the_labels_way_and_its_flip():
    words = ["the", "room", "was", "clean", "the", "staff", "were", "rude", "the", "view",
             "was", "great", "."]
    reviews = [["we", "stayed", "two", "nights", "."] * 3 + ["the", "room", "was", "clean", "."]
               + ["the", "staff", "were", "rude", "and", "loud", "."],
               ["the", "staff", "were", "rude", "."] * 2, ["the", "room", "was", "clean", "."]]
    vocab = Vocabulary.build([words + ["not", "n't", "we", "stayed", "two", "nights", "and",
                                       "loud"]] * 2)
    split = EncodedSplit([vocab.encode(r) for r in reviews], np.array([1, 0, 1]),
                         np.array([7, 8, 9]))
    pairs = negation_pairs(split, vocab, sentences=True)
    texts = [" ".join(vocab.lookup(i) for i in ids) for ids in pairs.ids]
    # the long review (label 1): its 'clean' sentence, not the 'rude' one, then its flip
    assert texts[0] == "the room was clean ."
    assert texts[1] in ("the room was not clean .", "the room was n't clean .")
    assert pairs.labels[:2].tolist() == [1, 0] and pairs.rows[:2].tolist() == [7, 7]
    # two sentences: a sentence pair too; one short sentence: flipped whole, one text
    assert pairs.rows[2:].tolist() == [8, 8, 9]
    assert texts[2] == "the staff were rude ." and pairs.labels[2:].tolist() == [0, 1, 0]
    # a small set: sentence pairs would outnumber its reviews, so only whole short texts
    assert negation_pairs(split, vocab).rows.tolist() == [9]


@pytest.mark.parametrize("mode, classes, expected", [
    ("auto", 2, True), ("auto", 3, False), ("on", 2, True), ("on", 5, False),
    ("off", 2, False)])
def test_pairs_are_for_two_classes(mode, classes, expected):
    assert wants_negation_pairs(mode, classes) is expected


def negation_table(count: int = 240) -> ReviewTable:
    """Praise and complaints, where 'not' only ever negates praise (as in real review sets)."""
    rng = np.random.default_rng(0)
    good, bad = ["great", "lovely", "clean", "friendly"], ["awful", "dirty", "rude", "bad"]
    things = ["room", "staff", "food", "view"]
    texts, labels = [], []
    for index in range(count):
        thing = things[index % 4]
        kind = index % 3
        if kind == 0:
            texts.append(f"the {thing} was {rng.choice(good)}")
            labels.append("pos")
        elif kind == 1:
            texts.append(f"the {thing} was {rng.choice(bad)}")
            labels.append("neg")
        else:
            texts.append(f"the {thing} was not {rng.choice(good)}")
            labels.append("neg")
    return ReviewTable(texts=texts, labels=labels, rows=list(range(1, count + 1)),
                       sources=["negation"] * count, path="negation.csv")


def test_pairs_teach_a_negated_complaint_that_the_reviews_never_hold():
    config = TrainConfig(cell="gru", embedding_dim=16, hidden_size=16, epochs=15, max_length=20,
                         min_count=1, validation_share=0.2, test_share=0.1, seed=5,
                         word_prior="off", batch_size=16, ema_decay=0.0, learning_rate=1e-2,
                         early_stopping=False)
    data = prepare_data(negation_table(), config)
    probe = ["the room was not dirty", "the food was not awful"]
    positive = data.scheme.classes.index("pos")
    readings = {}
    settled = {}
    for mode in ("off", "auto", "wide", "wide_add"):  # auto: on for two classes
        outcome = train_model(data, config.replace(negation_pairs=mode))
        readings[mode] = Predictor(outcome.bundle).probabilities(probe)[:, positive]
        assert len(outcome.data.train) == len(data.train)  # the pairs never join the data
        settled[mode] = outcome.bundle.config.negation_pairs
    assert settled == {"off": "off", "auto": "on", "wide": "wide", "wide_add": "wide_add"}
    assert (readings["off"] < 0.5).all()  # "not" learnt as a complaint word
    assert (readings["auto"] > 0.5).all()
    assert (readings["wide"] > 0.5).all() and (readings["wide_add"] > 0.5).all()
