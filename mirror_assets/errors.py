"""Errors that carry a one-line, user-facing message naming the file and the cause."""

from __future__ import annotations

from pathlib import Path


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, prefixed with its type when the message is bare."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


class MirrorError(Exception):
    """Base class: `str(err)` is a single line naming the file and the cause."""

    def __init__(self, file: str | Path, cause: str):
        self.file = str(file)
        self.cause = " ".join(cause.split())
        super().__init__(f"{self.file}: {self.cause}")


class DatastoreError(MirrorError):
    """One datastore cannot be processed; the others carry on."""


class VersionError(MirrorError):
    """The whole version cannot be processed (e.g. its metacatalog is missing or malformed)."""
