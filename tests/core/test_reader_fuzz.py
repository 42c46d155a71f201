"""Property-based fuzzing of the readers: whatever file a user opens, the result is data or
one ReviewDataError that names the file (and the line when the fault has one); never another
exception and never a hang. A file whose final record is cut keeps every review before it,
and no output may land on an input.

The case builders live in ``tools/fuzz_cases.py`` and the judge in ``tools/fuzz_check.py``,
shared with ``bench/fuzz.py``, which runs ten thousand and more of them; here each category
runs a few dozen times so the suite stays fast.
"""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ReviewDataError
from core.io.readers import iter_review_chunks, read_reviews
from tools.fuzz_cases import CATEGORIES, SUFFIXES, Case, case_truncated_final, gz
from tools.fuzz_check import (
    LINKS,
    READERS,
    ReaderFault,
    check_file,
    check_self_output,
    check_truncated_final,
    run_case,
    time_limit,
)

# ------------------------------------------------------------------------ the bounded suite

FAST = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_ends_in_data_or_a_named_error(tmp_path, category):
    builder = CATEGORIES[category]

    @FAST
    @given(rng=st.randoms(use_true_random=False))
    def check(rng: random.Random) -> None:
        run_case(builder(rng), tmp_path)

    check()


@FAST
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_under_any_name(tmp_path, data, suffix):
    run_case(Case("bytes", "f" + suffix, data), tmp_path)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["text", "label", "review", "stars", "id", "x", ""])
                      | st.text(max_size=5), children, max_size=4),
    max_leaves=25)


@FAST
@given(document=_json_values, suffix=st.sampled_from([".json", ".jsonl", ".json.gz"]))
def test_any_json_document(tmp_path, document, suffix):
    text = json.dumps(document, allow_nan=True)
    if suffix == ".jsonl" and isinstance(document, list):
        text = "\n".join(json.dumps(item, allow_nan=True) for item in document)
    data = text.encode("utf-8")
    run_case(Case("json", "j" + suffix, gz(data) if suffix.endswith(".gz") else data), tmp_path)


_cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)


@FAST
@given(header=st.lists(_cells, min_size=1, max_size=4),
       rows=st.lists(st.lists(_cells, max_size=5), max_size=8),
       delimiter=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"]),
       cut_at=st.none() | st.integers(0, 2000))
def test_any_table_of_any_text(tmp_path, header, rows, delimiter, encoding, cut_at):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding, errors="replace")
    if cut_at is not None:
        data = data[:cut_at]
    run_case(Case("table", "t.csv", data), tmp_path)


@pytest.mark.parametrize("seed", range(40))
def test_a_cut_final_record_keeps_every_review_before_it(tmp_path, seed):
    case, complete = case_truncated_final(random.Random(f"cut-{seed}"))
    assert check_truncated_final(case, complete, tmp_path) == "data"


@pytest.fixture(scope="module")
def untrained_bundle():
    """A complete but untrained bundle: the output check runs before any prediction."""
    from core.bundle import ModelBundle
    from core.config import TrainConfig
    from core.model.classifier import RecurrentClassifier
    from core.text.labels import make_scheme
    from core.text.tokenizer import TokenizerSettings
    from core.text.vocabulary import Vocabulary

    torch.manual_seed(0)
    config = TrainConfig(embedding_dim=8, hidden_size=8, threads=1)
    vocab = Vocabulary.build([["good", "bad", "good", "bad"]], min_count=1)
    scheme = make_scheme("categorical", ["neg", "pos"])
    model = RecurrentClassifier.from_config(config, len(vocab), scheme.num_classes)
    return ModelBundle(config, scheme, TokenizerSettings(), vocab, model.eval())


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_output_onto_an_input_is_refused_and_changes_nothing(tmp_path, untrained_bundle,
                                                                 link, suffix):
    data = b"text,label\ngood,pos\n" if suffix == ".csv" else b'{"text": "good"}\n'
    assert check_self_output(tmp_path / "case", link, untrained_bundle, data, suffix) == "error"


# ------------------------------------------------------------------------ the checker is honest


def test_the_checker_catches_a_crash_a_hang_and_an_unnamed_file(tmp_path, monkeypatch):
    """The fuzzing can fail: a reader that breaks each promise is reported as such."""
    path = tmp_path / "r.csv"
    path.write_text("text,label\ngood,pos\n", encoding="utf-8")
    assert check_file(path) == "data"

    def crash(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setitem(READERS, "preview_file", crash)
    with pytest.raises(ReaderFault, match="crash"):
        check_file(path)

    def hang(*args, **kwargs):
        while True:
            pass

    monkeypatch.setitem(READERS, "preview_file", hang)
    with pytest.raises(ReaderFault, match="hang"):
        check_file(path, seconds=0.2)

    def unnamed(*args, **kwargs):
        raise ReviewDataError("something went wrong")

    monkeypatch.setitem(READERS, "preview_file", unnamed)
    with pytest.raises(ReaderFault, match="unnamed file"):
        check_file(path)


def test_delimiter_sniffing_stays_fast_on_a_quote_storm(tmp_path):
    """Regression: 60 KB of ',\"' under a header with two delimiters took over a minute."""
    path = tmp_path / "storm.csv"
    path.write_text("text,label;x|y\n" + ',"' * 30_000, encoding="utf-8")
    check_file(path, seconds=5)


def test_json_objects_that_each_bring_a_new_key_read_in_linear_time(tmp_path):
    """Regression: every row was aligned to the union of all keys (8,000 items took 35 s)."""
    path = tmp_path / "unique_keys.json"
    path.write_text(json.dumps([{"text": f"good film {i}", f"id_{i}": i} for i in range(20_000)]),
                    encoding="utf-8")
    with time_limit(30):
        table = read_reviews(path, label_column="")
    assert len(table) == 20_000


def test_named_errors_carry_their_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "a", "label": "pos"}\n{"text": oops}\n')
    table = read_reviews(path)  # the complete review before the fault is kept
    assert table.texts == ["a"] and "line 2" in table.fault
    with pytest.raises(ReviewDataError) as caught:
        list(iter_review_chunks([path]))
    assert caught.value.line == 2 and str(path) in str(caught.value)
    assert check_file(path) == "data"


def test_the_fuzz_bench_runs_every_kind_of_case_and_reports_no_failure():
    """bench/fuzz.py shares these builders and checks: a short run must pass and print every
    category, the outputs-onto-inputs checks and the gzip bombs."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "bench/fuzz.py", "--cases", "23", "--bomb-mb", "30"],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "truncated_final" in done.stdout and "FAIL" not in done.stdout
    assert done.stdout.count("  ok    output onto an input") == 2 * len(LINKS)
    assert done.stdout.count("  ok    gzip bomb") == 3
