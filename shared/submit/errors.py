"""The one error type of the submit language."""

from __future__ import annotations


class SubmitError(Exception):
    """A submit description that cannot be turned into jobs.

    ``str(err)`` is the message condor_submit prints after ``ERROR: ``; ``line`` is the
    1-based line of the description it is about (None when it is not about one line).
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line
