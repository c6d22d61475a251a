"""Catalog sources as plain objects, chosen by location: a local folder or an SFTP server.

The code location hands `open_source(settings)` to the assets as the `catalog_source` resource;
`mirror-catalog fetch` and `list` (which must start fast, without Dagster) use it directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mirror_assets.config.settings import Settings
from mirror_assets.fetch.local import fetch_local_version, list_local_versions
from mirror_assets.fetch.plan import FetchReport
from mirror_assets.fetch.sftp.source import SftpSource
from mirror_assets.fetch.sftp.ssh_config import is_sftp_url, parse_sftp_url


class CatalogSource(Protocol):
    """Where catalog versions are read from: LocalSource or SftpSource."""

    def describe(self) -> str:
        """Where the source is, for messages (never includes secrets)."""
        ...

    def version_location(self, version: str) -> str:
        """The path or URL a version folder is looked for at."""
        ...

    def list_versions(self) -> list[str]:
        """Every version key at the source, newest first."""
        ...

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        """Bring the version's metacatalog and datastore pairs into `raw_dir`."""
        ...


class LocalSource:
    """Version folders in a local folder (the bundled sample catalog by default)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def version_location(self, version: str) -> str:
        return str(self.root / version)

    def list_versions(self) -> list[str]:
        return list_local_versions(self.root)

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        return fetch_local_version(self.root, version, raw_dir, only)


def open_source(settings: Settings) -> CatalogSource:
    """The configured source: `sftp://...`, or a local folder (the bundled sample when empty).
    The code location's `catalog_source` resource and the commands without Dagster alike."""
    if is_sftp_url(settings.source):
        return SftpSource(parse_sftp_url(settings.source), settings.sftp)
    return LocalSource(Path(settings.source_location).resolve())
