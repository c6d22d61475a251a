"""Where catalog versions are read from: a local folder (the embedded default) or SFTP."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg

from mirror_assets.lib.fetch_plan import FetchReport
from mirror_assets.lib.local_source import fetch_local_version, list_local_versions


class CatalogSource(dg.ConfigurableResource, ABC):
    """Where catalog versions are read from."""

    @abstractmethod
    def describe(self) -> str:
        """Where the source is, for messages (never includes secrets)."""

    @abstractmethod
    def version_location(self, version: str) -> str:
        """The path or URL a version folder is looked for at."""

    @abstractmethod
    def list_versions(self) -> list[str]:
        """Every version key at the source, newest first."""

    @abstractmethod
    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        """Bring the version's metacatalog and datastore pairs into `raw_dir`."""


class LocalCatalogSource(CatalogSource):
    """Versions in a local folder (the bundled sample catalog by default)."""

    root: str

    def describe(self) -> str:
        return self.root

    def version_location(self, version: str) -> str:
        return str(Path(self.root) / version)

    def list_versions(self) -> list[str]:
        return list_local_versions(Path(self.root))

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        return fetch_local_version(Path(self.root), version, raw_dir, only)
