"""The one exception type a user can cause, with a message that says where and what to do."""

from __future__ import annotations


class ReviewDataError(Exception):
    """Bad input a user can fix: a file, a column, a setting or a model bundle.

    The GUI shows ``str(error)`` in a dialog and the CLI prints it and exits non-zero,
    so the message must name the file (and line or column when known) and the remedy.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = []
        if path:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if column:
            where.append(f"column '{column}'")
        self.message = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class BundleError(ReviewDataError):
    """A model bundle that is missing, damaged, or does not fit together."""


class TrainingError(ReviewDataError):
    """A training run that cannot start or cannot go on (one class, NaN loss, ...)."""
