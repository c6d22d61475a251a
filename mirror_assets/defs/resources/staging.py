"""The local working folder and the settings that shape the output."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from mirror_assets.defs.partitions import PARTITION_TAG
from mirror_assets.state.staging import VersionStaging
from mirror_assets.state.version_lock import version_lock
from mirror_assets.transforms.duck import connect
from mirror_assets.transforms.layout import DatastoreLayout, choose_layout


class StagingArea(dg.ConfigurableResource):
    """The local working folder, and DuckDB connections bounded in memory that spill into it."""

    root: str
    duckdb_memory_limit: str = "400MB"
    duckdb_threads: int = 0

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[StagingArea]:
        """For a run of one version, hold that version's staging lock while the run executes,
        so a second run of it, from another process, stops at once naming this one."""
        run = context.run
        version = run.tags.get(PARTITION_TAG) if run else None
        with super().yield_for_execution(context) as staging:
            if not version:
                yield staging
                return
            with version_lock(self.version(version).root, f"run {run.run_id}"):
                yield staging

    def version(self, version: str) -> VersionStaging:
        return VersionStaging.of(self.root, version)

    def duckdb(self, version: str) -> duckdb.DuckDBPyConnection:
        return connect(self.duckdb_memory_limit, self.duckdb_threads, self.version(version).spill)


class MirrorSettings(dg.ConfigurableResource):
    """How datastores are reshaped and where their public URLs point."""

    public_base_url: str
    row_group_size: int = 10_000
    sort_column_count: int = 3
    single_file_max_records: int = 5000
    partitions: dict[str, list[str]] = {}

    def partition_columns(self, name: str) -> list[str]:
        """The partition table's columns for `name` (the datastore may lack some)."""
        return list(self.partitions.get(name, []))

    def layout(self, name: str, columns: Collection[str], rows: int) -> DatastoreLayout:
        """How datastore `name`, with `columns` and `rows` rows, is written."""
        return choose_layout(
            self.partition_columns(name), columns, rows, self.single_file_max_records
        )
