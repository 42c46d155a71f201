"""File dialogs open where the user last worked, never inside the installed app (item 9)."""

from __future__ import annotations

from pathlib import Path

import resources
from gui import dialogs

REAL_CHOOSE_OPEN_FILE = dialogs.choose_open_file  # before the test fixture replaces it


def test_the_last_folder_is_kept(tmp_path) -> None:
    assert dialogs.start_folder(str(tmp_path)) == str(tmp_path)


def test_the_apps_resources_folder_is_replaced_by_documents_or_home() -> None:
    chosen = dialogs.start_folder(str(resources.SAMPLE_REVIEWS.parent))
    assert Path(chosen).is_dir()
    assert not Path(chosen).resolve().is_relative_to(resources.SAMPLE_REVIEWS.parent.resolve())


def test_a_missing_folder_falls_back(tmp_path) -> None:
    chosen = dialogs.start_folder(str(tmp_path / "gone"))
    assert Path(chosen).is_dir() and chosen != str(tmp_path / "gone")


def test_a_save_dialog_keeps_the_suggested_name(tmp_path) -> None:
    inside = str(resources.SAMPLE_REVIEWS.parent / "model.ramodel")
    moved = Path(dialogs.start_file(inside))
    assert moved.name == "model.ramodel" and moved.parent.is_dir()
    assert dialogs.start_file(str(tmp_path / "m.ramodel")) == str(tmp_path / "m.ramodel")


def test_the_real_dialog_gets_the_adjusted_folder(monkeypatch) -> None:
    asked = {}

    def fake(parent, title, folder, filters):
        asked["folder"] = folder
        return "", ""

    monkeypatch.setattr(dialogs.QFileDialog, "getOpenFileName", fake)
    REAL_CHOOSE_OPEN_FILE(None, "Load model", str(resources.SAMPLE_REVIEWS.parent), "")
    assert asked["folder"] == dialogs.start_folder(None)
