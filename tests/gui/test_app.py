"""Start-up pieces: the log file, the exception safety net, and the theme."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from gui import app as app_module


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_logging_writes_to_the_log_file(tmp_path, restore_logging):
    path = app_module.setup_logging(tmp_path / "logs")
    logging.getLogger("review_analyzer.test").warning("hello log")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert path.name == "review-analyzer.log" and "hello log" in path.read_text()


def test_an_uncaught_error_is_logged_and_shown(qtbot, tmp_path, restore_logging):
    path = app_module.setup_logging(tmp_path)
    hook = app_module.ExceptionHook(path)
    shown = []
    hook.show = lambda message, details: shown.append((message, details))
    try:
        raise ValueError("broken slot")
    except ValueError:
        hook(*sys.exc_info())
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert shown[0][0] == "ValueError: broken slot" and "Traceback" in shown[0][1]
    assert "broken slot" in path.read_text()


def test_the_dark_theme_sets_a_dark_window_colour(qapp, monkeypatch):
    previous = QApplication.palette()
    monkeypatch.setenv(app_module.THEME_ENV, "dark")
    app_module.apply_theme(qapp)
    try:
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 100
    finally:
        qapp.setStyleSheet("")
        qapp.setPalette(previous)


def test_the_installed_pyside_keeps_references_to_none(qapp):
    """PySide6 6.12.0 on Python 3.11 loses a reference to None per void call and the app
    aborts after minutes; pin PySide6-Essentials to 6.11.3 (see gui.app.pyside_leaks_none)."""
    assert not app_module.pyside_leaks_none()


def test_first_paint_callbacks_run_once_after_the_window_paints(qtbot):
    """The engine warm-up (torch's imports) starts only once the window is on screen."""
    from PySide6.QtWidgets import QWidget

    from gui.app import FirstPaint

    calls: list[int] = []
    window = QWidget()
    qtbot.addWidget(window)
    FirstPaint(window, [lambda: calls.append(1)])
    assert not calls
    window.show()
    qtbot.waitUntil(lambda: bool(calls), timeout=5000)
    window.update()
    qtbot.wait(50)
    assert calls == [1]


def test_the_words_tokenizer_does_not_import_nltk():
    """nltk is imported only for the treebank and tweet tokenizers (start-up time)."""
    import subprocess
    import sys

    code = ("import sys; from core.text.tokenizer import Tokenizer; "
            "Tokenizer().tokenize('a b'); print('nltk' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_the_window_modules_load_without_torch():
    """Issue 16, item 15: the window can paint before torch loads (the warm-up imports it)."""
    import subprocess
    import sys

    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "import gui.main_window; print(sorted(m for m in ('torch', 'nltk', 'sklearn') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env={**__import__("os").environ,
                                              "QT_QPA_PLATFORM": "offscreen"})
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr[-2000:]
