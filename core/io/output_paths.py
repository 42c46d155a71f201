"""Whether a command may write its files: decided once, before any work starts.

Every command that writes (train, compare, analyze, the window's save and batch paths) names
every file it will write and its inputs, and calls :func:`check_outputs` first. A target is
refused when it is one of the inputs (by file identity, so a symbolic or hard link to an
input is caught, not only the same spelling), when it lies inside an input folder under a
name that folder would read as reviews next time, or when its folder cannot be written.
A late failure (the disk filled, a permission changed mid-run) is handled by
:func:`save_with_fallback`, which puts the finished work somewhere writable and says where.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from core.errors import ReviewDataError
from core.io.formats import SUPPORTED_SUFFIXES

_READ_BY_FOLDERS = tuple(s.lower() for s in SUPPORTED_SUFFIXES)
FALLBACK_FOLDER = "review-analyzer-rescued"

T = TypeVar("T")


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as printable text: bytes that are not UTF-8 shown as ``\\xNN``, never a crash."""
    return os.fsencode(os.fspath(path)).decode("utf-8", errors="backslashreplace")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def _ancestors(path: Path) -> Iterable[tuple[Path, Path]]:
    """(folder, path within it) for each folder holding ``path``, as spelled and as resolved
    (a link may lead elsewhere)."""
    absolute = Path(os.path.abspath(path))
    resolved = absolute.resolve() if absolute.exists() else _resolved_parent(absolute)
    seen: set[Path] = set()
    for spelled in (absolute, resolved):
        for folder in spelled.parents:
            if folder not in seen:
                seen.add(folder)
                yield folder, spelled.relative_to(folder)


def _resolved_parent(path: Path) -> Path:
    """``path`` with its nearest existing ancestor resolved (the rest does not exist yet)."""
    tail: list[str] = []
    current = path
    while not current.exists() and current.parent != current:
        tail.append(current.name)
        current = current.parent
    return current.resolve().joinpath(*reversed(tail))


def read_by_folder(name_within: Path) -> bool:
    """True when a folder scan would read a file at this relative path as reviews."""
    if any(part.startswith(".") for part in name_within.parts):
        return False
    return name_within.name.lower().endswith(_READ_BY_FOLDERS)


def check_outputs(targets: Sequence[str | Path], inputs: Sequence[str | Path] = (),
                  what: str = "output") -> None:
    """Raise ReviewDataError unless every target may be written without touching an input.

    Call it before reading or training: it costs a few ``stat`` calls and one probe file.
    """
    files = [Path(p) for p in inputs]
    input_files: dict[tuple[int, int], Path] = {}
    input_folders: dict[tuple[int, int], Path] = {}
    for given in files:
        identity = _identity(given)
        if identity is None:
            continue
        (input_folders if given.is_dir() else input_files)[identity] = given
    for target in map(Path, targets):
        if target.is_dir():
            raise ReviewDataError(f"the {what} would replace a folder; name a file instead",
                                  path=display_path(target))
        identity = _identity(target)
        if identity is not None and not os.access(target, os.W_OK):
            raise ReviewDataError(f"permission denied: the {what} file exists and is "
                                  "read-only; pick another name or make it writable",
                                  path=display_path(target))
        if identity is not None and identity in input_files:
            same = input_files[identity]
            link = "" if os.path.abspath(same) == os.path.abspath(target) else (
                f" (through a link: it is the same file as {display_path(same)})")
            raise ReviewDataError(
                f"the {what} is one of the inputs{link}; writing it would destroy the input. "
                "Pick another output name", path=display_path(target))
        for folder, inside in _ancestors(target):
            folder_id = _identity(folder)
            if folder_id is None or folder_id not in input_folders:
                continue
            root = input_folders[folder_id]
            if read_by_folder(inside):
                raise ReviewDataError(
                    f"the {what} would be written inside the input folder "
                    f"{display_path(root)}, which reads files like it as reviews; write it to "
                    "another folder", path=display_path(target))
    for folder in dict.fromkeys(Path(os.path.abspath(t)).parent for t in targets):
        check_writable_folder(folder, what)


def _nearest_existing(folder: Path) -> Path:
    current = folder
    while not current.exists() and current.parent != current:
        current = current.parent
    return current


def check_writable_folder(folder: Path, what: str = "output") -> None:
    """Prove the folder (or the nearest one that exists, where it would be created) takes a
    new file, by creating and removing one: permission bits, read-only mounts and full disks
    all show up here rather than after the work is done."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise ReviewDataError(f"cannot create the {what} folder: {display_path(existing)} is a "
                              "file, not a folder", path=display_path(folder))
    try:
        handle, probe = tempfile.mkstemp(prefix=".review-analyzer-write-check-", dir=existing)
    except OSError as error:
        raise output_error(error, folder, what) from None
    os.close(handle)
    os.unlink(probe)


def output_error(error: OSError, path: str | Path, what: str = "output") -> ReviewDataError:
    """The clear message for a write that the system refused."""
    shown = display_path(path)
    if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied: you cannot write here"
    elif error.errno == errno.EROFS:
        reason = "the file system is read-only"
    elif error.errno == errno.ENOSPC:
        reason = "the disk is full"
    else:
        reason = f"cannot write here ({error.strerror or error})"
    return ReviewDataError(f"{reason}; pick another folder for the {what}", path=shown)


def fallback_folder() -> Path:
    """Where finished work goes when its own folder refuses it: the home folder if it takes
    files, else the system's temporary folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for base in (Path.home(), Path(tempfile.gettempdir())):
        candidate = base / FALLBACK_FOLDER / stamp
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            check_writable_folder(candidate)
            return candidate
        except (OSError, ReviewDataError):
            continue
    return Path(tempfile.mkdtemp(prefix="review-analyzer-"))


def save_with_fallback(save: Callable[[Path], T], target: Path,
                       what: str = "model") -> tuple[T, str | None]:
    """``save(target)``; when the system refuses it, ``save`` into :func:`fallback_folder`.

    Returns the result and, after a fallback, a sentence saying what failed and where the
    work is now (None when the first try worked). A failure of the fallback too is raised
    as the clear message for the first one.
    """
    try:
        return save(target), None
    except OSError as error:
        first = output_error(error, target, what)
    except ReviewDataError as error:  # the folder refused the write check
        first = error
    rescue = fallback_folder() / target.name
    try:
        result = save(rescue)
    except (OSError, ReviewDataError):
        raise first from None
    return result, (f"could not save the {what} to {display_path(target)} "
                    f"({first.message.split(';')[0]}); it was saved to {display_path(rescue)} "
                    "instead")
