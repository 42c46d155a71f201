"""The settings store: typed values, recent files, saved config, and migration."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from core.config import TrainConfig
from gui.settings import MAX_RECENT_FILES, SETTINGS_VERSION, AppSettings


def test_recent_files_put_the_latest_first_without_duplicates(app_settings):
    app_settings.add_recent_file("/a.csv")
    app_settings.add_recent_file("/b.csv")
    app_settings.add_recent_file("/a.csv")
    assert app_settings.recent_files() == ["/a.csv", "/b.csv"]


def test_recent_files_are_capped(app_settings):
    for index in range(MAX_RECENT_FILES + 3):
        app_settings.add_recent_file(f"/f{index}.csv")
    assert len(app_settings.recent_files()) == MAX_RECENT_FILES


def test_last_config_round_trips(app_settings):
    app_settings.set_last_config(TrainConfig(cell="lstm", hidden_size=77))
    restored = app_settings.last_config()
    assert (restored.cell, restored.hidden_size) == ("lstm", 77)


def test_an_invalid_saved_config_is_ignored(app_settings):
    app_settings.set_json("last_config", {"hidden_size": -5})
    assert app_settings.last_config() is None


def test_column_choices_are_remembered_per_file(app_settings):
    app_settings.set_column_choices("/r.csv", "body", "stars", None)
    assert app_settings.column_choices("/r.csv") == {"text": "body", "label": "stars",
                                                     "split": None}
    assert app_settings.column_choices("/other.csv") is None


def test_version_one_settings_are_migrated(tmp_path: Path):
    path = str(tmp_path / "old.ini")
    old = QSettings(path, QSettings.Format.IniFormat)
    old.setValue("settings_version", 1)
    old.setValue("recentFiles", "/x.csv;/y.csv")
    old.setValue("lastDir", "/data")
    old.sync()
    settings = AppSettings(QSettings(path, QSettings.Format.IniFormat))
    assert settings.recent_files() == ["/x.csv", "/y.csv"]
    assert settings.last_folder == "/data"
    assert settings.version == SETTINGS_VERSION
