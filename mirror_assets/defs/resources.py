"""Resources for every outside edge: where versions come from, where they go, local staging."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg
import duckdb

from mirror_assets.lib.bucket import Bucket, LocalBucket
from mirror_assets.lib.duck import connect
from mirror_assets.lib.fetch_plan import FetchReport
from mirror_assets.lib.local_source import fetch_local_version, list_local_versions
from mirror_assets.lib.staging import VersionStaging


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


class ObjectStore(dg.ConfigurableResource, ABC):
    """Where the mirrored catalog is published."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for messages (never includes credentials)."""

    @abstractmethod
    def bucket(self) -> Bucket:
        """A client for the store's objects."""


class LocalObjectStore(ObjectStore):
    """A local folder laid out like the bucket (the embedded default: ./mirror-output)."""

    root: str

    def describe(self) -> str:
        return self.root

    def bucket(self) -> Bucket:
        return LocalBucket(self.root)


class StagingArea(dg.ConfigurableResource):
    """The local working folder, and DuckDB connections bounded in memory that spill into it."""

    root: str
    duckdb_memory_limit: str = "640MB"
    duckdb_threads: int = 0

    def version(self, version: str) -> VersionStaging:
        return VersionStaging.of(self.root, version)

    def duckdb(self, version: str) -> duckdb.DuckDBPyConnection:
        return connect(self.duckdb_memory_limit, self.duckdb_threads, self.version(version).spill)


class MirrorSettings(dg.ConfigurableResource):
    """How datastores are reshaped and where their public URLs point."""

    public_base_url: str
    row_group_size: int = 10_000
    sort_column_count: int = 3
    partitions: dict[str, list[str]] = {}

    def partition_columns(self, name: str) -> list[str]:
        return list(self.partitions.get(name, []))
