"""Fixtures for widget tests: a throw-away settings store, scripted dialogs, a tiny config.

Modal dialogs would block a test forever, so every dialog in ``gui.dialogs`` is replaced by
a recorder for every test here; a test scripts the answers it needs through ``dialog_log``.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.config import TrainConfig  # noqa: E402
from gui import dialogs  # noqa: E402
from gui.app import collect_garbage_in_gui_thread  # noqa: E402
from gui.settings import AppSettings  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _garbage_collected_in_the_gui_thread(qapp):
    """As in the app: no automatic collection in worker threads (it can delete Qt objects
    from the wrong thread and crash); a GUI-thread timer collects instead."""
    collect_garbage_in_gui_thread(qapp)
    yield
    gc.collect()  # while Qt is still alive, not during interpreter shutdown


@dataclass
class DialogLog:
    """What the dialogs were asked, and the answers they give."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answer: bool = True
    open_path: str = ""
    save_path: str = ""
    folder: str = ""

    def show_error(self, parent, title, message, details=""):
        self.errors.append((title, message))

    def show_info(self, parent, title, message):
        pass

    def ask_yes_no(self, parent, title, question):
        self.questions.append(question)
        return self.answer

    def choose_open_file(self, parent, title, folder, filters):
        return self.open_path

    def choose_save_file(self, parent, title, start, filters):
        return self.save_path

    def choose_folder(self, parent, title, folder):
        return self.folder


@pytest.fixture(autouse=True)
def dialog_log(monkeypatch: pytest.MonkeyPatch) -> DialogLog:
    log = DialogLog()
    for name in ("show_error", "show_info", "ask_yes_no", "choose_open_file",
                 "choose_save_file", "choose_folder"):
        monkeypatch.setattr(dialogs, name, getattr(log, name))
    return log


@pytest.fixture
def app_settings(tmp_path: Path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def tiny_config() -> TrainConfig:
    """Trains on the 1,200 sample reviews in a few seconds."""
    return TrainConfig(cell="gru", bidirectional=False, embedding_dim=8, hidden_size=8,
                       epochs=2, batch_size=32, max_length=40, vocab_size=400,
                       early_stopping=False, threads=1, learning_rate=0.01)
