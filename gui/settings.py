"""What the window remembers between runs, behind typed getters over QSettings.

QSettings stores strings on some platforms and native types on others, so every read goes
through a typed getter with a default: a damaged or foreign value never reaches a widget.
The store carries a version number; :meth:`AppSettings.migrate_settings` upgrades old
layouts, so a settings file from an earlier release never breaks a new one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from core.config import TrainConfig
from core.errors import ReviewDataError

log = logging.getLogger(__name__)

SETTINGS_VERSION = 2
MAX_RECENT_FILES = 8
MAX_COLUMN_CHOICES = 30

ORGANIZATION = "ReviewAnalyzer"
APPLICATION = "ReviewAnalyzer"


class AppSettings:
    """Typed access to the app's QSettings; pass a QSettings (tests use an .ini in tmp)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)
        self.migrate_settings()

    # -- typed primitives -------------------------------------------------------------
    def get_str(self, key: str, default: str = "") -> str:
        value = self.store.value(key, default)
        return value if isinstance(value, str) else default

    def get_int(self, key: str, default: int = 0) -> int:
        value = self.store.value(key, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self.store.value(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return default

    def get_json(self, key: str, default: Any = None) -> Any:
        text = self.get_str(key, "")
        if not text:
            return default
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            log.warning("settings: %s is not valid JSON; using the default", key)
            return default

    def get_bytes(self, key: str) -> QByteArray | None:
        value = self.store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set(self, key: str, value: Any) -> None:
        self.store.setValue(key, value)

    def set_json(self, key: str, value: Any) -> None:
        self.store.setValue(key, json.dumps(value))

    def sync(self) -> None:
        self.store.sync()

    # -- version and migration ----------------------------------------------------------
    @property
    def version(self) -> int:
        return self.get_int("settings_version", 0)

    def migrate_settings(self) -> None:
        """Bring an older store up to :data:`SETTINGS_VERSION`, one step at a time.

        Version 1 kept the recent files as one ';'-separated string under ``recentFiles``
        and the last folder under ``lastDir``; version 2 uses a JSON list and ``last_folder``.
        """
        version = self.version
        if version >= SETTINGS_VERSION:
            return
        if version < 2:
            old_recent = self.store.value("recentFiles")
            if isinstance(old_recent, str) and old_recent:
                self.set_json("recent_files", [p for p in old_recent.split(";") if p])
            elif isinstance(old_recent, list):
                self.set_json("recent_files", [str(p) for p in old_recent])
            old_dir = self.store.value("lastDir")
            if isinstance(old_dir, str) and old_dir:
                self.set("last_folder", old_dir)
            self.store.remove("recentFiles")
            self.store.remove("lastDir")
        self.set("settings_version", SETTINGS_VERSION)
        log.info("settings migrated from version %d to %d", version, SETTINGS_VERSION)

    # -- what the window remembers --------------------------------------------------------
    @property
    def last_folder(self) -> str:
        return self.get_str("last_folder", "")

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self.set("last_folder", folder)

    def recent_files(self) -> list[str]:
        value = self.get_json("recent_files", [])
        return [str(p) for p in value if isinstance(p, str)] if isinstance(value, list) else []

    def add_recent_file(self, path: str) -> list[str]:
        """Put ``path`` first, without duplicates, keeping at most MAX_RECENT_FILES."""
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT_FILES]
        self.set_json("recent_files", files)
        return files

    def remove_recent_file(self, path: str) -> None:
        self.set_json("recent_files", [p for p in self.recent_files() if p != path])

    def clear_recent_files(self) -> None:
        self.set_json("recent_files", [])

    def last_config(self) -> TrainConfig | None:
        """The last form settings, or None when missing or no longer valid."""
        data = self.get_json("last_config")
        if not isinstance(data, dict):
            return None
        try:
            return TrainConfig.from_dict(data, strict=False)
        except ReviewDataError as error:
            log.warning("settings: ignoring the saved config (%s)", error)
            return None

    def set_last_config(self, config: TrainConfig) -> None:
        self.set_json("last_config", config.to_dict())

    def column_choices(self, path: str) -> dict[str, str | None] | None:
        """The text / label / split columns last picked for this file, if any."""
        choices = self.get_json("column_choices", {})
        entry = choices.get(path) if isinstance(choices, dict) else None
        if not isinstance(entry, dict):
            return None
        return {key: (value if isinstance(value, str) else None)
                for key, value in entry.items() if key in ("text", "label", "split")}

    def set_column_choices(self, path: str, text: str | None, label: str | None,
                           split: str | None) -> None:
        choices = self.get_json("column_choices", {})
        if not isinstance(choices, dict):
            choices = {}
        choices.pop(path, None)
        choices[path] = {"text": text, "label": label, "split": split}
        while len(choices) > MAX_COLUMN_CHOICES:  # dicts keep insertion order: oldest first
            choices.pop(next(iter(choices)))
        self.set_json("column_choices", choices)

    def window_geometry(self) -> QByteArray | None:
        return self.get_bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        return self.get_bytes("window/state")

    def set_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.set("window/geometry", geometry)
        self.set("window/state", state)

    def current_tab(self) -> int:
        return self.get_int("window/tab", 0)

    def set_current_tab(self, index: int) -> None:
        self.set("window/tab", index)
