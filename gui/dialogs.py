"""Every modal dialog the window opens goes through one of these small functions.

Why: tests replace them (``monkeypatch.setattr(dialogs, "choose_open_file", ...)``) so the
same code path as a real click runs without a modal loop that would block the test.
Callers use ``from gui import dialogs`` and call ``dialogs.show_error(...)``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

_APP_FOLDER = Path(__file__).resolve().parent.parent  # the installed app, resources/ inside

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """The engine's message, as is; a traceback (if any) goes to the log, not the dialog."""
    if details:
        log.error("%s: %s\n%s", title, message, details)
    else:
        log.warning("%s: %s", title, message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                      parent)
    if details:
        box.setInformativeText("Technical details were written to the log file.")
    box.exec()


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.information(parent, title, message)


def ask_yes_no(parent: QWidget | None, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def start_folder(folder: str | Path | None) -> str:
    """Where a file dialog opens: the user's last folder, else their Documents folder.

    Never the app's own folder: after ``Open sample`` the last folder is the installed
    package's ``resources/``, where nobody wants to save a model.
    """
    if folder:
        path = Path(folder).expanduser()
        try:
            inside_app = path.resolve().is_relative_to(_APP_FOLDER)
        except OSError:
            inside_app = True
        if path.is_dir() and not inside_app:
            return str(path)
    documents = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    return documents if documents and Path(documents).is_dir() else str(Path.home())


def start_file(start: str) -> str:
    """A suggested file path for a save dialog, moved to :func:`start_folder`'s choice."""
    if not start:
        return start_folder(None)
    path = Path(start)
    if path.is_dir():
        return start_folder(path)
    return str(Path(start_folder(path.parent)) / path.name)


def choose_open_file(parent: QWidget | None, title: str, folder: str, filters: str) -> str:
    """A path, or "" when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start_folder(folder), filters)
    return path


def choose_folder(parent: QWidget | None, title: str, folder: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title, start_folder(folder))


def choose_save_file(parent: QWidget | None, title: str, start: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, start_file(start), filters)
    return path
