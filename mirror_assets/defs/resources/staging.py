"""The local working folder, as the `staging` resource: each run holds its version's lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from mirror_assets.config.settings import Settings
from mirror_assets.defs.partitions import PARTITION_TAG
from mirror_assets.state.staging import VersionStaging
from mirror_assets.state.version_lock import version_lock
from mirror_assets.transforms.duck import connect


class StagingArea:
    """The staging folder of `settings`, and DuckDB databases bounded in memory (the `[duckdb]`
    settings) that spill into it."""

    def __init__(self, settings: Settings):
        self.root = Path(settings.staging).resolve()
        self.settings = settings
        self._databases: dict[str, duckdb.DuckDBPyConnection] = {}
        self._lock = threading.Lock()

    def version(self, version: str) -> VersionStaging:
        return VersionStaging.of(self.root, version)

    def duckdb(self, version: str) -> duckdb.DuckDBPyConnection:
        """For light work (checks, the metacatalog): a connection (a cursor) of the database the
        run's steps share, opened once (opening one costs ~25 ms, a cursor nothing). Close the
        connection when done; the database stays until `close`."""
        with self._lock:
            database = self._databases.get(version)
            if database is None:
                database = self._databases[version] = self.stage_duckdb(version)
            return database.cursor()

    def stage_duckdb(self, version: str) -> duckdb.DuckDBPyConnection:
        """For a transform stage: a database of its own, so that whatever memory it held is
        given back when the stage closes it, before the next stage starts."""
        return connect(
            self.settings.duckdb_memory_limit,
            self.settings.duckdb_threads,
            self.version(version).spill,
        )

    def close(self, version: str) -> None:
        """Close `version`'s database, if open (the end of its run)."""
        with self._lock:
            database = self._databases.pop(version, None)
        if database is not None:
            database.close()


def staging_resource(settings: Settings) -> dg.ResourceDefinition:
    """The `staging` resource: the StagingArea of `settings`. For a run of one version, that
    version's staging lock is held while the run executes, so a second run of it, from another
    process, stops at once naming this one."""
    area = StagingArea(settings)

    @dg.resource(description=f"The staging folder {area.root} (DuckDB spills into it).")
    def staging(context: dg.InitResourceContext) -> Iterator[StagingArea]:
        run = context.run
        version = run.tags.get(PARTITION_TAG) if run else None
        if not version:
            yield area
            return
        with version_lock(area.version(version).root, f"run {run.run_id}"):
            try:
                yield area
            finally:
                area.close(version)

    return staging
