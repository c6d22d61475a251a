"""The local working folder and the settings that shape the output."""

from __future__ import annotations

import dagster as dg
import duckdb

from mirror_assets.lib.duck import connect
from mirror_assets.lib.staging import VersionStaging


class StagingArea(dg.ConfigurableResource):
    """The local working folder, and DuckDB connections bounded in memory that spill into it."""

    root: str
    duckdb_memory_limit: str = "400MB"
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
