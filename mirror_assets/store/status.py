"""What a destination has published, as its `versions.json` records it (no Dagster).

The bucket is the record: `mirror-catalog status` reads only `versions.json`, so it answers in one
request whatever the size of the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mirror_assets.state.versions import parse_version
from mirror_assets.store.bucket import Bucket
from mirror_assets.store.publish import read_versions_index

HEADERS = ("version", "hidden", "published", "datastores", "rows", "bytes", "state")
NUMERIC = {"datastores", "rows", "bytes"}


@dataclass(frozen=True)
class PublishedVersion:
    """One entry of `versions.json`."""

    version: str
    hidden: bool
    published: str
    datastores: int | None
    rows: int | None
    bytes: int | None
    promotable: bool

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> PublishedVersion:
        return cls(
            version=entry["version"],
            hidden=bool(entry.get("hidden")),
            published=str(entry.get("published") or ""),
            datastores=entry.get("datastores"),
            rows=entry.get("rows"),
            bytes=entry.get("bytes"),
            promotable=entry.get("promotable", True),
        )


@dataclass(frozen=True)
class DestinationStatus:
    """The published versions, newest first; the one at the root; the one being promoted."""

    versions: list[PublishedVersion]
    current: str | None
    promoting: str | None

    def state(self, version: PublishedVersion) -> str:
        """`current`, `promoting` (being copied to the root), `partial` (archived with failed
        datastores, not promoted for it) or empty."""
        states = []
        if version.version == self.current:
            states.append("current")
        if version.version == self.promoting:
            states.append("promoting")
        if not version.promotable:
            states.append("partial")
        return ", ".join(states)

    def rows(self) -> list[tuple[str, ...]]:
        """The table's rows, in `HEADERS` order, as text."""

        def number(value: int | None) -> str:
            return "" if value is None else str(value)

        return [
            (
                v.version,
                "yes" if v.hidden else "",
                v.published,
                number(v.datastores),
                number(v.rows),
                number(v.bytes),
                self.state(v),
            )
            for v in self.versions
        ]

    def summary(self) -> list[str]:
        """The lines under the table: which version the root holds, and an unfinished promotion."""
        if not self.versions:
            return ["no version published"]
        lines = [f"current: {self.current or 'none (no version promoted to the root)'}"]
        if self.promoting:
            lines.append(
                f"promoting: {self.promoting} is being copied to the root (current is still "
                f"{self.current or 'none'}); if no run is publishing it, re-run it to finish"
            )
        return lines


def destination_status(index: dict[str, Any]) -> DestinationStatus:
    """The status recorded by a `versions.json` document."""
    versions = [PublishedVersion.from_json(e) for e in index.get("versions", [])]
    versions.sort(key=lambda v: parse_version(v.version), reverse=True)
    return DestinationStatus(versions, index.get("current"), index.get("promoting"))


def read_status(bucket: Bucket) -> DestinationStatus:
    return destination_status(read_versions_index(bucket))
