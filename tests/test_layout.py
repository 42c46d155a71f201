"""The layering the README and ARCHITECTURE describe, checked on the import statements.

main -> gui -> core, and main -> core/cli -> core; nothing runs back up. A slip here (the GUI
importing the CLI, Qt in the engine) is easy to make and invisible until it hurts.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP_PACKAGES = ["io", "text", "model", "training", "predict", "analyze", "compare", "explain"]
CORE_TOP_MODULES = {"__init__.py", "bundle.py", "config.py", "metrics.py", "errors.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in files:
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_the_engine_never_imports_qt_or_the_gui():
    assert offenders(python_files("core"), ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "gui")) == []


def test_only_main_imports_the_command_line():
    outside_cli = [p for p in python_files("core") if "cli" not in p.relative_to(ROOT).parts]
    assert offenders(outside_cli + python_files("gui"), ("core.cli",)) == []


def test_the_text_and_io_steps_load_without_torch():
    """The analysis helper process reads and encodes without paying for torch."""
    assert offenders(python_files("core/io") + python_files("core/text"), ("torch",)) == []


def test_core_is_one_package_per_step_with_few_top_modules():
    for name in STEP_PACKAGES:
        init = ROOT / "core" / name / "__init__.py"
        assert init.is_file(), name
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), name
    top = {p.name for p in (ROOT / "core").glob("*.py")}
    assert top <= CORE_TOP_MODULES, top - CORE_TOP_MODULES
