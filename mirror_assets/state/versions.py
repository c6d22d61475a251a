"""Catalog version keys: `vYYYY-MM-DD`, or `.vYYYY-MM-DD` for a hidden version."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_VERSION_RE = re.compile(r"^(\.?)v(\d{4})-(\d{2})-(\d{2})$")
EXPECTED_FORM = "expected vYYYY-MM-DD (or .vYYYY-MM-DD for a hidden version), e.g. v2025-02-28"


class InvalidVersionError(ValueError):
    """A string that is not a catalog version key."""


@dataclass(frozen=True, order=True)
class CatalogVersion:
    """A parsed version key; sorts by date, then visible before hidden."""

    date: dt.date
    hidden: bool
    key: str

    @property
    def folder(self) -> str:
        return self.key


def parse_version(key: str) -> CatalogVersion:
    """Parse `key`, raising InvalidVersionError with the expected form when it is malformed."""
    match = _VERSION_RE.match(key)
    if not match:
        raise InvalidVersionError(f"invalid catalog version {key!r}: {EXPECTED_FORM}")
    dot, year, month, day = match.groups()
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise InvalidVersionError(
            f"invalid catalog version {key!r} ({exc}): {EXPECTED_FORM}"
        ) from None
    return CatalogVersion(date=date, hidden=bool(dot), key=key)


def is_version_key(name: str) -> bool:
    try:
        parse_version(name)
    except InvalidVersionError:
        return False
    return True


def newest_first(names: list[str] | set[str]) -> list[str]:
    """The version keys among `names`, newest first; other names are dropped."""
    versions = [parse_version(n) for n in names if is_version_key(n)]
    return [v.key for v in sorted(versions, reverse=True)]


def newest_visible(names: list[str] | set[str]) -> str | None:
    """The newest non-hidden version key among `names`, or None."""
    return next((k for k in newest_first(names) if not parse_version(k).hidden), None)
