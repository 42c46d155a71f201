"""Shipped resources: the sample review set parses and is balanced; every icon is valid SVG."""

from __future__ import annotations

import collections
import csv
import re
import xml.etree.ElementTree as ET

import pytest

import resources
from resources import ICON_NAMES, SAMPLE_REVIEWS, icon_path, load_stylesheet, resource_path

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with SAMPLE_REVIEWS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["id", "domain", "stars", "text"]
        return list(reader)


def test_sample_has_about_1200_unique_texts(rows: list[dict[str, str]]) -> None:
    texts = [row["text"] for row in rows]
    assert 1000 <= len(rows) <= 1500  # a binary test split of about a hundred reviews
    assert len(set(texts)) == len(texts)
    assert len({row["id"] for row in rows}) == len(rows)


def test_sample_texts_are_short_and_not_empty(rows: list[dict[str, str]]) -> None:
    for row in rows:
        text = row["text"]
        assert text.strip(), f"empty text in row id {row['id']}"
        assert text == text.strip()
        assert "\n" not in text
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 4, text


def test_every_star_rating_has_at_least_200_rows(rows: list[dict[str, str]]) -> None:
    counts = collections.Counter(int(row["stars"]) for row in rows)
    assert set(counts) == {1, 2, 3, 4, 5}
    assert min(counts.values()) >= 200


def test_every_domain_is_present(rows: list[dict[str, str]]) -> None:
    assert {row["domain"] for row in rows} == {"hotel", "product", "film", "app"}


def test_topic_words_appear_at_every_rating(rows: list[dict[str, str]]) -> None:
    """A model must read what is said about the room, not learn that 'room' is negative."""
    for word in ("hotel", "room", "staff", "battery", "plot", "app", "update"):
        stars = {row["stars"] for row in rows if re.search(rf"\b{word}\b", row["text"], re.I)}
        assert stars == {"1", "2", "3", "4", "5"}, word


def test_sample_holds_the_hard_cases(rows: list[dict[str, str]]) -> None:
    """Sarcasm, hopeful openings of complaints, negated praise and typos are all in it."""
    negative = [row["text"] for row in rows if row["stars"] in ("1", "2")]
    positive = [row["text"] for row in rows if row["stars"] in ("4", "5")]
    assert sum("Oh great," in text for text in negative) >= 20
    assert sum("wanted to love" in text for text in negative) >= 5
    assert sum("Not bad at all" in text for text in positive) >= 10
    assert sum("expected the worst" in text for text in positive) >= 5
    typos = ("definately", "realy", "reccomend", "teh ", "dissapoint", "freindly")
    assert sum(any(t in text for t in typos) for text in negative + positive) >= 10


def test_the_generator_rebuilds_the_shipped_file(tmp_path) -> None:
    """The CSV is the generator's output, so the two never drift apart."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_sample_reviews", resources.RESOURCES_DIR.parent / "tools" / "make_sample_reviews.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_csv(tmp_path / "sample.csv", module.generate())
    assert (tmp_path / "sample.csv").read_bytes() == SAMPLE_REVIEWS.read_bytes()


def test_every_named_icon_is_a_valid_svg() -> None:
    for name in ICON_NAMES:
        path = icon_path(name)
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG_NS}svg", path
        assert root.get("viewBox") == "0 0 24 24", path
        assert len(root) > 0, f"{path} draws nothing"


def test_icon_folder_holds_exactly_the_named_icons() -> None:
    on_disk = {path.stem for path in resources.ICONS_DIR.glob("*.svg")}
    assert on_disk == set(ICON_NAMES)


def test_icon_path_takes_a_bare_name_or_a_file_name() -> None:
    assert icon_path("train") == icon_path("train.svg")


def test_resource_path_rejects_missing_files_and_escapes() -> None:
    with pytest.raises(FileNotFoundError):
        icon_path("no-such-icon")
    with pytest.raises(ValueError):
        resource_path("../core/errors.py")


def test_stylesheet_loads_and_its_urls_exist() -> None:
    text = load_stylesheet()
    assert 'QPushButton[primary="true"]' in text
    for url in re.findall(r"url\(([^)]+)\)", text):
        assert resource_path(url.strip("'\" ")).exists()


def test_resources_package_does_not_import_qt() -> None:
    source = (resources.RESOURCES_DIR / "__init__.py").read_text(encoding="utf-8")
    assert "PySide" not in source and "PyQt" not in source
